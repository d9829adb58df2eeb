// An Outbox held in process memory: for tests, for gateways without writable storage, and as the
// executable twin of SqliteOutbox (same suite). It is not durable: a restart loses the buffer.
// Payloads are stored encoded, so sizes, copies and Buffer round trips match the SQLite outbox.

import {
  accountedBytes,
  addToTotals,
  decodePayload,
  encodePayload,
  evictionReason,
  OutboxCounters,
  planAdmission,
  resolveLimits,
  validateNewEntry,
  victimPriorities,
  DEFAULT_MAX_DEAD_LETTERS,
  entryOfDeadLetter,
  type AckTarget,
  type AppendResult,
  type DeadLetter,
  type DeadLetterReason,
  type DropPolicy,
  type NewEntry,
  type Outbox,
  type OutboxEntry,
  type OutboxLimits,
  type OutboxOptions,
  type OutboxStats,
  type PriorityTotals,
} from './outbox';

interface Stored {
  seq: number;
  source: string;
  topic: string;
  priority: number;
  bytes: number;
  enqueuedAt: number;
  payload: Buffer;
}

export class MemoryOutbox implements Outbox {
  private readonly limits: OutboxLimits;
  private readonly dropPolicy: DropPolicy;
  private readonly now: () => number;
  /** seq -> entry: a Map iterates in insertion order, which is seq order, so it is the FIFO itself. */
  private readonly entries = new Map<number, Stored>();
  /** priority -> seqs of that priority in seq order: eviction takes lowest priority, oldest first. */
  private readonly byPriority = new Map<number, Set<number>>();
  private readonly totals: PriorityTotals = new Map();
  private readonly counters = new OutboxCounters();
  private count = 0;
  private bytes = 0;
  private nextSeq = 1;
  private closed = false;
  /** seq -> dead letter, in seq order of the moves (a retry gives a new seq, so order is by move). */
  private readonly dead = new Map<number, Stored & { reason: DeadLetterReason; error: string; attempts: number; deadAt: number }>();
  private deadBytes = 0;
  private readonly maxDeadLetters: number;

  constructor(options: OutboxOptions = {}) {
    this.limits = resolveLimits(options);
    this.maxDeadLetters = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
    this.dropPolicy = options.dropPolicy ?? 'drop-oldest';
    this.now = options.now ?? Date.now;
  }

  append(entry: NewEntry): AppendResult {
    this.assertOpen();
    validateNewEntry(entry);
    const payload = encodePayload(entry);
    const priority = entry.priority ?? 0;
    const bytes = accountedBytes(payload, entry.topic, entry.source);
    const plan = planAdmission(this.totals, { count: this.count, bytes: this.bytes }, this.limits, {
      priority,
      bytes,
      dropPolicy: entry.dropPolicy ?? this.dropPolicy,
    });
    if (!plan.admit) {
      this.counters.drop(plan.reason, entry.source);
      return { stored: false, dropped: plan.reason };
    }
    if (plan.evict) {
      const remaining = { count: plan.evict.count, bytes: plan.evict.bytes };
      for (const p of victimPriorities(this.totals, plan.evict.maxVictimPriority, plan.evict.inclusive)) {
        // Deleting from a Set while iterating it is safe in JS; no copy, so eviction is O(victims).
        for (const seq of this.byPriority.get(p) ?? []) {
          if (remaining.count <= 0 && remaining.bytes <= 0) break;
          const victim = this.entries.get(seq);
          if (!victim) continue;
          this.counters.drop(evictionReason(remaining), victim.source);
          remaining.count -= 1;
          remaining.bytes -= victim.bytes;
          this.remove(victim);
        }
      }
    }
    const seq = this.nextSeq++;
    const stored: Stored = { seq, source: entry.source, topic: entry.topic, priority, bytes, enqueuedAt: this.now(), payload };
    this.entries.set(seq, stored);
    let set = this.byPriority.get(priority);
    if (!set) this.byPriority.set(priority, (set = new Set()));
    set.add(seq);
    addToTotals(this.totals, priority, 1, bytes);
    this.count += 1;
    this.bytes += bytes;
    this.counters.appended += 1;
    return { stored: true, seq };
  }

  appendBatch(entries: readonly NewEntry[]): AppendResult[] {
    return entries.map((e) => this.append(e));
  }

  peek(limit: number, afterSeq = 0): OutboxEntry[] {
    this.assertOpen();
    const out: OutboxEntry[] = [];
    if (limit <= 0) return out;
    // Skipping up to afterSeq is linear, which is fine: the uplink's in-flight window is small.
    for (const s of this.entries.values()) {
      if (s.seq <= afterSeq) continue;
      out.push({ seq: s.seq, source: s.source, topic: s.topic, ...decodePayload(s.payload), priority: s.priority, bytes: s.bytes, enqueuedAt: s.enqueuedAt });
      if (out.length >= limit) break;
    }
    return out;
  }

  ack(target: AckTarget): number {
    this.assertOpen();
    let n = 0;
    if ('upTo' in target) {
      for (const s of this.entries.values()) {
        if (s.seq > target.upTo) break;
        this.remove(s);
        n++;
      }
    } else {
      for (const seq of target) {
        const s = this.entries.get(seq);
        if (!s) continue;
        this.remove(s);
        n++;
      }
    }
    this.counters.acked += n;
    return n;
  }

  expire(now = this.now()): number {
    this.assertOpen();
    if (this.limits.maxAgeMs <= 0) return 0;
    const cutoff = now - this.limits.maxAgeMs;
    let n = 0;
    for (const s of this.entries.values()) {
      if (s.enqueuedAt >= cutoff) break;
      this.counters.drop('max-age', s.source);
      this.remove(s);
      n++;
    }
    return n;
  }

  deadLetter(seq: number, why: { reason: DeadLetterReason; error: string; attempts: number }): boolean {
    this.assertOpen();
    const s = this.entries.get(seq);
    if (!s) return false;
    this.remove(s);
    this.dead.set(seq, { ...s, ...why, deadAt: this.now() });
    this.deadBytes += s.bytes;
    this.counters.deadLettered[why.reason]++;
    for (const old of this.dead.values()) {
      if (this.dead.size <= this.maxDeadLetters) break;
      this.dead.delete(old.seq);
      this.deadBytes -= old.bytes;
      this.counters.drop('dead-letters-full', old.source);
    }
    return true;
  }

  deadLetters(limit: number, afterSeq = 0): DeadLetter[] {
    this.assertOpen();
    return [...this.dead.values()]
      .filter((d) => d.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, Math.max(0, limit))
      .map((d) => ({
        seq: d.seq,
        source: d.source,
        topic: d.topic,
        ...decodePayload(d.payload),
        priority: d.priority,
        bytes: d.bytes,
        enqueuedAt: d.enqueuedAt,
        reason: d.reason,
        error: d.error,
        attempts: d.attempts,
        deadAt: d.deadAt,
      }));
  }

  retryDeadLetters(seqs?: readonly number[]): number {
    this.assertOpen();
    const chosen = this.deadLetters(Number.MAX_SAFE_INTEGER).filter((d) => !seqs || seqs.includes(d.seq));
    let n = 0;
    for (const d of chosen) {
      if (!this.append(entryOfDeadLetter(d)).stored) continue;
      this.dead.delete(d.seq);
      this.deadBytes -= d.bytes;
      n++;
    }
    return n;
  }

  purgeDeadLetters(seqs?: readonly number[]): number {
    this.assertOpen();
    let n = 0;
    for (const d of [...this.dead.values()]) {
      if (seqs && !seqs.includes(d.seq)) continue;
      this.dead.delete(d.seq);
      this.deadBytes -= d.bytes;
      n++;
    }
    return n;
  }

  stats(): OutboxStats {
    const first = this.entries.values().next();
    const oldest = first.done ? null : first.value;
    return {
      count: this.count,
      bytes: this.bytes,
      oldestSeq: oldest ? oldest.seq : null,
      oldestAgeMs: oldest ? Math.max(0, this.now() - oldest.enqueuedAt) : null,
      nextSeq: this.nextSeq,
      ...this.counters.snapshot(),
      deadLetters: { count: this.dead.size, bytes: this.deadBytes, moved: { ...this.counters.deadLettered } },
    };
  }

  close(): void {
    this.closed = true;
  }

  private remove(s: Stored): void {
    this.entries.delete(s.seq);
    const set = this.byPriority.get(s.priority);
    set?.delete(s.seq);
    if (set && set.size === 0) this.byPriority.delete(s.priority);
    addToTotals(this.totals, s.priority, -1, -s.bytes);
    this.count -= 1;
    this.bytes -= s.bytes;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('outbox is closed');
  }
}
