// The dead-letter table of the outbox file: moving a row in from the outbox table, trimming it to
// maxDeadLetters, listing and deleting, and the in-memory mirror of its size. The outbox owns the
// transactions and storage-error handling around these steps; the mirror changes only once the
// caller's transaction committed (`applied`).

import type Database from 'better-sqlite3';
import type { DeadLetter, DeadLetterReason } from './outbox';
import { entryFromRow, type Row } from './sqlite-statements';

interface DeadRow extends Row {
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  dead_at: number;
}

/** What left the table (trimmed or deleted): its rule, for drop counts, and its size. */
export interface Removed {
  source: string;
  bytes: number;
}

interface DeadLetterStatements {
  moveFromOutbox: Database.Statement<[string, string, number, number, number]>;
  list: Database.Statement<[number, number], DeadRow>;
  deleteOne: Database.Statement<[number], Removed>;
  oldest: Database.Statement<[], { seq: number }>;
  size: Database.Statement<[], { c: number; b: number }>;
}

export class SqliteDeadLetters {
  private readonly stmt: DeadLetterStatements;
  /** Mirror of the table's size, loaded at open. */
  private held = { count: 0, bytes: 0 };

  constructor(
    db: Database.Database,
    private readonly max: number,
  ) {
    this.stmt = {
      moveFromOutbox: db.prepare<[string, string, number, number, number]>(
        'INSERT INTO dead_letters (seq, source, topic, priority, bytes, enqueued_at, payload, reason, error, attempts, dead_at) ' +
          'SELECT seq, source, topic, priority, bytes, enqueued_at, payload, ?, ?, ?, ? FROM outbox WHERE seq = ?',
      ),
      list: db.prepare<[number, number], DeadRow>(
        'SELECT seq, source, topic, priority, bytes, enqueued_at, payload, reason, error, attempts, dead_at FROM dead_letters WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      deleteOne: db.prepare<[number], Removed>('DELETE FROM dead_letters WHERE seq = ? RETURNING source, bytes'),
      oldest: db.prepare<[], { seq: number }>('SELECT seq FROM dead_letters ORDER BY seq LIMIT 1'),
      size: db.prepare<[], { c: number; b: number }>('SELECT COUNT(*) AS c, COALESCE(SUM(bytes), 0) AS b FROM dead_letters'),
    };
    const size = this.stmt.size.get();
    this.held = { count: size?.c ?? 0, bytes: size?.b ?? 0 };
  }

  get count(): number {
    return this.held.count;
  }

  get bytes(): number {
    return this.held.bytes;
  }

  /** In the caller's transaction: copies outbox row `seq` in (the caller deletes it there). False when there is no such row. */
  copyFromOutbox(seq: number, why: { reason: DeadLetterReason; error: string; attempts: number }, now: number): boolean {
    return this.stmt.moveFromOutbox.run(why.reason, why.error, why.attempts, now, seq).changes > 0;
  }

  /** In the caller's transaction: deletes the oldest dead letters so `adding` more still fit within max. */
  trimFor(adding: number): Removed[] {
    const gone: Removed[] = [];
    for (let n = this.held.count + adding; n > this.max; n--) {
      const oldest = this.stmt.oldest.get();
      const row = oldest ? this.stmt.deleteOne.get(oldest.seq) : undefined;
      if (row) gone.push(row);
    }
    return gone;
  }

  /** In the caller's transaction: deletes the given seqs; unknown ones are skipped. */
  delete(seqs: readonly number[]): Removed[] {
    const gone: Removed[] = [];
    for (const seq of seqs) {
      const row = this.stmt.deleteOne.get(seq);
      if (row) gone.push(row);
    }
    return gone;
  }

  /** After the caller's transaction committed: the mirror follows what it did. */
  applied(change: { addedBytes?: number[]; removed?: readonly Removed[] }): void {
    for (const b of change.addedBytes ?? []) {
      this.held.count += 1;
      this.held.bytes += b;
    }
    for (const r of change.removed ?? []) {
      this.held.count -= 1;
      this.held.bytes -= r.bytes;
    }
  }

  list(limit: number, afterSeq = 0): DeadLetter[] {
    if (limit <= 0) return [];
    return this.stmt.list.all(afterSeq, limit).map((r) => ({
      ...entryFromRow(r),
      reason: r.reason,
      error: r.error,
      attempts: r.attempts,
      deadAt: r.dead_at,
    }));
  }
}
