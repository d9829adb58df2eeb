// Owns the status page's detail cards about traffic and links: messages and drops, sessions and
// listeners, bridges, other parts, the uplink with its backlog, and the deepest session queues.
// Does not own the board card (page-board.ts) nor the three answers (page-answers.ts).

import { escapeHtml as esc, stateStrip } from './charts';
import { formatBytes, formatCount, formatDuration, perMinute, perSecond } from './format';
import { serviceParts } from './gateway-status';
import { dropLabel } from './labels';
import { badge, chart, counterGrid, gaugeList, line, partHeading, since, values, type View } from './page-view';
import type { StateChange } from './series';
import { SeriesName, StateKey } from './status-sampler';
import type { BridgeStatus, GatewayStatus, UplinkStatus } from './status-types';

export function trafficCard(st: GatewayStatus, v: View): string {
  const r = st.router;
  if (!r) return '';
  let html = `<section class="card" data-card="messages"><h2>Messages</h2>`;
  html += chart(v, {
    id: 'messages',
    title: 'Messages per second',
    lines: [line(v, SeriesName.messagesIn, 'In'), line(v, SeriesName.messagesOut, 'Out')],
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

export function sessionsCard(st: GatewayStatus, v: View): string {
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
    lines: [line(v, SeriesName.sessions, 'Sessions')],
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

function bridgeBlock(b: BridgeStatus, v: View): string {
  let html = `<div class="sub" data-bridge="${esc(b.name)}">${partHeading(b, v.now)}`;
  html += chart(v, {
    id: `bridge-${b.name}`,
    title: `${b.name} messages per second`,
    lines: [line(v, SeriesName.bridgeIn(b.name), 'From devices'), line(v, SeriesName.bridgeOut(b.name), 'To devices')],
    format: perSecond,
    states: v.s?.states[StateKey.bridge(b.name)] ?? [],
  });
  return html + counterGrid(b.counters) + '</div>';
}

export function bridgesCard(st: GatewayStatus, v: View): string {
  if (!st.bridges) return '';
  const body = st.bridges.length === 0 ? `<p class="muted">No bridges configured.</p>` : st.bridges.map((b) => bridgeBlock(b, v)).join('');
  return `<section class="card" data-card="bridges"><h2>Bridges</h2>${body}</section>`;
}

/** Every part that is neither a bridge nor the uplink: its state, last error and counters, whatever its kind. */
export function partsCard(st: GatewayStatus, v: View): string {
  const parts = serviceParts(st);
  if (parts.length === 0) return '';
  const body = parts
    .map((p) => {
      return `<div class="sub" data-part="${esc(p.name)}">${partHeading(p, v.now)}${gaugeList(p.gauges)}${counterGrid(p.counters)}</div>`;
    })
    .join('');
  return `<section class="card" data-card="parts"><h2>Other parts</h2>${body}</section>`;
}

export function uplinkCard(u: UplinkStatus | undefined, v: View): string {
  if (!u) return '';
  let html = `<section class="card" data-card="uplink"><h2>Uplink</h2>`;
  html += `<p><span data-field="uplink-state">${badge(u.state)}</span> ${since(u.since, v.now)}</p>`;
  const changes: readonly StateChange[] = v.s?.states[StateKey.uplink] ?? [];
  const strip = stateStrip(changes, v.start, v.now);
  if (strip) html += `${strip}<div class="axis"><span>link state, last ${Math.round((v.now - v.start) / 60_000)} min</span><span>now</span></div>`;
  html += `<dl class="kv">${u.url ? `<dt>Cloud</dt><dd>${esc(u.url)}</dd>` : ''}${u.realm ? `<dt>Realm</dt><dd>${esc(u.realm)}</dd>` : ''}</dl>`;
  if (u.lastError) html += `<p class="err">Last error: ${esc(u.lastError)}</p>`;
  const b = u.buffer;
  if (b) {
    html += `<h3>Backlog</h3>`;
    html += chart(v, {
      id: 'backlog',
      title: 'Messages waiting for the cloud',
      lines: [line(v, SeriesName.uplinkBacklog, 'Waiting')],
      format: formatCount,
      minTop: 10,
    });
    html += chart(v, {
      id: 'replayed',
      title: 'Backlog messages sent per second',
      lines: [line(v, SeriesName.uplinkReplayed, 'Replayed')],
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

export function queuesCard(st: GatewayStatus): string {
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
