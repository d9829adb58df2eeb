// Owns the self-contained HTML status page: markup, CSS and the inline script that renders a
// GatewayStatus and refreshes it from /status.json. Does not own serving it (status-server.ts).
// All data is rendered on the client with textContent, never innerHTML, because authids and
// error texts come from clients and remote peers; the initial snapshot is embedded as JSON with
// "<" escaped so it cannot close the script element.

import { createHash } from 'node:crypto';
import type { GatewayStatus } from './status-types';

// Plain ES2017 so older phone browsers run it. `el(tag, cls, text)` builds nodes; everything the
// status contains goes through textContent.
const SCRIPT = `
(function () {
  'use strict';
  var REFRESH_MS = Number(document.body.getAttribute('data-refresh-ms')) || 5000;
  var root = document.getElementById('app');
  var stamp = document.getElementById('stamp');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function bytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + u[i];
  }
  function dur(s) {
    if (typeof s !== 'number' || !isFinite(s) || s < 0) return '–';
    s = Math.floor(s);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + (s % 60) + 's';
    return s + 's';
  }
  function pct(r) { return typeof r === 'number' && isFinite(r) ? (r * 100).toFixed(0) + '%' : '–'; }
  function num(n) { return typeof n === 'number' && isFinite(n) ? n.toLocaleString('en-US') : '–'; }
  function badge(state) {
    var ok = state === 'connected' || state === 'up' || state === 'ready';
    var bad = state === 'error' || state === 'disconnected' || state === 'down' || state === 'not ready';
    return el('span', 'badge ' + (ok ? 'ok' : bad ? 'bad' : 'warn'), state);
  }
  function card(title, field) {
    var c = el('section', 'card');
    if (field) c.setAttribute('data-card', field);
    c.appendChild(el('h2', null, title));
    return c;
  }
  function kv(parent, rows) {
    var dl = el('dl', 'kv');
    rows.forEach(function (r) {
      if (r[1] === undefined) return;
      var dt = el('dt', null, r[0]);
      var dd = el('dd');
      if (r[1] instanceof Node) dd.appendChild(r[1]); else dd.textContent = String(r[1]);
      if (r[2]) dd.setAttribute('data-field', r[2]);
      dl.appendChild(dt); dl.appendChild(dd);
    });
    parent.appendChild(dl);
  }
  function table(parent, head, rows, empty) {
    if (!rows.length) { parent.appendChild(el('p', 'muted', empty)); return; }
    var wrap = el('div', 'scroll'), t = el('table'), tr = el('tr');
    head.forEach(function (h) { tr.appendChild(el('th', null, h)); });
    var thead = el('thead'); thead.appendChild(tr); t.appendChild(thead);
    var tb = el('tbody');
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c) {
        var td = el('td');
        if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '–' : String(c);
        row.appendChild(td);
      });
      tb.appendChild(row);
    });
    t.appendChild(tb); wrap.appendChild(t); parent.appendChild(wrap);
  }
  function entries(o) { return o ? Object.keys(o).map(function (k) { return [k, o[k]]; }) : []; }
  function ago(since, now) { return typeof since === 'number' && typeof now === 'number' ? 'for ' + dur((now - since) / 1000) : undefined; }

  function render(s) {
    var now = typeof s.generatedAt === 'number' ? s.generatedAt : Date.now();
    var frag = document.createDocumentFragment();
    var ready = document.getElementById('ready');
    ready.textContent = '';
    if (s.ready !== undefined) ready.appendChild(badge(s.ready ? 'ready' : 'not ready'));
    document.getElementById('version').textContent = s.version ? 'v' + s.version : '';

    var r = s.router;
    if (r) {
      var total = 0, realmRows = [];
      (r.realms || []).forEach(function (realm) {
        var n = 0, parts = [];
        entries(realm.sessions).forEach(function (e) { n += e[1]; parts.push(e[0] + ' ' + e[1]); });
        total += n;
        realmRows.push([realm.name, n, parts.join(', ') || '–']);
      });
      var c = card('Sessions', 'sessions');
      var big = el('p', 'big', total); big.setAttribute('data-field', 'session-count');
      c.appendChild(big);
      kv(c, [['Router uptime', dur(r.uptimeSeconds)]]);
      table(c, ['Realm', 'Sessions', 'By transport'], realmRows, 'No realms.');
      frag.appendChild(c);

      var m = card('Messages', 'messages');
      var types = {};
      entries(r.messagesIn).forEach(function (e) { types[e[0]] = [e[1], undefined]; });
      entries(r.messagesOut).forEach(function (e) { types[e[0]] = [(types[e[0]] || [])[0], e[1]]; });
      table(m, ['Type', 'In', 'Out'], entries(types).map(function (e) { return [e[0], num(e[1][0]), num(e[1][1])]; }), 'No traffic yet.');
      var drops = entries(r.drops).filter(function (e) { return e[1] > 0; });
      if (drops.length) { m.appendChild(el('h3', null, 'Dropped')); table(m, ['Reason', 'Count'], drops.map(function (e) { return [e[0], num(e[1])]; }), ''); }
      frag.appendChild(m);

      if (r.queues && r.queues.length) {
        var q = card('Deepest session queues', 'queues');
        table(q, ['Session', 'Realm', 'Authid', 'Transport', 'Queued', 'Dropped'], r.queues.map(function (x) {
          return [x.sessionId, x.realm, x.authid, x.transport + (x.peer ? ' ' + x.peer : ''), bytes(x.queuedBytes) + (x.queuedMessages !== undefined ? ' / ' + num(x.queuedMessages) + ' msg' : ''), num(x.dropped)];
        }), '');
        frag.appendChild(q);
      }
    }

    if (s.bridges) {
      var b = card('Bridges', 'bridges');
      table(b, ['Name', 'Kind', 'State', 'Counters', 'Last error'], s.bridges.map(function (x) {
        var st = el('span'); st.appendChild(badge(x.state));
        var since = ago(x.since, now); if (since) st.appendChild(el('span', 'muted', ' ' + since));
        return [x.name, x.kind, st, entries(x.counters).map(function (e) { return e[0] + ' ' + num(e[1]); }).join(', ') || '–', x.lastError || '–'];
      }), 'No bridges configured.');
      frag.appendChild(b);
    }

    var u = s.uplink;
    if (u) {
      var uc = card('Uplink', 'uplink');
      var ust = el('span'); ust.setAttribute('data-field', 'uplink-state'); ust.appendChild(badge(u.state));
      kv(uc, [['State', ust], ['Since', ago(u.since, now)], ['Cloud', u.url], ['Realm', u.realm], ['Last error', u.lastError || undefined]]);
      var buf = u.buffer;
      if (buf) {
        uc.appendChild(el('h3', null, 'Buffer'));
        kv(uc, [['Waiting', num(buf.depth) + ' msg', 'buffer-depth'], ['Size', bytes(buf.bytes) + (buf.capacityBytes ? ' of ' + bytes(buf.capacityBytes) : '')],
          ['Oldest', buf.oldestAgeSeconds === null ? 'empty' : dur(buf.oldestAgeSeconds)], ['Dropped', num(buf.drops)], ['Dead letters', num(buf.deadLetters?.count ?? 0)]]);
      }
      frag.appendChild(uc);
    }

    var h = s.health;
    if (h) {
      var hc = card('Board', 'board');
      var t = h.throttled, warn;
      if (t) {
        var now_ = [], ever = [];
        if (t.underVoltageNow) now_.push('under-voltage'); if (t.frequencyCappedNow) now_.push('frequency capped');
        if (t.throttledNow) now_.push('throttled'); if (t.softTempLimitNow) now_.push('soft temperature limit');
        if (t.underVoltageOccurred) ever.push('under-voltage'); if (t.frequencyCappedOccurred) ever.push('frequency capped');
        if (t.throttledOccurred) ever.push('throttled'); if (t.softTempLimitOccurred) ever.push('soft temperature limit');
        warn = el('span');
        if (now_.length) warn.appendChild(el('span', 'badge bad', 'now: ' + now_.join(', ')));
        if (ever.length) warn.appendChild(el('span', 'badge warn', 'since boot: ' + ever.join(', ')));
        if (!now_.length && !ever.length) warn.appendChild(el('span', 'badge ok', 'none'));
      }
      var mem = h.memory || {}, disk = h.disk;
      kv(hc, [
        ['Board', h.board && h.board.model || undefined],
        ['Processor', h.board && [h.board.cpuBrand, h.board.cpuCores + ' cores'].filter(Boolean).join(' · ')],
        ['OS', h.board && [h.board.os, h.board.arch, 'Node ' + h.board.nodeVersion].filter(Boolean).join(' · ')],
        ['CPU', pct(h.cpu.usage) + ' · load ' + [h.cpu.load1, h.cpu.load5, h.cpu.load15].map(function (x) { return x.toFixed(2); }).join(' ')],
        ['Temperature', typeof h.cpu.temperatureC === 'number' ? h.cpu.temperatureC.toFixed(1) + ' °C' : undefined],
        ['Throttling', warn],
        ['Memory', bytes(mem.availableBytes) + ' free of ' + bytes(mem.totalBytes)],
        ['Swap', mem.swapTotalBytes ? bytes(mem.swapUsedBytes) + ' used of ' + bytes(mem.swapTotalBytes) : undefined],
        ['Disk', disk ? bytes(disk.availableBytes) + ' free of ' + bytes(disk.totalBytes) + ' (' + pct(disk.usedRatio) + ' used) · ' + disk.path : undefined],
        ['wampgate', bytes(h.process.rssBytes) + ' RSS · heap ' + bytes(h.process.heapUsedBytes) + ' · CPU ' + pct(h.process.cpuUsage)],
        ['Uptime', dur(h.uptimeSeconds)]
      ]);
      table(hc, ['Interface', 'State', 'IPv4', 'RX', 'TX'], (h.network || []).map(function (n) {
        return [n.name, badge(n.up ? 'up' : 'down'), n.ip4, bytes(n.rxBytes), bytes(n.txBytes)];
      }), 'No interfaces.');
      frag.appendChild(hc);
    }
    root.textContent = '';
    root.appendChild(frag);
    stamp.textContent = 'Updated ' + new Date(now).toLocaleTimeString();
    stamp.className = 'muted';
  }

  function refresh() {
    fetch('status.json', { cache: 'no-store' })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
      .then(render)
      .catch(function (err) { stamp.textContent = 'Cannot reach the gateway (' + err.message + '); retrying'; stamp.className = 'stale'; })
      .then(function () { setTimeout(refresh, REFRESH_MS); });
  }

  try { render(JSON.parse(document.getElementById('initial').textContent)); } catch (e) { stamp.textContent = 'Render error: ' + e.message; }
  refresh();
})();
`;

const STYLE = `
:root { color-scheme: light dark; --bg: #f4f5f7; --card: #fff; --fg: #1d2330; --muted: #6b7280; --line: #e3e6eb;
  --ok: #12805c; --okbg: #e3f6ee; --warn: #8a5a00; --warnbg: #fff3d6; --bad: #b42318; --badbg: #fde8e6; }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --card: #1b2027; --fg: #e6e9ee; --muted: #9aa3af; --line: #2b323c;
  --okbg: #123a2b; --ok: #6fd3a8; --warnbg: #3d3113; --warn: #f0c66b; --badbg: #45201d; --bad: #ff9b91; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1rem; padding: 1rem 1rem .25rem; }
header h1 { margin: 0; font-size: 1.35rem; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); gap: 1rem; padding: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .9rem 1rem; min-width: 0; }
.card h2 { margin: 0 0 .5rem; font-size: 1rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card h3 { margin: .8rem 0 .3rem; font-size: .9rem; color: var(--muted); }
.big { font-size: 2.4rem; font-weight: 600; margin: 0; line-height: 1.1; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .9rem; margin: .4rem 0; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; } table { border-collapse: collapse; width: 100%; margin-top: .4rem; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .6rem .3rem 0; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
th { color: var(--muted); font-weight: 500; white-space: nowrap; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .85rem; font-weight: 600; margin-right: .3rem; }
.ok { background: var(--okbg); color: var(--ok); } .warn { background: var(--warnbg); color: var(--warn); } .bad { background: var(--badbg); color: var(--bad); }
.muted { color: var(--muted); } .stale { color: var(--bad); font-weight: 600; }
`;

/** For the Content-Security-Policy: only this exact inline script may run. */
export const STATUS_PAGE_SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`;

/** JSON inside <script type="application/json">: "<" escaped so "</script>" in data cannot end it. */
function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderStatusPage(status: GatewayStatus, options: { refreshMs?: number; title?: string } = {}): string {
  const refreshMs = Math.max(1000, Math.floor(options.refreshMs ?? 5000));
  // The title is configuration, not client input, but it is escaped all the same.
  const title = (options.title ?? 'wampgate').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} status</title>
<style>${STYLE}</style>
</head>
<body data-refresh-ms="${refreshMs}">
<header><h1>${title}</h1><span id="ready"></span><span id="version" class="muted"></span><span id="stamp" class="muted">Loading…</span></header>
<noscript><p style="padding:0 1rem">This page needs JavaScript; the raw data is at <a href="status.json">status.json</a> and <a href="metrics">metrics</a>.</p></noscript>
<main id="app"></main>
<script type="application/json" id="initial">${embedJson(status)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
