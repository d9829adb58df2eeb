// Owns the status page: HTML rendered on the server from a GatewayStatus (with the sampled last
// hour), built to answer three questions at a glance — is it flowing, is it healthy, is the
// backlog draining — then the detail cards with their charts. Does not own serving it
// (status-server.ts) nor the charts' drawing (charts.ts). Every text from the status goes through
// escapeHtml: authids, error texts and peer addresses come from clients and remote peers.
// The one inline script only refetches this page and swaps its content (allowed by its CSP hash);
// without it the page is complete and a <noscript> meta refresh reloads it.

import { createHash } from 'node:crypto';
import { clock, escapeHtml as esc, lineChart, stateStrip } from './charts';
import { counterLabel, dropLabel, isTroubleCounter, stateTone } from './labels';
import type { SeriesSnapshot, StateChange } from './series';
import { SeriesName, StateKey } from './status-sampler';
import { serviceParts } from './gateway-status';
import type { BridgeStatus, GatewayStatus, UplinkStatus } from './status-types';

// Plain ES5 so older phone browsers run it. Parsed HTML from our own server replaces the two
// dynamic regions; nothing is built from JSON here.
const SCRIPT = `
(function () {
  'use strict';
  var ms = Number(document.body.getAttribute('data-refresh-ms')) || 10000;
  function tick() {
    fetch(location.pathname, { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        ['hdr', 'app'].forEach(function (id) {
          var fresh = doc.getElementById(id), old = document.getElementById(id);
          if (fresh && old) old.parentNode.replaceChild(document.importNode(fresh, true), old);
        });
      })
      .catch(function (err) {
        var s = document.getElementById('stamp');
        if (s) { s.textContent = 'Cannot reach the gateway (' + err.message + '); the data below is from ' + s.getAttribute('data-at') + '; retrying'; s.className = 'stale'; }
      })
      .then(function () { setTimeout(tick, ms); });
  }
  setTimeout(tick, ms);
})();
`;

const STYLE = `
:root { color-scheme: light dark; --bg: #f4f5f7; --card: #fff; --fg: #1d2330; --muted: #626b78; --line: #e3e6eb;
  --ok: #12805c; --okbg: #e3f6ee; --warn: #8a5a00; --warnbg: #fff3d6; --bad: #b42318; --badbg: #fde8e6; --off: #6b7280; --offbg: #eceef1;
  --c0: #2563eb; --c1: #d97706; --c2: #7c3aed; --c3: #db2777; }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --card: #1b2027; --fg: #e6e9ee; --muted: #9aa3af; --line: #2b323c;
  --okbg: #123a2b; --ok: #6fd3a8; --warnbg: #3d3113; --warn: #f0c66b; --badbg: #45201d; --bad: #ff9b91; --offbg: #2a2f37; --off: #9aa3af;
  --c0: #60a5fa; --c1: #fbbf24; --c2: #a78bfa; --c3: #f472b6; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem .8rem; padding: .8rem 1rem 0; }
header h1 { margin: 0; font-size: 1.3rem; }
main { padding: .8rem 1rem 1.5rem; }
.verdict { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 250px), 1fr)); gap: .8rem; margin-bottom: .8rem; }
.tile { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--off); border-radius: 10px; padding: .7rem .9rem; min-width: 0; }
.tile.ok { border-left-color: var(--ok); } .tile.warn { border-left-color: var(--warn); } .tile.bad { border-left-color: var(--bad); }
.tile h2 { margin: 0; font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.tile .answer { font-size: 1.45rem; font-weight: 650; margin: .1rem 0; line-height: 1.2; }
.tile.ok .answer { color: var(--ok); } .tile.warn .answer { color: var(--warn); } .tile.bad .answer { color: var(--bad); }
.tile ul { margin: .2rem 0 0; padding-left: 1.1rem; } .tile p { margin: .1rem 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 400px), 1fr)); gap: .8rem; align-items: start; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .8rem .9rem; min-width: 0; }
.card h2 { margin: 0 0 .4rem; font-size: .85rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.card h3 { margin: .9rem 0 .3rem; font-size: 1rem; display: flex; flex-wrap: wrap; align-items: baseline; gap: .2rem .5rem; }
.sub { border-top: 1px solid var(--line); margin-top: .7rem; padding-top: .1rem; }
.big { font-size: 2.2rem; font-weight: 650; margin: 0; line-height: 1.1; }
.kv { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem .8rem; margin: .4rem 0; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; overflow-wrap: anywhere; }
.counters { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: .2rem .8rem; margin: .4rem 0; font-size: .9rem; }
.counters div { display: flex; justify-content: space-between; gap: .5rem; border-bottom: 1px dotted var(--line); min-width: 0; }
.counters span { color: var(--muted); overflow-wrap: anywhere; } .counters b { font-weight: 600; }
.counters .zero b { color: var(--muted); font-weight: 400; } .counters .trouble b { color: var(--bad); }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin-top: .3rem; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .5rem .25rem 0; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 500; } td.n, th.n { text-align: right; }
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .85rem; font-weight: 650; white-space: nowrap; }
.b-ok { background: var(--okbg); color: var(--ok); } .b-warn { background: var(--warnbg); color: var(--warn); }
.b-bad { background: var(--badbg); color: var(--bad); } .b-off { background: var(--offbg); color: var(--off); }
.muted { color: var(--muted); } .small { font-size: .85rem; font-weight: 400; } .stale { color: var(--bad); font-weight: 650; }
.err { color: var(--bad); overflow-wrap: anywhere; font-size: .9rem; margin: .3rem 0; }
.chart { margin: .5rem 0 .2rem; }
.legend { display: flex; flex-wrap: wrap; gap: .1rem .9rem; font-size: .85rem; color: var(--muted); }
.legend b { color: var(--fg); font-weight: 650; }
.sw { display: inline-block; width: .8rem; height: .25rem; border-radius: 2px; vertical-align: middle; margin-right: .3rem; }
.plot { position: relative; }
.plot svg { display: block; width: 100%; height: 70px; background: linear-gradient(var(--bg), var(--bg)) bottom / 100% 1px no-repeat; }
.ytop { position: absolute; top: 0; right: 0; font-size: .7rem; color: var(--muted); background: var(--card); padding: 0 .2rem; line-height: 1.1; }
.nodata { height: 70px; display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: .85rem; border: 1px dashed var(--line); border-radius: 6px; }
.grid { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
.line { fill: none; stroke-width: 2; stroke-linejoin: round; vector-effect: non-scaling-stroke; }
.c0 { stroke: var(--c0); background: var(--c0); } .c1 { stroke: var(--c1); background: var(--c1); }
.c2 { stroke: var(--c2); background: var(--c2); } .c3 { stroke: var(--c3); background: var(--c3); }
.strip { display: block; width: 100%; height: 8px; margin-top: 2px; border-radius: 2px; }
.st-ok { fill: var(--ok); } .st-warn { fill: var(--warn); } .st-bad { fill: var(--bad); } .st-off { fill: var(--off); }
.axis { display: flex; justify-content: space-between; font-size: .7rem; color: var(--muted); }
.bar { height: .5rem; background: var(--offbg); border-radius: 999px; overflow: hidden; margin: .3rem 0; }
.bar i { display: block; height: 100%; background: var(--ok); }
details { margin-top: .5rem; } summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
`;

/** For the Content-Security-Policy: only this exact inline script may run. */
export const STATUS_PAGE_SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;

type Tone = 'ok' | 'warn' | 'bad' | 'off';
const WORSE: Record<Tone, number> = { off: 0, ok: 1, warn: 2, bad: 3 };

// ---- number and time formats ------------------------------------------------------------------

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  // "10k", not "10.0k": one decimal only where it says something.
  const short = (x: number, unit: string): string => `${x >= 10 ? Math.round(x) : Number(x.toFixed(1))}${unit}`;
  if (a >= 1e9) return short(n / 1e9, 'G');
  if (a >= 1e6) return short(n / 1e6, 'M');
  if (a >= 1e4) return short(n / 1e3, 'k');
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return a >= 10 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

export function formatBytes(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const perSecond = (v: number): string => `${formatCount(v)}/s`;
const perMinute = (v: number): string => `${formatCount(v)}/min`;

function badge(state: string, tone: Tone = stateTone(state)): string {
  return `<span class="badge b-${tone}">${esc(state)}</span>`;
}

/** "connected since 12:04 (for 10 min)" */
function since(at: number | null | undefined, now: number): string {
  if (typeof at !== 'number' || at <= 0) return '';
  return `<span class="muted small" data-since="${at}">since ${clock(at)} (${formatDuration((now - at) / 1000)})</span>`;
}

// ---- reading the series -----------------------------------------------------------------------

interface View {
  s: SeriesSnapshot | undefined;
  now: number;
  start: number;
}

function values(v: View, name: string): Array<number | null> {
  return v.s?.values[name] ?? [];
}

/** Latest value of a series within two steps of its last sample, else null. */
function latest(v: View, name: string): number | null {
  const vals = values(v, name);
  for (let i = vals.length - 1; i >= 0; i--) if (vals[i] !== null && vals[i] !== undefined) return vals[i] as number;
  return null;
}

/** Sum over the last `ms` of a per-second rate series: how many events that was. */
function totalOver(v: View, name: string, ms: number): number {
  const s = v.s;
  if (!s) return 0;
  const vals = s.values[name] ?? [];
  let n = 0;
  for (let i = 1; i < s.t.length; i++) {
    const t = s.t[i] as number;
    const x = vals[i];
    if (t < v.now - ms || x === null || x === undefined) continue;
    n += (x * (t - (s.t[i - 1] as number))) / 1000;
  }
  return n;
}

/** Change per minute of a gauge over the last `ms` (first and last sample in it); null if unknown. */
function slopePerMinute(v: View, name: string, ms: number): number | null {
  const s = v.s;
  if (!s) return null;
  const vals = s.values[name] ?? [];
  let first: [number, number] | null = null;
  let last: [number, number] | null = null;
  for (let i = 0; i < s.t.length; i++) {
    const t = s.t[i] as number;
    const x = vals[i];
    if (t < v.now - ms || x === null || x === undefined) continue;
    first ??= [t, x];
    last = [t, x];
  }
  if (!first || !last || last[0] - first[0] < 5_000) return null;
  return ((last[1] - first[1]) / (last[0] - first[0])) * 60_000;
}

function chart(v: View, o: Omit<Parameters<typeof lineChart>[0], 't' | 'start' | 'end' | 'stepMs'>): string {
  return lineChart({ ...o, t: v.s?.t ?? [], start: v.start, end: v.now, stepMs: v.s?.stepMs ?? 10_000 });
}

// ---- the three answers ------------------------------------------------------------------------

function tile(id: string, title: string, tone: Tone, answer: string, body: string): string {
  return `<section class="tile ${tone}" data-tile="${id}" data-tone="${tone}"><h2>${esc(title)}</h2><p class="answer">${esc(answer)}</p>${body}</section>`;
}

function flowingTile(st: GatewayStatus, v: View): string {
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

function healthTile(st: GatewayStatus, v: View): string {
  const problems: Array<[Tone, string]> = [];
  if (st.ready === false) problems.push(['bad', 'Gateway is starting or stopping']);
  for (const b of st.bridges ?? []) {
    const tone = stateTone(b.state);
    if (tone === 'ok' || tone === 'off') continue;
    const d = typeof b.since === 'number' && b.since > 0 ? ` for ${formatDuration((v.now - b.since) / 1000)}` : '';
    problems.push([tone, `Bridge ${b.name} ${b.state}${d}`]);
  }
  for (const p of serviceParts(st)) {
    const tone = stateTone(p.state);
    if (tone === 'ok' || tone === 'off') continue;
    const d = typeof p.since === 'number' && p.since > 0 ? ` for ${formatDuration((v.now - p.since) / 1000)}` : '';
    problems.push([tone, `${p.name} ${p.state}${d}`]);
  }
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

function backlogTile(st: GatewayStatus, v: View): string {
  const u = st.uplink;
  if (!u || !u.buffer) return tile('backlog', 'Backlog', 'off', 'No uplink', `<p class="muted small">Nothing is buffered for a cloud router.</p>`);
  const depth = u.buffer.depth;
  const slope = slopePerMinute(v, SeriesName.uplinkBacklog, 300_000);
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

// ---- detail cards -----------------------------------------------------------------------------

function trafficCard(st: GatewayStatus, v: View): string {
  const r = st.router;
  if (!r) return '';
  let html = `<section class="card" data-card="messages"><h2>Messages</h2>`;
  html += chart(v, {
    id: 'messages',
    title: 'Messages per second',
    lines: [
      { key: SeriesName.messagesIn, label: 'In', values: values(v, SeriesName.messagesIn) },
      { key: SeriesName.messagesOut, label: 'Out', values: values(v, SeriesName.messagesOut) },
    ],
    format: perSecond,
    empty: 'Rates appear after the second sample',
  });
  const dropKeys = Object.keys(v.s?.values ?? {}).filter((k) => k.startsWith('dropped.') && values(v, k).some((x) => x !== null && x > 0));
  if (dropKeys.length > 0) {
    html += `<h3>Dropped</h3>`;
    html += chart(v, {
      id: 'dropped',
      title: 'Dropped per minute, by reason',
      lines: dropKeys.map((k) => ({ key: k, label: dropLabel(k.slice('dropped.'.length)), values: values(v, k).map((x) => (x === null ? null : x * 60)) })),
      format: perMinute,
    });
  } else {
    html += `<p class="muted small" data-field="no-drops">Nothing dropped in the last hour.</p>`;
  }
  const totals = Object.entries(r.drops ?? {}).filter(([, n]) => n > 0);
  if (totals.length > 0) {
    html += `<div class="counters">${totals.map(([k, n]) => `<div class="trouble"><span>${esc(dropLabel(k))}</span><b>${esc(formatCount(n))}</b></div>`).join('')}</div>`;
    html += `<p class="muted small">Dropped since the router started.</p>`;
  }
  const closed = Object.entries(r.connectionsClosed ?? {}).filter(([, n]) => n > 0);
  if (closed.length > 0) {
    html += `<h3>Connections closed by the router</h3><div class="counters">${closed.map(([k, n]) => `<div class="trouble" data-counter="${esc(k)}"><span>${esc(dropLabel(k))}</span><b>${esc(formatCount(n))}</b></div>`).join('')}</div>`;
  }
  const types = new Map<string, [number, number]>();
  for (const [t, n] of Object.entries(r.messagesIn ?? {})) types.set(t, [n ?? 0, 0]);
  for (const [t, n] of Object.entries(r.messagesOut ?? {})) types.set(t, [types.get(t)?.[0] ?? 0, n ?? 0]);
  if (types.size > 0) {
    const rows = [...types]
      .map(([t, [i, o]]) => `<tr><td>${esc(t)}</td><td class="n">${esc(formatCount(i))}</td><td class="n">${esc(formatCount(o))}</td></tr>`)
      .join('');
    html += `<details><summary>By message type, since start</summary><table><thead><tr><th>Type</th><th class="n">In</th><th class="n">Out</th></tr></thead><tbody>${rows}</tbody></table></details>`;
  }
  return html + '</section>';
}

function sessionsCard(st: GatewayStatus, v: View): string {
  const r = st.router;
  if (!r) return '';
  let total = 0;
  const realmRows = r.realms
    .map((realm) => {
      let n = 0;
      const parts: string[] = [];
      for (const [t, c] of Object.entries(realm.sessions)) {
        n += c ?? 0;
        parts.push(`${t} ${c ?? 0}`);
      }
      total += n;
      return `<tr><td>${esc(realm.name)}</td><td class="n">${n}</td><td>${esc(parts.join(', ') || '–')}</td></tr>`;
    })
    .join('');
  let html = `<section class="card" data-card="sessions"><h2>Sessions</h2><p class="big" data-field="session-count">${total}</p>`;
  html += `<p class="muted small">Router up ${esc(formatDuration(r.uptimeSeconds))}</p>`;
  html += chart(v, {
    id: 'sessions',
    title: 'Sessions',
    lines: [{ key: SeriesName.sessions, label: 'Sessions', values: values(v, SeriesName.sessions) }],
    format: formatCount,
    minTop: 5,
  });
  html += `<table><thead><tr><th>Realm</th><th class="n">Sessions</th><th>By transport</th></tr></thead><tbody>${realmRows}</tbody></table>`;
  if (st.listeners && st.listeners.length > 0) {
    const rows = st.listeners
      .map((l) => `<tr><td>${esc(l.name)}<br><span class="muted small">${esc(l.address)}</span></td><td class="n">${l.sessions}</td></tr>`)
      .join('');
    html += `<table><thead><tr><th>Listener</th><th class="n">Sessions</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
  return html + '</section>';
}

function counterGrid(counters: Record<string, number> | undefined): string {
  const entries = Object.entries(counters ?? {});
  if (entries.length === 0) return '';
  // Non-zero first, so what happened is on top; zeros stay visible but dim.
  entries.sort((a, b) => Number(b[1] !== 0) - Number(a[1] !== 0));
  return `<div class="counters">${entries
    .map(([k, n]) => {
      const cls = n === 0 ? 'zero' : isTroubleCounter(k) ? 'trouble' : '';
      return `<div class="${cls}" data-counter="${esc(k)}"><span>${esc(counterLabel(k))}</span><b>${esc(formatCount(n))}</b></div>`;
    })
    .join('')}</div>`;
}

/** A part's current values (the event history's rows and bytes…); names ending in "bytes" as sizes. */
function gaugeList(gauges: Record<string, number> | undefined): string {
  const entries = Object.entries(gauges ?? {});
  if (entries.length === 0) return '';
  return `<dl class="kv">${entries
    .map(([k, n]) => `<dt>${esc(counterLabel(k))}</dt><dd data-gauge="${esc(k)}">${esc(/bytes$/i.test(k) ? formatBytes(n) : formatCount(n))}</dd>`)
    .join('')}</dl>`;
}

function bridgeBlock(b: BridgeStatus, v: View): string {
  let html = `<div class="sub" data-bridge="${esc(b.name)}"><h3>${esc(b.name)} <span class="muted small">${esc(b.kind)}</span> ${badge(b.state)} ${since(b.since, v.now)}</h3>`;
  if (b.lastError) html += `<p class="err">Last error: ${esc(b.lastError)}</p>`;
  html += chart(v, {
    id: `bridge-${b.name}`,
    title: `${b.name} messages per second`,
    lines: [
      { key: SeriesName.bridgeIn(b.name), label: 'From devices', values: values(v, SeriesName.bridgeIn(b.name)) },
      { key: SeriesName.bridgeOut(b.name), label: 'To devices', values: values(v, SeriesName.bridgeOut(b.name)) },
    ],
    format: perSecond,
    states: v.s?.states[StateKey.bridge(b.name)] ?? [],
  });
  return html + counterGrid(b.counters) + '</div>';
}

function bridgesCard(st: GatewayStatus, v: View): string {
  if (!st.bridges) return '';
  const body = st.bridges.length === 0 ? `<p class="muted">No bridges configured.</p>` : st.bridges.map((b) => bridgeBlock(b, v)).join('');
  return `<section class="card" data-card="bridges"><h2>Bridges</h2>${body}</section>`;
}

/** Every part that is neither a bridge nor the uplink: its state, last error and counters, whatever its kind. */
function partsCard(st: GatewayStatus, v: View): string {
  const parts = serviceParts(st);
  if (parts.length === 0) return '';
  const body = parts
    .map((p) => {
      let html = `<div class="sub" data-part="${esc(p.name)}"><h3>${esc(p.name)} <span class="muted small">${esc(p.kind)}</span> ${badge(p.state)} ${since(p.since, v.now)}</h3>`;
      if (p.lastError) html += `<p class="err">Last error: ${esc(p.lastError)}</p>`;
      return html + gaugeList(p.gauges) + counterGrid(p.counters) + '</div>';
    })
    .join('');
  return `<section class="card" data-card="parts"><h2>Other parts</h2>${body}</section>`;
}

function uplinkCard(u: UplinkStatus | undefined, v: View): string {
  if (!u) return '';
  let html = `<section class="card" data-card="uplink"><h2>Uplink</h2>`;
  html += `<p><span data-field="uplink-state">${badge(u.state)}</span> ${since(u.since, v.now)}</p>`;
  const changes: readonly StateChange[] = v.s?.states[StateKey.uplink] ?? [];
  const strip = stateStrip(changes, v.start, v.now);
  if (strip) html += `${strip}<div class="axis"><span>link state, last hour</span><span>now</span></div>`;
  html += `<dl class="kv">${u.url ? `<dt>Cloud</dt><dd>${esc(u.url)}</dd>` : ''}${u.realm ? `<dt>Realm</dt><dd>${esc(u.realm)}</dd>` : ''}</dl>`;
  if (u.lastError) html += `<p class="err">Last error: ${esc(u.lastError)}</p>`;
  const b = u.buffer;
  if (b) {
    html += `<h3>Backlog</h3>`;
    html += chart(v, {
      id: 'backlog',
      title: 'Messages waiting for the cloud',
      lines: [{ key: SeriesName.uplinkBacklog, label: 'Waiting', values: values(v, SeriesName.uplinkBacklog) }],
      format: formatCount,
      minTop: 10,
    });
    html += chart(v, {
      id: 'replayed',
      title: 'Backlog messages sent per second',
      lines: [{ key: SeriesName.uplinkReplayed, label: 'Replayed', values: values(v, SeriesName.uplinkReplayed) }],
      format: perSecond,
    });
    if (u.replay && u.replay.backlogAtStart > 0) {
      const pct = Math.min(100, (u.replay.acked / u.replay.backlogAtStart) * 100);
      html += `<p class="small">${u.replay.active ? 'Replaying' : 'Replayed'} ${esc(formatCount(u.replay.acked))} of ${esc(formatCount(u.replay.backlogAtStart))} buffered when the link came up</p><div class="bar" data-field="replay-progress" data-pct="${pct.toFixed(0)}"><i style="width:${pct.toFixed(1)}%"></i></div>`;
    }
    html += `<dl class="kv"><dt>Waiting</dt><dd data-field="buffer-depth">${esc(formatCount(b.depth))} msg</dd><dt>Size</dt><dd>${esc(formatBytes(b.bytes))}${b.capacityBytes ? ` of ${esc(formatBytes(b.capacityBytes))}` : ''}</dd><dt>Oldest</dt><dd>${b.oldestAgeSeconds === null ? 'empty' : esc(formatDuration(b.oldestAgeSeconds))}</dd><dt>Dropped</dt><dd>${esc(formatCount(b.drops))}</dd><dt>Dead letters</dt><dd data-field="dead-letters">${esc(formatCount(b.deadLetters?.count ?? 0))}</dd></dl>`;
  }
  return html + '</section>';
}

function boardCard(st: GatewayStatus, v: View): string {
  const h = st.health;
  if (!h) return '';
  let html = `<section class="card" data-card="board"><h2>Board</h2>`;
  const model = h.board.model ?? h.board.cpuBrand ?? h.board.arch;
  html += `<p class="small muted">${esc([model, h.board.os, `Node ${h.board.nodeVersion}`].filter(Boolean).join(' · '))}, up ${esc(formatDuration(h.uptimeSeconds))}</p>`;
  html += chart(v, {
    id: 'cpu',
    title: 'CPU load in percent',
    lines: [{ key: SeriesName.cpu, label: 'CPU', values: values(v, SeriesName.cpu) }],
    format: (x) => `${x.toFixed(0)}%`,
    top: 100,
  });
  if (h.cpu.temperatureC !== null || values(v, SeriesName.temperature).some((x) => x !== null)) {
    html += chart(v, {
      id: 'temperature',
      title: 'CPU temperature',
      lines: [{ key: SeriesName.temperature, label: 'Temperature', values: values(v, SeriesName.temperature) }],
      format: (x) => `${x.toFixed(0)} °C`,
      minTop: 50,
    });
  }
  html += chart(v, {
    id: 'memory',
    title: 'Memory in use',
    lines: [
      { key: SeriesName.memoryUsed, label: 'Board in use', values: values(v, SeriesName.memoryUsed) },
      { key: SeriesName.rss, label: 'wampgate', values: values(v, SeriesName.rss) },
    ],
    format: formatBytes,
    ...(h.memory.totalBytes ? { top: h.memory.totalBytes } : {}),
  });
  const t = h.throttled;
  let throttle = '';
  if (t) {
    const now: string[] = [];
    const ever: string[] = [];
    if (t.underVoltageNow) now.push('under-voltage');
    if (t.frequencyCappedNow) now.push('frequency capped');
    if (t.throttledNow) now.push('throttled');
    if (t.softTempLimitNow) now.push('soft temperature limit');
    if (t.underVoltageOccurred) ever.push('under-voltage');
    if (t.frequencyCappedOccurred) ever.push('frequency capped');
    if (t.throttledOccurred) ever.push('throttled');
    if (t.softTempLimitOccurred) ever.push('soft temperature limit');
    throttle =
      (now.length ? badge(`now: ${now.join(', ')}`, 'bad') : '') +
      (ever.length ? ` ${badge(`since boot: ${ever.join(', ')}`, 'warn')}` : '') +
      (!now.length && !ever.length ? badge('none', 'ok') : '');
  }
  const m = h.memory;
  const disk = h.disk;
  html += `<dl class="kv">`;
  html += `<dt>CPU</dt><dd>load ${[h.cpu.load1, h.cpu.load5, h.cpu.load15].map((x) => x.toFixed(2)).join(' ')} (${h.board.cpuCores} cores)</dd>`;
  if (throttle) html += `<dt>Throttling</dt><dd>${throttle}</dd>`;
  html += `<dt>Memory</dt><dd>${esc(formatBytes(m.availableBytes))} free of ${esc(formatBytes(m.totalBytes))}</dd>`;
  if (m.swapTotalBytes) html += `<dt>Swap</dt><dd>${esc(formatBytes(m.swapUsedBytes))} used of ${esc(formatBytes(m.swapTotalBytes))}</dd>`;
  if (disk)
    html += `<dt>Disk</dt><dd>${esc(formatBytes(disk.availableBytes))} free of ${esc(formatBytes(disk.totalBytes))} (${(disk.usedRatio * 100).toFixed(0)}% used)<br><span class="muted small">${esc(disk.path)}</span></dd>`;
  html += `<dt>wampgate</dt><dd>${esc(formatBytes(h.process.rssBytes))} RSS, heap ${esc(formatBytes(h.process.heapUsedBytes))}${h.process.cpuUsage !== null ? `, CPU ${(h.process.cpuUsage * 100).toFixed(0)}%` : ''}</dd>`;
  html += `</dl>`;
  if (h.network.length > 0) {
    const rows = h.network
      .map(
        (n) =>
          `<tr><td>${esc(n.name)}<br><span class="muted small">${esc(n.ip4 ?? '')}</span></td><td>${badge(n.up ? 'up' : 'down', n.up ? 'ok' : 'bad')}</td><td class="n">${esc(formatBytes(n.rxBytes))}</td><td class="n">${esc(formatBytes(n.txBytes))}</td></tr>`,
      )
      .join('');
    html += `<table><thead><tr><th>Network</th><th>State</th><th class="n">Received</th><th class="n">Sent</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
  return html + '</section>';
}

function queuesCard(st: GatewayStatus): string {
  const q = st.router?.queues ?? [];
  if (q.length === 0) return '';
  const rows = q
    .map(
      (x) =>
        `<tr><td>${esc(x.authid ?? '(no authid)')} <span class="muted small">#${x.sessionId}</span><br><span class="muted small">${esc(x.realm)} · ${esc(x.transport)}${x.peer ? ` · ${esc(x.peer)}` : ''}</span></td><td class="n">${esc(formatBytes(x.queuedBytes))}</td><td class="n">${esc(formatCount(x.dropped ?? 0))}</td></tr>`,
    )
    .join('');
  return `<section class="card" data-card="queues"><h2>Deepest session queues</h2><table><thead><tr><th style="width:60%">Session</th><th class="n">Queued</th><th class="n">Dropped</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

/** The page's dynamic regions (#hdr and #app), also what the refresh script swaps in. */
export function renderStatusBody(status: GatewayStatus, title: string): string {
  const now = status.generatedAt ?? Date.now();
  const s = status.series;
  const v: View = { s, now, start: now - (s?.windowMs ?? 3_600_000) };
  const ready = status.ready === undefined ? '' : badge(status.ready ? 'ready' : 'not ready', status.ready ? 'ok' : 'bad');
  const header = `<header id="hdr"><h1>${esc(title)}</h1>${ready}<span class="muted">${status.version ? `v${esc(status.version)}` : ''}</span><span id="stamp" class="muted small" data-at="${clock(now)}">updated ${clock(now)}</span></header>`;
  const main = `<main id="app"><div class="verdict">${flowingTile(status, v)}${healthTile(status, v)}${backlogTile(status, v)}</div><div class="cards">${trafficCard(status, v)}${bridgesCard(status, v)}${uplinkCard(status.uplink, v)}${partsCard(status, v)}${sessionsCard(status, v)}${boardCard(status, v)}${queuesCard(status)}</div></main>`;
  return header + main;
}

export function renderStatusPage(status: GatewayStatus, options: { refreshMs?: number; title?: string } = {}): string {
  const refreshMs = Math.max(1000, Math.floor(options.refreshMs ?? 10_000));
  const title = options.title ?? 'wampgate';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} status</title>
<noscript><meta http-equiv="refresh" content="${Math.ceil(refreshMs / 1000) * 3}"></noscript>
<style>${STYLE}</style>
</head>
<body data-refresh-ms="${refreshMs}">
${renderStatusBody(status, title)}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
