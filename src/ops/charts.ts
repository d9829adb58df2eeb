// Owns drawing the status page's small charts as inline SVG, on the server: a line chart of one
// or more series over the last hour, and a strip of link states. No script and no font is
// fetched (a gateway may be offline); text stays in HTML around the SVG so it scales with the
// page and stays readable on a phone. Does not own the data (series.ts) nor the page layout.

import { stateTone } from './labels';
import type { StateChange } from './series';

/** Escapes text for HTML element content and attribute values. Everything from the status goes through it. */
export function escapeHtml(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The SVG's user-space size; it is stretched to the card's width (lines keep their stroke width). */
export const CHART_W = 600;
export const CHART_H = 100;

export interface ChartLine {
  /** Series name: the polyline's data-series attribute. */
  key: string;
  label: string;
  values: ReadonlyArray<number | null>;
}

export interface LineChartOptions {
  /** data-chart attribute and accessible name. */
  id: string;
  title: string;
  /** Sample times (wall ms), aligned with every line's values. */
  t: readonly number[];
  /** The window drawn, wall ms: left edge and right edge ("now"). */
  start: number;
  end: number;
  /** Nominal sample interval: a longer silence between samples breaks the line. */
  stepMs: number;
  lines: readonly ChartLine[];
  /** Formats a value for the legend and the y-axis label. */
  format: (v: number) => string;
  /** Smallest top of the y axis (e.g. 100 for a percentage), so a flat line is not drawn at the top. */
  minTop?: number;
  /** A fixed top of the y axis (percentages). */
  top?: number;
  /** Drawn as a strip under the chart. */
  states?: readonly StateChange[];
  /** Shown instead of lines when no line has a value. */
  empty?: string;
}

/** 1, 2 or 5 × 10^n at or above v: round numbers on the axis. */
export function niceTop(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v * 0.999999) return m * p;
  return 10 * p;
}

/** One decimal, no trailing ".0" (as (Math.round(n * 10) / 10).toString()), from integers: a
 * double's toString was the largest single cost of drawing a page. */
function r1(n: number): string {
  const k = Math.round(n * 10);
  const a = k < 0 ? -k : k;
  const whole = (a - (a % 10)) / 10;
  const s = a % 10 === 0 ? String(whole) : `${whole}.${a % 10}`;
  return k < 0 ? `-${s}` : s;
}

/** Point lists of one series, split where a value is missing or samples are too far apart. */
export function polylinePoints(
  t: readonly number[],
  values: ReadonlyArray<number | null>,
  o: { start: number; end: number; top: number; stepMs: number },
): string[] {
  const span = Math.max(1, o.end - o.start);
  const segments: string[] = [];
  let cur: string[] = [];
  let prevT: number | null = null;
  const flush = (): void => {
    if (cur.length === 1) {
      // A lone sample: draw a short dash so it is visible.
      const [x, y] = (cur[0] as string).split(',').map(Number) as [number, number];
      cur.push(`${r1(Math.min(CHART_W, x + 3))},${r1(y)}`);
    }
    if (cur.length > 0) segments.push(cur.join(' '));
    cur = [];
  };
  for (let i = 0; i < t.length; i++) {
    const ti = t[i] as number;
    const v = values[i];
    if (ti < o.start - o.stepMs || ti > o.end + o.stepMs) continue;
    if (v === null || v === undefined || (prevT !== null && ti - prevT > 2.5 * o.stepMs)) flush();
    prevT = ti;
    if (v === null || v === undefined) continue;
    const x = Math.min(CHART_W, Math.max(0, ((ti - o.start) / span) * CHART_W));
    const y = CHART_H - 2 - (Math.max(0, Math.min(v, o.top)) / o.top) * (CHART_H - 4);
    cur.push(`${r1(x)},${r1(y)}`);
  }
  flush();
  return segments;
}

function lastValue(values: ReadonlyArray<number | null>): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

function maxValue(values: ReadonlyArray<number | null>): number {
  let m = 0;
  for (const v of values) if (v !== null && v !== undefined && v > m) m = v;
  return m;
}

/** "12:04" in the gateway's time zone. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A strip of colored bands, one per state, across the window. */
export function stateStrip(changes: readonly StateChange[], start: number, end: number): string {
  const span = Math.max(1, end - start);
  const rects: string[] = [];
  changes.forEach((c, i) => {
    const from = Math.max(start, c.at);
    const to = Math.min(end, (changes[i + 1] as StateChange | undefined)?.at ?? end);
    if (to <= from) return;
    const x = ((from - start) / span) * CHART_W;
    const w = Math.max(1, ((to - from) / span) * CHART_W);
    rects.push(
      `<rect x="${r1(x)}" y="0" width="${r1(w)}" height="10" class="st-${stateTone(c.state)}" data-state="${escapeHtml(c.state)}"><title>${escapeHtml(c.state)} from ${clock(c.at)}</title></rect>`,
    );
  });
  if (rects.length === 0) return '';
  return `<svg class="strip" viewBox="0 0 ${CHART_W} 10" preserveAspectRatio="none" aria-hidden="true">${rects.join('')}</svg>`;
}

/**
 * The drawn polylines of each chart for one sample tick. Drawing them is most of a page render
 * (rounding and joining thousands of points), yet they change only when a sample is added: they
 * are drawn once per tick in a window that ends at the latest sample, and each render shifts them
 * to its own "now" with one translate. One cache per series source (a StatusServer's ring):
 * the stamp (sample count, first and last sample time, axis top) identifies a tick of that source.
 */
export class ChartCache {
  /** chart id -> the stamp its polylines were drawn for, and them. Bounded by the page's charts. */
  private readonly entries = new Map<string, { stamp: string; svg: string }>();

  get(id: string, stamp: string, draw: () => string): string {
    const hit = this.entries.get(id);
    if (hit && hit.stamp === stamp) return hit.svg;
    const svg = draw();
    this.entries.set(id, { stamp, svg });
    return svg;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The polylines of every line, drawn in the window [anchor - span, anchor]. */
function drawLines(o: LineChartOptions, top: number, anchor: number): string {
  const window = { start: anchor - (o.end - o.start), end: anchor, top, stepMs: o.stepMs };
  return o.lines
    .map((l, i) =>
      polylinePoints(o.t, l.values, window)
        .map((pts) => `<polyline class="line c${i % 4}" data-series="${escapeHtml(l.key)}" points="${pts}"/>`)
        .join(''),
    )
    .join('');
}

export function lineChart(o: LineChartOptions, cache?: ChartCache): string {
  let top = o.top ?? niceTop(Math.max(o.minTop ?? 0, ...o.lines.map((l) => maxValue(l.values))));
  if (!(top > 0)) top = 1;
  const has = o.lines.some((l) => lastValue(l.values) !== null || l.values.some((v) => v !== null));
  const grid = [0.25, 0.5, 0.75].map((f) => `<line x1="0" x2="${CHART_W}" y1="${r1(CHART_H * f)}" y2="${r1(CHART_H * f)}" class="grid"/>`).join('');
  // Drawn up to the latest sample (the same for every render until the next one), then shifted
  // left by how much later "now" is; the SVG's viewport clips what falls off the left edge.
  const anchor = o.t.length > 0 ? (o.t[o.t.length - 1] as number) : o.end;
  const stamp = `${o.t.length}|${o.t[0] ?? ''}|${anchor}|${top}|${o.stepMs}|${o.end - o.start}|${o.lines.map((l) => l.key).join(',')}`;
  let lines = has ? (cache ? cache.get(o.id, stamp, () => drawLines(o, top, anchor)) : drawLines(o, top, anchor)) : '';
  const shift = r1(((anchor - o.end) / Math.max(1, o.end - o.start)) * CHART_W);
  if (lines && shift !== '0') lines = `<g transform="translate(${shift} 0)">${lines}</g>`;
  const legend = o.lines
    .map((l, i) => {
      const now = lastValue(l.values);
      return `<span class="lg"><i class="sw c${i % 4}"></i>${escapeHtml(l.label)} <b data-now="${escapeHtml(l.key)}">${now === null ? '–' : escapeHtml(o.format(now))}</b></span>`;
    })
    .join('');
  const minutes = Math.round((o.end - o.start) / 60_000);
  const body = has
    ? `<svg viewBox="0 0 ${CHART_W} ${CHART_H}" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(o.title)}, last ${minutes} minutes">${grid}${lines}</svg>`
    : `<div class="nodata">${escapeHtml(o.empty ?? 'No data yet')}</div>`;
  return `<figure class="chart" data-chart="${escapeHtml(o.id)}" data-top="${top}">
<div class="legend">${legend}</div>
<div class="plot"><span class="ytop">${escapeHtml(o.format(top))}</span>${body}</div>
${o.states ? stateStrip(o.states, o.start, o.end) : ''}
<div class="axis"><span>${minutes} min ago</span><span>${clock(o.start + (o.end - o.start) / 2)}</span><span>now</span></div>
</figure>`;
}
