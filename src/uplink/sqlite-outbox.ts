// The durable Outbox: one SQLite file (WAL), one row per buffered publication, deleted only on ack.
// Owns the file's lifecycle too: schema, pragmas, full-disk survival and moving a corrupt file
// aside. It does not decide when to publish, retry or expire: the uplink session drives that.

import fs from 'node:fs';
import Database from 'better-sqlite3';
import { quietLogger, type Logger } from '../util/logger';
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
  type DropReason,
  type NewEntry,
  type Outbox,
  type OutboxEntry,
  type OutboxLimits,
  type OutboxOptions,
  type OutboxStats,
  type PriorityTotals,
} from './outbox';

/**
 * `synchronous` in WAL mode, i.e. what "durable when append returns" means:
 * - `full`: the WAL is fsynced at every commit. An acknowledged append survives power loss. Costs one
 *   fsync per transaction (per `append`, or per `appendBatch`), which on an SD card is milliseconds.
 * - `normal`: the WAL is fsynced only at checkpoints. Survives a process crash (SIGKILL, OOM) fully,
 *   but a power cut can lose the last transactions before the checkpoint. It never corrupts the file.
 */
export const SqliteDurabilities = ['full', 'normal'] as const;
export type SqliteDurability = (typeof SqliteDurabilities)[number];

export interface SqliteOutboxOptions extends OutboxOptions {
  /** The database file. Its `-wal` sits beside it. */
  path: string;
  /** Default `full`: the outbox is the only copy of these events. */
  durability?: SqliteDurability;
  /** SQLite `max_page_count` (pages of 4 KiB): a hard cap on the file, and how tests simulate a full disk. */
  maxPageCount?: number;
  logger?: Logger;
}

/** 2 added dead_letters; a version-1 file gets the table at open (CREATE TABLE IF NOT EXISTS). */
const SCHEMA_VERSION = 2;

/** Size the -wal file is truncated to after a checkpoint (SQLite `journal_size_limit`). */
export const JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * SQLite page cache of the connection, in KiB (`cache_size = -N`). better-sqlite3 builds SQLite with
 * 16 MB (SQLITE_DEFAULT_CACHE_SIZE=-16000), which the buffer fills once its file passes ~16 MB and then
 * keeps in RSS. Appends touch the right edge of the table and its index, replay and acks the left
 * edge: a few hundred pages hold that working set, so 2 MiB (SQLite's own default) loses no speed.
 */
export const CACHE_SIZE_KIB = 2048;

// seq is the rowid (INTEGER PRIMARY KEY): replay order and ack-by-seq are lookups on the table's own
// B-tree. AUTOINCREMENT keeps the high-water mark in sqlite_sequence, so seq keeps increasing after
// every row was acked and the file reopened (a plain rowid would restart at MAX+1 = 1).
// The priority index implicitly ends with the rowid, so it is ordered (priority, seq): exactly the
// eviction order. payload is CBOR of {a: args, k: kwargs, o: options}.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  topic TEXT NOT NULL,
  priority INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_priority ON outbox (priority);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  topic TEXT NOT NULL,
  priority INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  payload BLOB NOT NULL,
  reason TEXT NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  dead_at INTEGER NOT NULL
);
`;

interface Row {
  seq: number;
  source: string;
  topic: string;
  priority: number;
  bytes: number;
  enqueued_at: number;
  payload: Buffer;
}

/** One stored row as the contract's entry (outbox and dead letters share these columns). */
function entryFromRow(r: Row): OutboxEntry {
  return {
    seq: r.seq,
    source: r.source,
    topic: r.topic,
    ...decodePayload(r.payload),
    priority: r.priority,
    bytes: r.bytes,
    enqueuedAt: r.enqueued_at,
  };
}

interface DeadRow extends Row {
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  dead_at: number;
}

interface Prepared {
  entry: NewEntry;
  payload: Buffer;
  priority: number;
  bytes: number;
  dropPolicy: DropPolicy;
}

/** What a transaction changed, applied to the in-memory mirror only after it committed. */
interface Work {
  totals: PriorityTotals;
  count: number;
  bytes: number;
  drops: { reason: DropReason; source: string }[];
  stored: number;
  /** Highest seq assigned in this transaction (0 if none). */
  lastSeq: number;
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<[string, string, number, number, number, Buffer]>(
      'INSERT INTO outbox (source, topic, priority, bytes, enqueued_at, payload) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    victims: db.prepare<[number, number], Pick<Row, 'seq' | 'source' | 'bytes'>>(
      'SELECT seq, source, bytes FROM outbox WHERE priority = ? ORDER BY seq LIMIT ?',
    ),
    deleteOne: db.prepare<[number], Pick<Row, 'priority' | 'bytes' | 'source'>>('DELETE FROM outbox WHERE seq = ? RETURNING priority, bytes, source'),
    peek: db.prepare<[number, number], Row>('SELECT seq, source, topic, priority, bytes, enqueued_at, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
    // NOT INDEXED: left alone, the planner answers GROUP BY priority by scanning the whole priority
    // index (every buffered row) instead of the seq range being acked: O(buffer) per ack, measured
    // as replay falling from ~90k/s to ~13k/s at a million buffered events.
    totalsUpTo: db.prepare<[number], { priority: number; c: number; b: number }>(
      'SELECT priority, COUNT(*) AS c, SUM(bytes) AS b FROM outbox NOT INDEXED WHERE seq <= ? GROUP BY priority',
    ),
    deleteUpTo: db.prepare<[number]>('DELETE FROM outbox WHERE seq <= ?'),
    head: db.prepare<[number, number], Pick<Row, 'seq' | 'source' | 'priority' | 'bytes' | 'enqueued_at'>>(
      'SELECT seq, source, priority, bytes, enqueued_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    oldest: db.prepare<[], Pick<Row, 'seq' | 'enqueued_at'>>('SELECT seq, enqueued_at FROM outbox ORDER BY seq LIMIT 1'),
    // Dead letters keep their seq (the primary key): the move is one INSERT … SELECT and one DELETE.
    moveToDead: db.prepare<[string, string, number, number, number]>(
      'INSERT INTO dead_letters (seq, source, topic, priority, bytes, enqueued_at, payload, reason, error, attempts, dead_at) ' +
        'SELECT seq, source, topic, priority, bytes, enqueued_at, payload, ?, ?, ?, ? FROM outbox WHERE seq = ?',
    ),
    deadList: db.prepare<[number, number], DeadRow>(
      'SELECT seq, source, topic, priority, bytes, enqueued_at, payload, reason, error, attempts, dead_at FROM dead_letters WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    deadDelete: db.prepare<[number], { source: string; bytes: number }>('DELETE FROM dead_letters WHERE seq = ? RETURNING source, bytes'),
    deadOldest: db.prepare<[], { seq: number }>('SELECT seq FROM dead_letters ORDER BY seq LIMIT 1'),
  };
}

function sqliteCode(err: unknown): string | null {
  return err instanceof Database.SqliteError ? err.code : null;
}

function isCorruption(code: string | null): boolean {
  return code !== null && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

/** SQLite maps ENOSPC (and max_page_count) to SQLITE_FULL; IOERR_* is a failing card, not a full one. */
function isDiskFull(code: string | null): boolean {
  return code === 'SQLITE_FULL';
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
  private stmt!: Statements;
  /** In-memory mirror of what the table holds, loaded at open, so append never runs COUNT(*). */
  private totals: PriorityTotals = new Map();
  private count = 0;
  private bytes = 0;
  private nextSeq = 1;
  private closed = false;
  /** Mirror of the dead_letters table's size, loaded at open. */
  private deadCount = 0;
  private deadBytes = 0;
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
      this.moveAside(err, 0);
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
    const prepared = entries.map((e) => this.prepare(e));
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
    try {
      return this.stmt.peek.all(afterSeq, limit).map(entryFromRow);
    } catch (err) {
      const code = sqliteCode(err);
      if (code === null) throw err;
      if (isCorruption(code)) this.recoverAtRuntime(err);
      else this.log.error('outbox peek failed', { path: this.path, code, err });
      return [];
    }
  }

  ack(target: AckTarget): number {
    this.assertOpen();
    const work = this.work();
    let n = 0;
    try {
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
    } catch (err) {
      const code = sqliteCode(err);
      if (code === null) throw err;
      // Nothing was deleted: the entries will be sent again (at-least-once), never lost.
      if (isCorruption(code)) this.recoverAtRuntime(err);
      else this.log.error('outbox ack failed, entries stay buffered', { path: this.path, code, err });
      return 0;
    }
    this.apply(work);
    this.counters.acked += n;
    return n;
  }

  expire(now = this.now()): number {
    this.assertOpen();
    if (this.limits.maxAgeMs <= 0) return 0;
    const cutoff = now - this.limits.maxAgeMs;
    const work = this.work();
    try {
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
    } catch (err) {
      const code = sqliteCode(err);
      if (code === null) throw err;
      if (isCorruption(code)) this.recoverAtRuntime(err);
      else this.log.error('outbox expire failed', { path: this.path, code, err });
      return 0;
    }
    this.apply(work);
    return work.drops.length;
  }

  deadLetter(seq: number, why: { reason: DeadLetterReason; error: string; attempts: number }): boolean {
    this.assertOpen();
    const work = this.work();
    let moved: Pick<Row, 'priority' | 'bytes' | 'source'> | undefined;
    const overflow: { source: string; bytes: number }[] = [];
    try {
      this.db.transaction(() => {
        if (this.stmt.moveToDead.run(why.reason, why.error, why.attempts, this.now(), seq).changes === 0) return;
        moved = this.stmt.deleteOne.get(seq);
        if (!moved) return;
        addToTotals(work.totals, moved.priority, -1, -moved.bytes);
        work.count -= 1;
        work.bytes -= moved.bytes;
        for (let n = this.deadCount + 1; n > this.maxDeadLetters; n--) {
          const oldest = this.stmt.deadOldest.get();
          const gone = oldest ? this.stmt.deadDelete.get(oldest.seq) : undefined;
          if (gone) overflow.push(gone);
        }
      })();
    } catch (err) {
      const code = sqliteCode(err);
      if (code === null) throw err;
      // Nothing moved: the entry stays buffered and is sent again.
      if (isCorruption(code)) this.recoverAtRuntime(err);
      else this.log.error('outbox could not move an entry to the dead letters', { path: this.path, seq, code, err });
      return false;
    }
    if (!moved) return false;
    this.apply(work);
    this.deadCount += 1 - overflow.length;
    this.deadBytes += moved.bytes - overflow.reduce((sum, o) => sum + o.bytes, 0);
    this.counters.deadLettered[why.reason]++;
    for (const o of overflow) this.counters.drop('dead-letters-full', o.source);
    return true;
  }

  deadLetters(limit: number, afterSeq = 0): DeadLetter[] {
    this.assertOpen();
    if (limit <= 0) return [];
    return this.stmt.deadList.all(afterSeq, limit).map((r) => ({
      ...entryFromRow(r),
      reason: r.reason,
      error: r.error,
      attempts: r.attempts,
      deadAt: r.dead_at,
    }));
  }

  retryDeadLetters(seqs?: readonly number[]): number {
    this.assertOpen();
    const chosen = seqs ? this.selectDead(seqs) : this.deadLetters(this.deadCount);
    if (chosen.length === 0) return 0;
    // Two transactions: a crash between them leaves the entry in both places, so it is delivered
    // (at least once) and stays listed until purged; never lost.
    const results = this.appendBatch(chosen.map(entryOfDeadLetter));
    const requeued = chosen.filter((_, i) => results[i]?.stored === true).map((d) => d.seq);
    return this.deleteDead(requeued);
  }

  purgeDeadLetters(seqs?: readonly number[]): number {
    this.assertOpen();
    return this.deleteDead(seqs ?? this.deadLetters(this.deadCount).map((d) => d.seq));
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
      deadLetters: { count: this.deadCount, bytes: this.deadBytes, moved: { ...this.counters.deadLettered } },
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
    return this.deadLetters(this.deadCount).filter((d) => want.has(d.seq));
  }

  private deleteDead(seqs: readonly number[]): number {
    let n = 0;
    let bytes = 0;
    try {
      this.db.transaction(() => {
        for (const seq of seqs) {
          const gone = this.stmt.deadDelete.get(seq);
          if (!gone) continue;
          n++;
          bytes += gone.bytes;
        }
      })();
    } catch (err) {
      const code = sqliteCode(err);
      if (code === null) throw err;
      if (isCorruption(code)) this.recoverAtRuntime(err);
      else this.log.error('outbox could not delete dead letters', { path: this.path, code, err });
      return 0;
    }
    this.deadCount -= n;
    this.deadBytes -= bytes;
    return n;
  }

  private open(seedSeq = 0): void {
    const db = new Database(this.path);
    try {
      // EXCLUSIVE: one owner (our in-memory totals assume nobody else writes), and no -shm mapping.
      // A second process opening the same file fails with SQLITE_BUSY instead of silently sharing it.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`outbox: could not enable WAL on ${this.path} (got ${String(mode)})`);
      db.pragma(`synchronous = ${this.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      // A checkpoint resets the WAL but leaves the file at its largest size: after a big batch
      // (or a long replay) an SD card would keep that much space. Truncate it back at checkpoints.
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
      if (this.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(this.maxPageCount)}`);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new Error(`outbox: ${this.path} has schema version ${version}, newer than this wampgate (${SCHEMA_VERSION})`);
      db.exec(SCHEMA);
      if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      if (seedSeq > 0) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)").run(seedSeq);
      const totals: PriorityTotals = new Map();
      let count = 0;
      let bytes = 0;
      for (const t of db
        .prepare<[], { priority: number; c: number; b: number }>('SELECT priority, COUNT(*) AS c, SUM(bytes) AS b FROM outbox GROUP BY priority')
        .all()) {
        totals.set(t.priority, { count: t.c, bytes: t.b });
        count += t.c;
        bytes += t.b;
      }
      const hw = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get();
      const dead = db.prepare<[], { c: number; b: number }>('SELECT COUNT(*) AS c, COALESCE(SUM(bytes), 0) AS b FROM dead_letters').get();
      this.stmt = prepareStatements(db);
      this.db = db;
      this.deadCount = dead?.c ?? 0;
      this.deadBytes = dead?.b ?? 0;
      this.totals = totals;
      this.count = count;
      this.bytes = bytes;
      this.nextSeq = (hw?.seq ?? 0) + 1;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Rename the file (and its WAL) with a timestamp suffix, loudly, so a fresh one can start. */
  private moveAside(err: unknown, lostEntries: number): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let moved = `${this.path}.corrupt-${stamp}`;
    for (let i = 1; fs.existsSync(moved); i++) moved = `${this.path}.corrupt-${stamp}-${i}`;
    fs.renameSync(this.path, moved);
    // Keep the WAL next to the moved file under SQLite's naming, so the pair can still be inspected.
    if (fs.existsSync(`${this.path}-wal`)) fs.renameSync(`${this.path}-wal`, `${moved}-wal`);
    fs.rmSync(`${this.path}-shm`, { force: true });
    this.log.error('outbox database is corrupt: moved aside, starting a fresh one (buffered events in it are not replayed)', {
      path: this.path,
      movedTo: moved,
      code: sqliteCode(err) ?? undefined,
      err,
      lostEntries: lostEntries > 0 ? lostEntries : undefined,
    });
    return moved;
  }

  private recoverAtRuntime(err: unknown): void {
    const lost = this.count;
    const seed = this.nextSeq - 1;
    try {
      this.db.close();
    } catch {
      // already unusable; we are replacing it
    }
    this.moveAside(err, lost);
    // Seed the sequence so seqs stay increasing for an uplink that holds cursors into the old file.
    this.open(seed);
    this.counters.drop('corrupt', null, lost);
  }

  private prepare(entry: NewEntry): Prepared {
    validateNewEntry(entry);
    const payload = encodePayload(entry);
    return {
      entry,
      payload,
      priority: entry.priority ?? 0,
      bytes: accountedBytes(payload, entry.topic, entry.source),
      dropPolicy: entry.dropPolicy ?? this.dropPolicy,
    };
  }

  private commitAppends(items: Prepared[]): AppendResult[] {
    const work = this.work();
    const results = this.db.transaction(() => items.map((p) => this.appendInTransaction(p, work)))();
    const wasFull = this.counters.diskFull;
    this.apply(work);
    this.counters.appended += work.stored;
    if (wasFull && work.stored > 0) {
      this.counters.diskFull = false;
      this.log.info('outbox storage has room again, buffering resumed', { path: this.path, count: this.count });
    }
    return results;
  }

  private appendInTransaction(p: Prepared, work: Work): AppendResult {
    const plan = planAdmission(work.totals, work, this.limits, p);
    if (!plan.admit) {
      work.drops.push({ reason: plan.reason, source: p.entry.source });
      return { stored: false, dropped: plan.reason };
    }
    if (plan.evict) {
      const remaining = { count: plan.evict.count, bytes: plan.evict.bytes };
      for (const priority of victimPriorities(work.totals, plan.evict.maxVictimPriority, plan.evict.inclusive)) {
        while (remaining.count > 0 || remaining.bytes > 0) {
          // Chunked: better-sqlite3 cannot write while a SELECT is being iterated on the same connection.
          const rows = this.stmt.victims.all(priority, 64);
          for (const v of rows) {
            if (remaining.count <= 0 && remaining.bytes <= 0) break;
            work.drops.push({ reason: evictionReason(remaining), source: v.source });
            this.stmt.deleteOne.run(v.seq);
            addToTotals(work.totals, priority, -1, -v.bytes);
            work.count -= 1;
            work.bytes -= v.bytes;
            remaining.count -= 1;
            remaining.bytes -= v.bytes;
          }
          if (rows.length < 64) break;
        }
      }
    }
    const info = this.stmt.insert.run(p.entry.source, p.entry.topic, p.priority, p.bytes, this.now(), p.payload);
    const seq = Number(info.lastInsertRowid);
    addToTotals(work.totals, p.priority, 1, p.bytes);
    work.count += 1;
    work.bytes += p.bytes;
    work.stored += 1;
    work.lastSeq = seq;
    return { stored: true, seq };
  }

  private work(): Work {
    const totals: PriorityTotals = new Map();
    for (const [p, t] of this.totals) totals.set(p, { ...t });
    return { totals, count: this.count, bytes: this.bytes, drops: [], stored: 0, lastSeq: 0 };
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
