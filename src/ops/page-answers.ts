// Owns the status page's three answers at a glance: is it flowing (Traffic), is it healthy
// (Health: every problem named), is the backlog draining (Backlog). Does not own the detail cards.

import { escapeHtml as esc } from './charts';
import { formatBytes, formatCount, formatDuration, perSecond } from './format';
import { serviceParts } from './gateway-status';
import { dropLabel, stateTone } from './labels';
import { latest, slopePerMinute, totalOver, WORSE, type Tone, type View } from './page-view';
import { SeriesName } from './status-sampler';
import type { GatewayStatus } from './status-types';

function tile(id: string, title: string, tone: Tone, answer: string, body: string): string {
  return `<section class="tile ${tone}" data-tile="${id}" data-tone="${tone}"><h2>${esc(title)}</h2><p class="answer">${esc(answer)}</p>${body}</section>`;
}

export function flowingTile(st: GatewayStatus, v: View): string {
  const inRate = latest(v, SeriesName.messagesIn);
  const outRate = latest(v, SeriesName.messagesOut);
  if (inRate === null || outRate === null) {
    return tile('flowing', 'Traffic', 'off', 'Measuring…', `<p class="muted small">Rates appear after the second sample.</p>`);
  }
  const lastMinute = totalOver(v, SeriesName.messagesIn, 60_000) + totalOver(v, SeriesName.messagesOut, 60_000);
  const flowing = lastMinute > 0 || inRate + outRate > 0;
  const bridges = (st.bridges ?? [])
    .map((b) => {
      const i = latest(v, SeriesName.bridgeIn(b.name));
      const o = latest(v, SeriesName.bridgeOut(b.name));
      return i === null ? '' : `<li>${esc(b.name)}: ${esc(perSecond(i ?? 0))} in, ${esc(perSecond(o ?? 0))} out</li>`;
    })
    .join('');
  return tile(
    'flowing',
    'Traffic',
    flowing ? 'ok' : 'off',
    flowing ? 'Flowing' : 'Idle',
    `<p><b data-field="rate-in">${esc(perSecond(inRate))}</b> in · <b data-field="rate-out">${esc(perSecond(outRate))}</b> out</p>${bridges ? `<ul class="small">${bridges}</ul>` : ''}`,
  );
}

export function healthTile(st: GatewayStatus, v: View): string {
  const problems: Array<[Tone, string]> = [];
  if (st.ready === false) problems.push(['bad', 'Gateway is starting or stopping']);
  // A bridge or another part that is neither up nor stopped, and for how long.
  const down = (what: string, p: { state: string; since?: number | null }): void => {
    const tone = stateTone(p.state);
    if (tone === 'ok' || tone === 'off') return;
    const d = typeof p.since === 'number' && p.since > 0 ? ` for ${formatDuration((v.now - p.since) / 1000)}` : '';
    problems.push([tone, `${what} ${p.state}${d}`]);
  };
  for (const b of st.bridges ?? []) down(`Bridge ${b.name}`, b);
  for (const p of serviceParts(st)) down(p.name, p);
  const u = st.uplink;
  if (u && stateTone(u.state) !== 'ok' && u.state !== 'stopped') {
    const d = typeof u.since === 'number' && u.since > 0 ? ` for ${formatDuration((v.now - u.since) / 1000)}` : '';
    problems.push([u.state === 'connecting' ? 'warn' : 'bad', `Uplink ${u.state}${d}`]);
  }
  const dropped = Object.keys(v.s?.values ?? {})
    .filter((k) => k.startsWith('dropped.'))
    .map((k) => [k.slice('dropped.'.length), Math.round(totalOver(v, k, 300_000))] as const)
    .filter(([, n]) => n > 0);
  for (const [reason, n] of dropped) problems.push(['warn', `${formatCount(n)} dropped in the last 5 min: ${dropLabel(reason)}`]);
  const h = st.health;
  if (h) {
    const t = h.cpu.temperatureC;
    if (t !== null && t >= 80) problems.push(['bad', `CPU at ${t.toFixed(0)} °C`]);
    else if (t !== null && t >= 70) problems.push(['warn', `CPU at ${t.toFixed(0)} °C`]);
    const th = h.throttled;
    if (th && (th.underVoltageNow || th.throttledNow))
      problems.push(['bad', th.underVoltageNow ? 'Under-voltage now: check the power supply' : 'CPU throttled now']);
    else if (th && th.underVoltageOccurred) problems.push(['warn', 'Under-voltage happened since boot']);
    const m = h.memory;
    if (m.totalBytes && m.availableBytes !== null && m.availableBytes / m.totalBytes < 0.1) {
      problems.push(['warn', `Memory low: ${formatBytes(m.availableBytes)} free`]);
    }
    if (h.disk && h.disk.usedRatio > 0.9) problems.push(['warn', `Disk ${(h.disk.usedRatio * 100).toFixed(0)}% full`]);
  }
  if (problems.length === 0) return tile('healthy', 'Health', 'ok', 'All good', `<p class="muted small">Links up, nothing dropped in the last 5 min.</p>`);
  const tone = problems.reduce<Tone>((w, [t]) => (WORSE[t] > WORSE[w] ? t : w), 'ok');
  const list = problems.map(([t, text]) => `<li class="${t === 'bad' ? 'err' : ''}">${esc(text)}</li>`).join('');
  return tile('healthy', 'Health', tone, problems.length === 1 ? '1 problem' : `${problems.length} problems`, `<ul class="small">${list}</ul>`);
}

export function backlogTile(st: GatewayStatus, v: View): string {
  const u = st.uplink;
  if (!u || !u.buffer) return tile('backlog', 'Backlog', 'off', 'No uplink', `<p class="muted small">Nothing is buffered for a cloud router.</p>`);
  const depth = u.buffer.depth;
  // The last minute only: a backlog that grew during an outage and drains since the link came
  // back is draining, whatever it did five minutes ago.
  const slope = slopePerMinute(v, SeriesName.uplinkBacklog, 60_000);
  const replay =
    u.replay && u.replay.active && u.replay.backlogAtStart > 0
      ? `<p class="small">Replaying: ${esc(formatCount(u.replay.acked))} of ${esc(formatCount(u.replay.backlogAtStart))} sent</p>`
      : '';
  const online = stateTone(u.state) === 'ok';
  if (depth === 0) return tile('backlog', 'Backlog', 'ok', 'Empty', `<p class="muted small">Every event reached the cloud.</p>${replay}`);
  let answer: string;
  let tone: Tone;
  let detail = `<p><b data-field="backlog-depth">${esc(formatCount(depth))}</b> waiting (${esc(formatBytes(u.buffer.bytes))})`;
  if (u.buffer.oldestAgeSeconds !== null) detail += `, oldest ${esc(formatDuration(u.buffer.oldestAgeSeconds))}`;
  detail += '</p>';
  if (slope !== null && slope < -0.5) {
    answer = 'Draining';
    tone = 'ok';
    const eta = depth / -slope;
    detail += `<p class="small">${esc(formatCount(-slope))}/min; empty in about ${esc(formatDuration(eta * 60))}</p>`;
  } else if (slope !== null && slope > 0.5) {
    answer = 'Growing';
    tone = online ? 'warn' : 'bad';
    detail += `<p class="small">+${esc(formatCount(slope))}/min${online ? '' : ' while the uplink is ' + esc(u.state)}</p>`;
  } else {
    answer = online ? 'Steady' : 'Waiting for the link';
    tone = online ? 'ok' : 'warn';
  }
  return tile('backlog', 'Backlog', tone, answer, detail + replay);
}
