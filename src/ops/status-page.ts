// Owns the status page as a whole: HTML rendered on the server from a GatewayStatus (with the
// sampled last hour) — the header, the three answers at a glance, then the detail cards — and the
// document around them. Does not own serving it (status-server.ts), the answers (page-answers.ts),
// the cards (page-cards.ts, page-board.ts) nor the charts' drawing (charts.ts). Every text from
// the status goes through escapeHtml: authids, error texts and peer addresses come from clients
// and remote peers. The one inline script (page-assets.ts) only refetches this page and swaps its
// content; without it the page is complete and a <noscript> meta refresh reloads it.

import { clock, escapeHtml as esc, type ChartCache } from './charts';
import { SCRIPT, STYLE } from './page-assets';
import { backlogTile, flowingTile, healthTile } from './page-answers';
import { boardCard } from './page-board';
import { bridgesCard, partsCard, queuesCard, sessionsCard, trafficCard, uplinkCard } from './page-cards';
import { badge, type View } from './page-view';
import type { GatewayStatus } from './status-types';

export { STATUS_PAGE_SCRIPT_HASH } from './page-assets';
export { formatBytes, formatCount, formatDuration } from './format';

/** Chart spans shorter than the window, in minutes: steps an axis reads well. */
const SHORT_SPANS_MIN = [5, 10, 15, 30];

/** The charts' time span: the series window, or a shorter one while the gateway has not run that
 * long (a fresh gateway's three minutes would be a sliver at the right edge of an hour). */
function chartSpan(s: GatewayStatus['series'], now: number): number {
  const window = s?.windowMs ?? 3_600_000;
  const first = s?.t[0];
  if (first === undefined) return window;
  for (const m of SHORT_SPANS_MIN) if (m * 60_000 < window && now - first <= m * 60_000) return m * 60_000;
  return window;
}

export interface RenderOptions {
  /** Polylines kept between renders of the same sample tick; one per series source (status-server.ts). */
  cache?: ChartCache;
}

/** The page's dynamic regions (#hdr and #app), also what the refresh script swaps in. */
export function renderStatusBody(status: GatewayStatus, title: string, options: RenderOptions = {}): string {
  const now = status.generatedAt ?? Date.now();
  const s = status.series;
  const v: View = { s, now, start: now - chartSpan(s, now), cache: options.cache };
  const ready = status.ready === undefined ? '' : badge(status.ready ? 'ready' : 'not ready', status.ready ? 'ok' : 'bad');
  const header = `<header id="hdr"><h1>${esc(title)}</h1>${ready}<span class="muted">${status.version ? `v${esc(status.version)}` : ''}</span><span id="stamp" class="muted small" data-at="${clock(now)}">updated ${clock(now)}</span></header>`;
  const main = `<main id="app"><div class="verdict">${flowingTile(status, v)}${healthTile(status, v)}${backlogTile(status, v)}</div><div class="cards">${trafficCard(status, v)}${bridgesCard(status, v)}${uplinkCard(status.uplink, v)}${partsCard(status, v)}${sessionsCard(status, v)}${boardCard(status, v)}${queuesCard(status)}</div></main>`;
  return header + main;
}

export function renderStatusPage(status: GatewayStatus, options: RenderOptions & { refreshMs?: number; title?: string } = {}): string {
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
${renderStatusBody(status, title, options)}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
