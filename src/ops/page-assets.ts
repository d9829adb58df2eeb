// Owns what the status page carries besides its content: the stylesheet (light and dark, phone
// and desktop) and the one inline script that refetches the page and swaps its dynamic regions,
// with that script's hash for the Content-Security-Policy. Does not own the content.

import { createHash } from 'node:crypto';

// Plain ES5 so older phone browsers run it. Parsed HTML from our own server replaces the two
// dynamic regions; nothing is built from JSON here.
export const SCRIPT = `
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

export const STYLE = `
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
details.zeros { margin: .1rem 0 .4rem; font-size: .85rem; } details.zeros summary { color: var(--muted); cursor: pointer; }
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
