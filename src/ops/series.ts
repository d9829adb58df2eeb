// Owns the status page's memory of the last hour: fixed-size rings of numeric samples (one
// shared time column, one Float64Array per named series) and bounded lists of state changes.
// Does not own what is sampled (status-sampler.ts) nor drawing it (charts.ts). Memory is fixed
// at construction per series: capacity × 8 bytes, and the number of series is capped.

export const DEFAULT_WINDOW_MS = 3_600_000;
export const DEFAULT_STEP_MS = 10_000;
/** Beyond this many series new names are ignored (and counted): a config with hundreds of bridges must not grow the rings without bound. */
export const MAX_SERIES = 96;
/** State changes kept per key: a link flapping every second keeps only the latest ones. */
export const MAX_STATE_CHANGES = 120;

export interface StateChange {
  /** Wall-clock ms of the change. */
  at: number;
  state: string;
}

/** The JSON form served in /status.json: plain arrays, oldest first, null where a series had no value. */
export interface SeriesSnapshot {
  /** Nominal sampling interval. */
  stepMs: number;
  /** How far back the rings reach. */
  windowMs: number;
  /** Samples each ring holds (windowMs / stepMs). */
  capacity: number;
  /** Samples currently held. */
  size: number;
  /** Bytes the rings and state lists hold (typed arrays counted exactly, state lists estimated). */
  bytes: number;
  /** Series names refused because MAX_SERIES was reached. */
  refused: number;
  /** Sample times, wall-clock ms, oldest first. */
  t: number[];
  /** series name -> values aligned with `t`. */
  values: Record<string, Array<number | null>>;
  /** key -> state changes, oldest first; the first one may predate the window (the state at its start). */
  states: Record<string, StateChange[]>;
}

export interface SeriesRingOptions {
  windowMs?: number;
  stepMs?: number;
  maxSeries?: number;
}

export class SeriesRing {
  readonly windowMs: number;
  readonly stepMs: number;
  readonly capacity: number;
  private readonly maxSeries: number;
  private readonly times: Float64Array;
  /** series name -> its ring, aligned with `times`: NaN where a sample did not carry the series. */
  private readonly columns = new Map<string, Float64Array>();
  /** state key -> changes, oldest first: drawn as a strip under the charts and as "since". */
  private readonly changes = new Map<string, StateChange[]>();
  /** Index of the next write. */
  private head = 0;
  private count = 0;
  private refusedNames = 0;

  constructor(options: SeriesRingOptions = {}) {
    this.windowMs = Math.max(60_000, options.windowMs ?? DEFAULT_WINDOW_MS);
    this.stepMs = Math.max(100, options.stepMs ?? DEFAULT_STEP_MS);
    // One more slot than the window needs, so a full window is always covered end to end.
    this.capacity = Math.ceil(this.windowMs / this.stepMs) + 1;
    this.maxSeries = options.maxSeries ?? MAX_SERIES;
    this.times = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  get seriesCount(): number {
    return this.columns.size;
  }

  /** Bytes held: exact for the typed arrays, ~48 bytes per state change. */
  get bytes(): number {
    let changes = 0;
    for (const list of this.changes.values()) changes += list.length;
    return (this.columns.size + 1) * this.capacity * 8 + changes * 48;
  }

  /** Appends one sample at `t`; series missing from `values` (or null) get no value at this time. */
  record(t: number, values: Readonly<Record<string, number | null | undefined>>): void {
    const i = this.head;
    this.times[i] = t;
    for (const col of this.columns.values()) col[i] = NaN;
    for (const [name, v] of Object.entries(values)) {
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      const col = this.column(name);
      if (col) col[i] = v;
    }
    this.head = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Notes the state of `key` at `at`; only changes are kept. */
  state(key: string, state: string, at: number): void {
    let list = this.changes.get(key);
    if (!list) {
      if (this.changes.size >= this.maxSeries) return;
      list = [];
      this.changes.set(key, list);
    }
    const last = list[list.length - 1];
    if (last && last.state === state) return;
    list.push({ at, state });
    this.prune(list, at);
  }

  /** The state changes of `key`, oldest first. */
  stateChanges(key: string): readonly StateChange[] {
    return this.changes.get(key) ?? [];
  }

  /** Values of one series, oldest first, aligned with times(). */
  values(name: string): Array<number | null> {
    const col = this.columns.get(name);
    const out: Array<number | null> = [];
    for (const i of this.indices()) {
      const v = col ? (col[i] as number) : NaN;
      out.push(Number.isNaN(v) ? null : v);
    }
    return out;
  }

  timestamps(): number[] {
    return this.indices().map((i) => this.times[i] as number);
  }

  names(): string[] {
    return [...this.columns.keys()];
  }

  /** The latest value of a series, or null. */
  latest(name: string): number | null {
    if (this.count === 0) return null;
    const v = this.columns.get(name)?.[(this.head - 1 + this.capacity) % this.capacity];
    return v === undefined || Number.isNaN(v) ? null : v;
  }

  snapshot(): SeriesSnapshot {
    const values: Record<string, Array<number | null>> = {};
    for (const name of this.columns.keys()) values[name] = this.values(name);
    const states: Record<string, StateChange[]> = {};
    for (const [k, list] of this.changes) states[k] = list.map((c) => ({ ...c }));
    return {
      stepMs: this.stepMs,
      windowMs: this.windowMs,
      capacity: this.capacity,
      size: this.count,
      bytes: this.bytes,
      refused: this.refusedNames,
      t: this.timestamps(),
      values,
      states,
    };
  }

  private column(name: string): Float64Array | undefined {
    let col = this.columns.get(name);
    if (col) return col;
    if (this.columns.size >= this.maxSeries) {
      this.refusedNames++;
      return undefined;
    }
    col = new Float64Array(this.capacity).fill(NaN);
    this.columns.set(name, col);
    return col;
  }

  /** Ring positions, oldest first. */
  private indices(): number[] {
    const out: number[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let k = 0; k < this.count; k++) out.push((start + k) % this.capacity);
    return out;
  }

  /** Drops changes older than the window, keeping the one in force at its start. */
  private prune(list: StateChange[], now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop + 1 < list.length && (list[drop + 1] as StateChange).at <= cutoff) drop++;
    if (list.length - drop > MAX_STATE_CHANGES) drop = list.length - MAX_STATE_CHANGES;
    if (drop > 0) list.splice(0, drop);
  }
}
