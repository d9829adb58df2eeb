// The Outbox contract: a durable FIFO (per sequence number) of publications bound for the cloud
// router, with its limits, drop policy and accounting. Also the pieces both implementations share
// (payload encoding, admission planning). It does not talk to the network or schedule anything.

import type { Encoder as EncoderClass } from 'cbor-x' with { 'resolution-mode': 'import' };

// cbor-x ships CommonJS at runtime but its types resolve as ESM under Node16 resolution.

const { Encoder } = require('cbor-x') as { Encoder: typeof EncoderClass };

/**
 * What happens when an append would exceed the count or byte limit.
 * - `drop-oldest`: make room by dropping stored entries of the same (or lower) priority, oldest first.
 * - `reject-newest`: make room only from strictly lower priorities; otherwise the new entry is dropped.
 * In both cases entries of lower priority are dropped before anything of the new entry's priority,
 * and entries of higher priority are never dropped to make room.
 */
export const DropPolicies = ['drop-oldest', 'reject-newest'] as const;
export type DropPolicy = (typeof DropPolicies)[number];

/**
 * Why an entry left the outbox without being acknowledged. Stable names: they appear in stats and
 * metrics.
 * - `max-count` / `max-bytes`: a limit was reached (an older entry evicted, or the new one rejected).
 * - `max-age`: the entry was older than `maxAgeMs` when `expire` ran.
 * - `too-large`: the single entry is bigger than `maxBytes`, it could never fit.
 * - `disk-full`: storage refused the write (SQLITE_FULL / ENOSPC); buffering resumes once space returns.
 * - `io-error`: any other storage failure on append (also counted for corruption found at runtime).
 * - `corrupt`: entries lost when a corrupt database was moved aside at runtime (count known at the time).
 * - `dead-letters-full`: the oldest dead letter deleted to keep the table within `maxDeadLetters`.
 */
export const DropReasons = ['max-count', 'max-bytes', 'max-age', 'too-large', 'disk-full', 'io-error', 'corrupt', 'dead-letters-full'] as const;
export type DropReason = (typeof DropReasons)[number];

/** What a caller hands to `append`. */
export interface NewEntry {
  /** The rule that produced the event; drops are also counted per source. */
  source: string;
  topic: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: Record<string, unknown>;
  /** Higher is more important. Default 0. */
  priority?: number;
  /** Default: the outbox's `dropPolicy`. */
  dropPolicy?: DropPolicy;
}

/** What `peek` returns: the entry as appended, plus its place in the outbox. */
export interface OutboxEntry {
  /** Strictly increasing for the life of the database file (survives reopen): the replay order. */
  seq: number;
  source: string;
  topic: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: Record<string, unknown>;
  priority: number;
  /** Accounted size: encoded payload + topic + source, in bytes. What `maxBytes` counts. */
  bytes: number;
  /** Date.now() at append. Only for age limits, never for ordering (a Pi may boot in 1970). */
  enqueuedAt: number;
}

/**
 * Why an entry that could not be delivered was moved to the dead letters (stable names: stats,
 * metrics, the list procedure).
 * - `too-large`: larger than the link carries (the limit the cloud announced, or the cloud closed
 *   the connection for its size, e.g. WebSocket 1009).
 * - `not-encodable`: the link's serializer cannot encode it.
 * - `refused`: the cloud answered the publication with ERROR (not authorized, invalid URI …).
 * - `link-closed`: the cloud ended the session every time this entry was the one being sent.
 */
export const DeadLetterReasons = ['too-large', 'not-encodable', 'refused', 'link-closed'] as const;
export type DeadLetterReason = (typeof DeadLetterReasons)[number];

/** An entry moved out of the outbox because it could not be delivered, with why. */
export interface DeadLetter extends OutboxEntry {
  reason: DeadLetterReason;
  /** The last error, e.g. the cloud's ERROR URI and message. */
  error: string;
  /** Send attempts made before it was given up. */
  attempts: number;
  /** Date.now() when it was moved (for people). */
  deadAt: number;
}

export interface DeadLetterStats {
  /** Dead letters held now. */
  count: number;
  bytes: number;
  /** Entries moved to the dead letters since this instance was opened, by reason. */
  moved: Record<DeadLetterReason, number>;
}

export type AppendResult = { stored: true; seq: number } | { stored: false; dropped: DropReason };

/** `ack` accepts explicit sequence numbers or everything up to and including one. */
export type AckTarget = readonly number[] | { upTo: number };

export interface OutboxStats {
  count: number;
  bytes: number;
  /** Lowest seq still buffered, or null when empty. */
  oldestSeq: number | null;
  /** now - enqueuedAt of the lowest seq (approximate if the clock jumped), or null when empty. */
  oldestAgeMs: number | null;
  /** The seq the next stored entry will get. */
  nextSeq: number;
  /** Counters since this instance was opened (like every process metric, they restart at 0). */
  appended: number;
  acked: number;
  drops: Record<DropReason, number>;
  /** source -> drops of that source's entries, any reason. */
  dropsBySource: Record<string, number>;
  /** True after a disk-full drop until the next successful append. */
  diskFull: boolean;
  deadLetters: DeadLetterStats;
}

export interface OutboxLimits {
  /** Most entries buffered. */
  maxCount: number;
  /** Most accounted bytes buffered (payloads, not the file size: SQLite adds page overhead). */
  maxBytes: number;
  /**
   * Entries older than this are dropped by `expire`. 0 disables. Measured with Date.now(), so it is
   * approximate: if the clock is set forward (NTP after a boot without RTC), entries stamped before
   * look older than they are and may expire early; if set back, they live longer.
   */
  maxAgeMs: number;
}

export interface OutboxOptions extends Partial<OutboxLimits> {
  /** Most dead letters kept; beyond it the oldest is deleted (drop reason `dead-letters-full`). Default 10 000. */
  maxDeadLetters?: number;
  /** Policy for entries that do not name one. Default `drop-oldest` (fresh telemetry is worth more). */
  dropPolicy?: DropPolicy;
  /** Clock for enqueuedAt and ages; tests inject one. Default Date.now. */
  now?: () => number;
}

/** Safe defaults for a Pi with an SD card: tens of MiB, a day of backlog. */
export const defaultOutboxLimits: OutboxLimits = { maxCount: 1_000_000, maxBytes: 256 * 1024 * 1024, maxAgeMs: 7 * 24 * 3600 * 1000 };

export interface Outbox {
  /** Store one entry. Durable (per the implementation's durability mode) when it returns. Never throws for storage trouble. */
  append(entry: NewEntry): AppendResult;
  /** Store several entries in one transaction: cheaper per entry, durable when it returns. Results in input order. */
  appendBatch(entries: readonly NewEntry[]): AppendResult[];
  /** Up to `limit` entries with seq > afterSeq (default: from the start), lowest seq first. */
  peek(limit: number, afterSeq?: number): OutboxEntry[];
  /**
   * Delete acknowledged entries: any entries, in any order (the live lane acks newer entries
   * before older ones), or a range. Unknown seqs (already dropped or acked) are ignored; the
   * entries left keep their seqs and order for peek, eviction and expiry. Returns how many were deleted.
   */
  ack(target: AckTarget): number;
  /** Drop entries older than maxAgeMs, walking in seq order and stopping at the first young one. Returns how many. */
  expire(now?: number): number;
  /**
   * Moves one buffered entry to the dead letters (atomically: it is in exactly one of the two).
   * Returns false when the seq is not buffered (acked, dropped, or already dead).
   */
  deadLetter(seq: number, why: { reason: DeadLetterReason; error: string; attempts: number }): boolean;
  /** Up to `limit` dead letters with seq > afterSeq, lowest seq first. */
  deadLetters(limit: number, afterSeq?: number): DeadLetter[];
  /**
   * Appends the given dead letters (all when omitted) to the outbox again, as new entries with new
   * seqs (their old place in the order is gone), under the usual limits; those stored leave the dead
   * letters. Returns how many were re-queued.
   */
  retryDeadLetters(seqs?: readonly number[]): number;
  /** Deletes the given dead letters (all when omitted). Returns how many. */
  purgeDeadLetters(seqs?: readonly number[]): number;
  stats(): OutboxStats;
  close(): void;
}

export const DEFAULT_MAX_DEAD_LETTERS = 10_000;

export function emptyDeadLetterCounts(): Record<DeadLetterReason, number> {
  return Object.fromEntries(DeadLetterReasons.map((r) => [r, 0])) as Record<DeadLetterReason, number>;
}

/** The NewEntry a dead letter goes back into the outbox as. */
export function entryOfDeadLetter(d: DeadLetter): NewEntry {
  const entry: NewEntry = { source: d.source, topic: d.topic, priority: d.priority };
  if (d.args !== undefined) entry.args = d.args;
  if (d.kwargs !== undefined) entry.kwargs = d.kwargs;
  if (d.options !== undefined) entry.options = d.options;
  return entry;
}

// ---- shared helpers -------------------------------------------------------------------------

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, int64AsNumber: true } as ConstructorParameters<typeof Encoder>[0]);

interface Payload {
  a?: unknown[];
  k?: Record<string, unknown>;
  o?: Record<string, unknown>;
}

/** CBOR keeps Buffers as byte strings (JSON would not), and it is what the uplink speaks anyway. */
export function encodePayload(entry: Pick<NewEntry, 'args' | 'kwargs' | 'options'>): Buffer {
  const p: Payload = {};
  if (entry.args !== undefined) p.a = entry.args;
  if (entry.kwargs !== undefined) p.k = entry.kwargs;
  if (entry.options !== undefined) p.o = entry.options;
  return encoder.encode(p);
}

export function decodePayload(data: Uint8Array): Pick<OutboxEntry, 'args' | 'kwargs' | 'options'> {
  const p = encoder.decode(data) as Payload;
  const out: Pick<OutboxEntry, 'args' | 'kwargs' | 'options'> = {};
  if (p.a !== undefined) out.args = p.a;
  if (p.k !== undefined) out.kwargs = p.k;
  if (p.o !== undefined) out.options = p.o;
  return out;
}

export function accountedBytes(payload: Uint8Array, topic: string, source: string): number {
  return payload.length + Buffer.byteLength(topic) + Buffer.byteLength(source);
}

export function resolveLimits(options: OutboxOptions): OutboxLimits {
  const limits: OutboxLimits = {
    maxCount: options.maxCount ?? defaultOutboxLimits.maxCount,
    maxBytes: options.maxBytes ?? defaultOutboxLimits.maxBytes,
    maxAgeMs: options.maxAgeMs ?? defaultOutboxLimits.maxAgeMs,
  };
  for (const [k, v] of Object.entries(limits)) if (!Number.isFinite(v) || v < 0) throw new RangeError(`outbox ${k} must be a finite number >= 0, got ${v}`);
  if (limits.maxCount < 1) throw new RangeError('outbox maxCount must be >= 1');
  return limits;
}

export function emptyDrops(): Record<DropReason, number> {
  return Object.fromEntries(DropReasons.map((r) => [r, 0])) as Record<DropReason, number>;
}

/** priority -> {count, bytes} of buffered entries: lets admission be decided without touching storage. */
export type PriorityTotals = Map<number, { count: number; bytes: number }>;

export function addToTotals(totals: PriorityTotals, priority: number, count: number, bytes: number): void {
  const t = totals.get(priority);
  if (t) {
    t.count += count;
    t.bytes += bytes;
    if (t.count <= 0) totals.delete(priority);
  } else if (count > 0) totals.set(priority, { count, bytes });
}

/**
 * Admission of one new entry against count/byte limits, decided from aggregates alone.
 * `evict` says how much must go (lowest priority first, oldest first within one priority, only
 * priorities up to `maxVictimPriority`). Evicting in that order always satisfies both needs when the
 * eligible totals do, so the decision is exact before anything is deleted: we never evict and then
 * reject.
 */
export type Admission =
  | { admit: true; evict: null }
  | { admit: true; evict: { count: number; bytes: number; maxVictimPriority: number; inclusive: boolean } }
  | { admit: false; reason: DropReason };

export function planAdmission(
  totals: PriorityTotals,
  current: { count: number; bytes: number },
  limits: OutboxLimits,
  entry: { priority: number; bytes: number; dropPolicy: DropPolicy },
): Admission {
  if (entry.bytes > limits.maxBytes) return { admit: false, reason: 'too-large' };
  const needCount = Math.max(0, current.count + 1 - limits.maxCount);
  const needBytes = Math.max(0, current.bytes + entry.bytes - limits.maxBytes);
  if (needCount === 0 && needBytes === 0) return { admit: true, evict: null };
  const inclusive = entry.dropPolicy === 'drop-oldest';
  let count = 0;
  let bytes = 0;
  for (const [p, t] of totals) {
    if (p < entry.priority || (inclusive && p === entry.priority)) {
      count += t.count;
      bytes += t.bytes;
    }
  }
  if (count < needCount) return { admit: false, reason: 'max-count' };
  if (bytes < needBytes) return { admit: false, reason: 'max-bytes' };
  return { admit: true, evict: { count: needCount, bytes: needBytes, maxVictimPriority: entry.priority, inclusive } };
}

/** Priorities eligible for eviction, lowest first. */
export function victimPriorities(totals: PriorityTotals, maxVictimPriority: number, inclusive: boolean): number[] {
  return [...totals.keys()].filter((p) => p < maxVictimPriority || (inclusive && p === maxVictimPriority)).sort((a, b) => a - b);
}

/** While evicting: which limit this victim is dropped for (count first, it is the cheaper to explain). */
export function evictionReason(remaining: { count: number; bytes: number }): DropReason {
  return remaining.count > 0 ? 'max-count' : 'max-bytes';
}

export function validateNewEntry(entry: NewEntry): void {
  if (typeof entry.source !== 'string' || typeof entry.topic !== 'string') throw new TypeError('outbox entry needs string source and topic');
  if (entry.priority !== undefined && !Number.isSafeInteger(entry.priority)) throw new TypeError(`outbox priority must be an integer, got ${entry.priority}`);
}

/** The counters both implementations keep; in memory only, restarting at 0 with the process. */
export class OutboxCounters {
  appended = 0;
  acked = 0;
  readonly drops = emptyDrops();
  /** source -> drops of that source's entries: which rule is losing data. */
  readonly dropsBySource = new Map<string, number>();
  diskFull = false;
  readonly deadLettered = emptyDeadLetterCounts();

  drop(reason: DropReason, source: string | null, n = 1): void {
    if (n <= 0) return;
    this.drops[reason] += n;
    if (source !== null) this.dropsBySource.set(source, (this.dropsBySource.get(source) ?? 0) + n);
  }

  snapshot(): Pick<OutboxStats, 'appended' | 'acked' | 'drops' | 'dropsBySource' | 'diskFull'> {
    return {
      appended: this.appended,
      acked: this.acked,
      drops: { ...this.drops },
      dropsBySource: Object.fromEntries(this.dropsBySource),
      diskFull: this.diskFull,
    };
  }
}
