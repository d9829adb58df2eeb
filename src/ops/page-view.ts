// Owns what every part of the status page shares: the view of the sampled last hour (reading a
// series, its latest value, totals and slopes over a window), charts drawn from it, and the small
// fragments every card uses (state badge, "since", counter grid, a part's heading). Does not own
// any card or answer.

import { clock, escapeHtml as esc, lineChart, type ChartCache, type ChartLine, type LineChartOptions } from './charts';
import { counterLabel, isTroubleCounter, stateTone } from './labels';
import type { SeriesSnapshot } from './series';
import { formatBytes, formatCount, formatDuration } from './format';

export type Tone = 'ok' | 'warn' | 'bad' | 'off';
export const WORSE: Record<Tone, number> = { off: 0, ok: 1, warn: 2, bad: 3 };

export function badge(state: string, tone: Tone = stateTone(state)): string {
  return `<span class="badge b-${tone}">${esc(state)}</span>`;
}

/** "connected since 12:04 (for 10 min)" */
export function since(at: number | null | undefined, now: number): string {
  if (typeof at !== 'number' || at <= 0) return '';
  return `<span class="muted small" data-since="${at}">since ${clock(at)} (${formatDuration((now - at) / 1000)})</span>`;
}

/** A state heading: name, kind, badge and since; then the last error if there is one. */
export function partHeading(p: { name: string; kind: string; state: string; since?: number | null; lastError?: string | null }, now: number): string {
  const err = p.lastError ? `<p class="err">Last error: ${esc(p.lastError)}</p>` : '';
  return `<h3>${esc(p.name)} <span class="muted small">${esc(p.kind)}</span> ${badge(p.state)} ${since(p.since, now)}</h3>${err}`;
}

export function counterGrid(counters: Record<string, number> | undefined): string {
  const entries = Object.entries(counters ?? {});
  if (entries.length === 0) return '';
  const cell = ([k, n]: [string, number]): string => {
    const cls = n === 0 ? 'zero' : isTroubleCounter(k) ? 'trouble' : '';
    return `<div class="${cls}" data-counter="${esc(k)}"><span>${esc(counterLabel(k))}</span><b>${esc(formatCount(n))}</b></div>`;
  };
  // What happened is shown; counters still at 0 (most of a bridge's, on a good day) fold away
  // under one line, so a card reads at a glance and nothing is hidden for good.
  const happened = entries.filter(([, n]) => n !== 0);
  const zeros = entries.filter(([, n]) => n === 0);
  let html = happened.length > 0 ? `<div class="counters">${happened.map(cell).join('')}</div>` : '';
  if (zeros.length > 0)
    html += `<details class="zeros"><summary>${happened.length > 0 ? `${zeros.length} more at 0` : `all ${zeros.length} counters at 0`}</summary><div class="counters">${zeros.map(cell).join('')}</div></details>`;
  return html;
}

/** A part's current values (the event history's rows and bytes…); names ending in "bytes" as sizes. */
export function gaugeList(gauges: Record<string, number> | undefined): string {
  const entries = Object.entries(gauges ?? {});
  if (entries.length === 0) return '';
  return `<dl class="kv">${entries
    .map(([k, n]) => `<dt>${esc(counterLabel(k))}</dt><dd data-gauge="${esc(k)}">${esc(/bytes$/i.test(k) ? formatBytes(n) : formatCount(n))}</dd>`)
    .join('')}</dl>`;
}

// ---- reading the series -----------------------------------------------------------------------

export interface View {
  s: SeriesSnapshot | undefined;
  now: number;
  start: number;
  /** Polylines of the current sample tick, kept between renders (status-server.ts holds one). */
  cache?: ChartCache | undefined;
}

export function values(v: View, name: string): Array<number | null> {
  return v.s?.values[name] ?? [];
}

/** Latest value of a series within two steps of its last sample, else null. */
export function latest(v: View, name: string): number | null {
  const vals = values(v, name);
  for (let i = vals.length - 1; i >= 0; i--) if (vals[i] !== null && vals[i] !== undefined) return vals[i] as number;
  return null;
}

/** Sum over the last `ms` of a per-second rate series: how many events that was. */
export function totalOver(v: View, name: string, ms: number): number {
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
export function slopePerMinute(v: View, name: string, ms: number): number | null {
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

/** One line of a chart: the series `key` as sampled, under a readable label. */
export function line(v: View, key: string, label: string): ChartLine {
  return { key, label, values: values(v, key) };
}

export function chart(v: View, o: Omit<LineChartOptions, 't' | 'start' | 'end' | 'stepMs'>): string {
  return lineChart({ ...o, t: v.s?.t ?? [], start: v.start, end: v.now, stepMs: v.s?.stepMs ?? 10_000 }, v.cache);
}
