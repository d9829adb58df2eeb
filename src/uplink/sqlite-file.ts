// The outbox's SQLite file as a file: opened with its pragmas (exclusive lock, WAL, durability,
// cache and size caps) and migrated, and a corrupt file moved aside (util/sqlite-errors.ts
// classifies storage errors). What the tables hold and how they are queried is elsewhere.

import Database from 'better-sqlite3';
import type { Logger } from '../util/logger';
import { moveCorruptFileAside, sqliteCode } from '../util/sqlite-errors';
import { migrate } from './sqlite-schema';
import { CACHE_SIZE_KIB, JOURNAL_SIZE_LIMIT_BYTES, type SqliteDurability } from './sqlite-settings';

export interface OpenOptions {
  durability: SqliteDurability;
  /** SQLite `max_page_count`; undefined leaves SQLite's own. */
  maxPageCount: number | undefined;
  /** > 0: the sequence starts after it (a fresh file replacing a corrupt one keeps seqs increasing). */
  seedSeq?: number;
}

/** Opens (creating if needed) and migrates the file; closes it again if any step fails. */
export function openOutboxFile(path: string, options: OpenOptions): Database.Database {
  const db = new Database(path);
  try {
    // EXCLUSIVE: one owner (the outbox keeps in-memory totals that assume nobody else writes), and
    // no -shm mapping. A second process opening the same file fails with SQLITE_BUSY instead of
    // silently sharing it.
    db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`outbox: could not enable WAL on ${path} (got ${String(mode)})`);
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    // A checkpoint resets the WAL but leaves the file at its largest size: after a big batch
    // (or a long replay) an SD card would keep that much space. Truncate it back at checkpoints.
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
    migrate(db, path);
    if ((options.seedSeq ?? 0) > 0) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)").run(options.seedSeq);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Renames the file (and its WAL) with a timestamp suffix, loudly, so a fresh one can start. */
export function moveAside(path: string, err: unknown, lostEntries: number, log: Logger): string {
  const moved = moveCorruptFileAside(path);
  log.error('outbox database is corrupt: moved aside, starting a fresh one (buffered events in it are not replayed)', {
    path,
    movedTo: moved,
    code: sqliteCode(err) ?? undefined,
    err,
    lostEntries: lostEntries > 0 ? lostEntries : undefined,
  });
  return moved;
}
