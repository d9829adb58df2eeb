// The durable Outbox: one SQLite file (WAL), one row per buffered publication, deleted only on ack.
// Owns the outbox's accounting (the in-memory mirror of what the table holds) and recovery
// from a full disk or a corrupt file at runtime. Admission and eviction inside a transaction are
// in sqlite-append; the file's pragmas, schema, queries and dead letters in sqlite-file/-schema/
// -statements/-dead-letters.
// It does not decide when to publish, retry or expire: the uplink's forwarder drives that.

import type Database from 'better-sqlite3';
import { quietLogger, type Logger } from '../util/logger';
import {
  addToTotals,
  OutboxCounters,
  resolveLimits,
  DEFAULT_MAX_DEAD_LETTERS,
  entryOfDeadLetter,
  type AckTarget,
  type AppendResult,
  type DeadLetter,
  type DeadLetterReason,
  type DropPolicy,
  type DropReason,
  type NewEntry,
  type Outbox,
  type OutboxEntry,
  type OutboxLimits,
  type OutboxOptions,
  type OutboxStats,
  type PriorityTotals,
} from './outbox';
import { SqliteDeadLetters, type Removed } from './sqlite-dead-letters';
import { moveAside, openOutboxFile } from './sqlite-file';
import { isCorruption, isDiskFull, sqliteCode } from '../util/sqlite-errors';
import { SqliteDurabilities, type SqliteDurability } from './sqlite-settings';
import { appendInTransaction, prepareEntry, startWork, type Prepared, type Work } from './sqlite-append';
import { entryFromRow, OutboxStatements, type Row } from './sqlite-statements';

export { SqliteDurabilities, type SqliteDurability };
export { CACHE_SIZE_KIB, JOURNAL_SIZE_LIMIT_BYTES } from './sqlite-settings';
export { SCHEMA_VERSION } from './sqlite-schema';

export interface SqliteOutboxOptions extends OutboxOptions {
  /** The database file. Its `-wal` sits beside it. */
  path: string;
  /** Default `full`: the outbox is the only copy of these events. */
  durability?: SqliteDurability;
  /** SQLite `max_page_count` (pages of 4 KiB): a hard cap on the file, and how tests simulate a full disk. */
  maxPageCount?: number;
  logger?: Logger;
}

export class SqliteOutbox implements Outbox {
  readonly path: string;
  readonly durability: SqliteDurability;
  private readonly limits: OutboxLimits;
  private readonly dropPolicy: DropPolicy;
  private readonly now: () => number;
  private readonly maxPageCount: number | undefined;
  private readonly log: Logger;
  private readonly counters = new OutboxCounters();
  private db!: Database.Database;
  private stmt!: OutboxStatements;
  private dead!: SqliteDeadLetters;
  /** In-memory mirror of what the table holds, loaded at open, so append never runs COUNT(*). */
  private totals: PriorityTotals = new Map();
  private count = 0;
  private bytes = 0;
  private nextSeq = 1;
  private closed = false;
  private readonly maxDeadLetters: number;

  constructor(options: SqliteOutboxOptions) {
    this.path = options.path;
    this.maxDeadLetters = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
    this.durability = options.durability ?? 'full';
    this.limits = resolveLimits(options);
    this.dropPolicy = options.dropPolicy ?? 'drop-oldest';
    this.now = options.now ?? Date.now;
    this.maxPageCount = options.maxPageCount;
    this.log = (options.logger ?? quietLogger).child('outbox');
    try {
      this.open();
    } catch (err) {
      if (!isCorruption(sqliteCode(err))) throw err;
      moveAside(this.path, err, 0, this.log);
      this.open();
    }
    this.log.info('outbox open', { path: this.path, durability: this.durability, count: this.count, bytes: this.bytes, nextSeq: this.nextSeq });
  }

  // ---- Outbox ----------------------------------------------------------------------------------

  append(entry: NewEntry): AppendResult {
    const results = this.appendBatch([entry]);
    return results[0] ?? { stored: false, dropped: 'io-error' };
  }

  appendBatch(entries: readonly NewEntry[]): AppendResult[] {
    this.assertOpen();
    if (entries.length === 0) return [];
    const prepared = entries.map((e) => prepareEntry(e, this.dropPolicy));
    const attempt = (items: Prepared[], retryOnCorruption: boolean): AppendResult[] | null => {
      try {
        return this.commitAppends(items);
      } catch (err) {
        const code = sqliteCode(err);
        if (code === null) throw err; // a bug, not storage trouble
        if (isCorruption(code) && retryOnCorruption) {
          this.recoverAtRuntime(err);
          return attempt(items, false);
        }
        if (items.length > 1) return null; // the caller retries one by one so what fits is kept
        const reason: DropReason = isDiskFull(code) ? 'disk-full' : 'io-error';
        this.noteStorageFailure(reason, err);
        for (const p of items) this.counters.drop(reason, p.entry.source);
        return items.map(() => ({ stored: false, dropped: reason }));
      }
    };
    const batch = attempt(prepared, true);
    if (batch) return batch;
    return prepared.map((p) => attempt([p], true)?.[0] ?? { stored: false, dropped: 'io-error' });
  }

  peek(limit: number, afterSeq = 0): OutboxEntry[] {
    this.assertOpen();
    if (limit <= 0) return [];
    return this.guarded('outbox peek failed', [], () => this.stmt.peek.all(afterSeq, limit).map(entryFromRow));
  }

  ack(target: AckTarget): number {
    this.assertOpen();
    const work = this.work();
    let n = 0;
    // On failure nothing was deleted: the entries will be sent again (at-least-once), never lost.
    const done = this.guarded('outbox ack failed, entries stay buffered', false, () => {
      this.db.transaction(() => {
        if ('upTo' in target) {
          for (const t of this.stmt.totalsUpTo.all(target.upTo)) {
            addToTotals(work.totals, t.priority, -t.c, -t.b);
            work.count -= t.c;
            work.bytes -= t.b;
            n += t.c;
          }
          if (n > 0) this.stmt.deleteUpTo.run(target.upTo);
        } else {
          for (const seq of target) {
            const gone = this.stmt.deleteOne.get(seq);
            if (!gone) continue;
            addToTotals(work.totals, gone.priority, -1, -gone.bytes);
            work.count -= 1;
            work.bytes -= gone.bytes;
            n++;
          }
        }
      })();
      return true;
    });
    if (!done) return 0;
    this.apply(work);
    this.counters.acked += n;
    return n;
  }

  expire(now = this.now()): number {
    this.assertOpen();
    if (this.limits.maxAgeMs <= 0) return 0;
    const cutoff = now - this.limits.maxAgeMs;
    const work = this.work();
    const done = this.guarded('outbox expire failed', false, () => {
      this.db.transaction(() => {
        // Walk in seq order and stop at the first young entry: cheap (no index on time) and it keeps
        // the buffer a contiguous tail; an entry stamped oddly by a clock jump waits for its elders.
        let after = 0;
        for (;;) {
          const rows = this.stmt.head.all(after, 256);
          for (const r of rows) {
            if (r.enqueued_at >= cutoff) return;
            this.stmt.deleteOne.run(r.seq);
            addToTotals(work.totals, r.priority, -1, -r.bytes);
            work.count -= 1;
            work.bytes -= r.bytes;
            work.drops.push({ reason: 'max-age', source: r.source });
            after = r.seq;
          }
          if (rows.length < 256) return;
        }
      })();
      return true;
    });
    if (!done) return 0;
    this.apply(work);
    return work.drops.length;
  }

  deadLetter(seq: number, why: { reason: DeadLetterReason; error: string; attempts: number }): boolean {
    this.assertOpen();
    const work = this.work();
    let moved: Pick<Row, 'priority' | 'bytes' | 'source'> | undefined;
    let overflow: Removed[] = [];
    // On failure nothing moved: the entry stays buffered and is sent again.
    const done = this.guarded(
      'outbox could not move an entry to the dead letters',
      false,
      () => {
        this.db.transaction(() => {
          if (!this.dead.copyFromOutbox(seq, why, this.now())) return;
          moved = this.stmt.deleteOne.get(seq);
          if (!moved) return;
          addToTotals(work.totals, moved.priority, -1, -moved.bytes);
          work.count -= 1;
          work.bytes -= moved.bytes;
          overflow = this.dead.trimFor(1);
        })();
        return true;
      },
      { seq },
    );
    if (!done || !moved) return false;
    this.apply(work);
    this.dead.applied({ addedBytes: [moved.bytes], removed: overflow });
    this.counters.deadLettered[why.reason]++;
    for (const o of overflow) this.counters.drop('dead-letters-full', o.source);
    return true;
  }

  deadLetters(limit: number, afterSeq = 0): DeadLetter[] {
    this.assertOpen();
    return this.dead.list(limit, afterSeq);
  }

  retryDeadLetters(seqs?: readonly number[]): number {
    this.assertOpen();
    const chosen = seqs ? this.selectDead(seqs) : this.dead.list(this.dead.count);
    if (chosen.length === 0) return 0;
    // Two transactions: a crash between them leaves the entry in both places, so it is delivered
    // (at least once) and stays listed until purged; never lost.
    const results = this.appendBatch(chosen.map(entryOfDeadLetter));
    const requeued = chosen.filter((_, i) => results[i]?.stored === true).map((d) => d.seq);
    return this.deleteDead(requeued);
  }

  purgeDeadLetters(seqs?: readonly number[]): number {
    this.assertOpen();
    return this.deleteDead(seqs ?? this.dead.list(this.dead.count).map((d) => d.seq));
  }

  stats(): OutboxStats {
    let oldest: Pick<Row, 'seq' | 'enqueued_at'> | undefined;
    if (!this.closed && this.count > 0) {
      try {
        oldest = this.stmt.oldest.get();
      } catch {
        oldest = undefined; // stats must not throw; the failure shows up on the next real operation
      }
    }
    return {
      count: this.count,
      bytes: this.bytes,
      oldestSeq: oldest ? oldest.seq : null,
      oldestAgeMs: oldest ? Math.max(0, this.now() - oldest.enqueued_at) : null,
      nextSeq: this.nextSeq,
      ...this.counters.snapshot(),
      deadLetters: { count: this.dead.count, bytes: this.dead.bytes, moved: { ...this.counters.deadLettered } },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close(); // the last connection checkpoints and removes the -wal
  }

  // ---- internals -------------------------------------------------------------------------------

  private selectDead(seqs: readonly number[]): DeadLetter[] {
    const want = new Set(seqs);
    return this.dead.list(this.dead.count).filter((d) => want.has(d.seq));
  }

  private deleteDead(seqs: readonly number[]): number {
    let gone: Removed[] = [];
    const done = this.guarded('outbox could not delete dead letters', false, () => {
      this.db.transaction(() => {
        gone = this.dead.delete(seqs);
      })();
      return true;
    });
    if (!done) return 0;
    this.dead.applied({ removed: gone });
    return gone.length;
  }

  /** Opens the file and loads the mirror of what it holds. */
  private open(seedSeq = 0): void {
    const db = openOutboxFile(this.path, { durability: this.durability, maxPageCount: this.maxPageCount, seedSeq });
    try {
      const stmt = new OutboxStatements(db);
      const totals: PriorityTotals = new Map();
      let count = 0;
      let bytes = 0;
      for (const t of stmt.totals.all()) {
        totals.set(t.priority, { count: t.c, bytes: t.b });
        count += t.c;
        bytes += t.b;
      }
      const dead = new SqliteDeadLetters(db, this.maxDeadLetters);
      this.nextSeq = (stmt.highWater.get()?.seq ?? 0) + 1;
      this.stmt = stmt;
      this.dead = dead;
      this.db = db;
      this.totals = totals;
      this.count = count;
      this.bytes = bytes;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Runs one storage operation. A programming error (no SQLite code) rethrows; a corrupt file is
   * moved aside and reopened; any other storage failure is logged. Either way the caller gets
   * `failed` and changes nothing in the mirror: what was buffered stays buffered.
   */
  private guarded<T>(what: string, failed: T, run: () => T, fields: Record<string, unknown> = {}): T {
    try {
      return run();
    } catch (err) {
      const code = sqliteCode(err);
      if (code === null) throw err;
      if (isCorruption(code)) this.recoverAtRuntime(err);
      else this.log.error(what, { path: this.path, ...fields, code, err });
      return failed;
    }
  }

  private recoverAtRuntime(err: unknown): void {
    const lost = this.count;
    const seed = this.nextSeq - 1;
    try {
      this.db.close();
    } catch {
      // already unusable; we are replacing it
    }
    moveAside(this.path, err, lost, this.log);
    // Seed the sequence so seqs stay increasing for an uplink that holds cursors into the old file.
    this.open(seed);
    this.counters.drop('corrupt', null, lost);
  }

  private commitAppends(items: Prepared[]): AppendResult[] {
    const work = this.work();
    const results = this.db.transaction(() => items.map((p) => appendInTransaction(this.stmt, p, work, this.limits, this.now)))();
    const wasFull = this.counters.diskFull;
    this.apply(work);
    this.counters.appended += work.stored;
    if (wasFull && work.stored > 0) {
      this.counters.diskFull = false;
      this.log.info('outbox storage has room again, buffering resumed', { path: this.path, count: this.count });
    }
    return results;
  }

  private work(): Work {
    return startWork({ totals: this.totals, count: this.count, bytes: this.bytes });
  }

  private apply(work: Work): void {
    this.totals = work.totals;
    this.count = work.count;
    this.bytes = work.bytes;
    for (const d of work.drops) this.counters.drop(d.reason, d.source);
    if (work.lastSeq >= this.nextSeq) this.nextSeq = work.lastSeq + 1;
  }

  private noteStorageFailure(reason: DropReason, err: unknown): void {
    if (reason === 'disk-full') {
      if (!this.counters.diskFull)
        this.log.warn('outbox storage is full: new events are dropped until acks free space', { path: this.path, count: this.count, bytes: this.bytes });
      this.counters.diskFull = true;
    } else {
      this.log.error('outbox append failed', { path: this.path, code: sqliteCode(err) ?? undefined, err });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('outbox is closed');
  }
}
