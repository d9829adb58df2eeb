// The event history file's schema: opening it (WAL, one owner), creating the tables, migrating
// files of earlier versions in place (users have them), and moving a corrupt file aside, so the
// store always sees a file of the current schema. Nothing here reads or writes events.

import Database from 'better-sqlite3';
import type { Logger } from '../util/logger';
import { isCorruption, moveCorruptFileAside, sqliteCode } from '../util/sqlite-errors';
import { decodeBlockV2 } from './block-v2';
import { encodeBlock, type BlockEvent } from './event-block';

/** 1: one row per event (`events`). 2: one row per topic per flush (`blocks`), fixed-width
 * fields (block-v2.ts). 3: the same rows, blocks in the compact layout of event-block.ts. */
export const SCHEMA_VERSION = 3;
/** SQLite page cache (KiB): appends touch the right edge, reads one topic's recent blocks. */
const CACHE_SIZE_KIB = 2048;
const JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;
/** Events per block when a schema 1 file is converted. */
const MIGRATED_BLOCK_EVENTS = 1000;
/** Blocks read at once when a schema 2 file is converted (a block is at most a flush's events). */
const MIGRATED_PAGE_BLOCKS = 16;

// seq is the order the broker accepted publications in (never wall clock: a Pi has no real-time
// clock); a block holds one topic's events first_seq..last_seq. blocks_by_topic serves reads (a
// topic's newest blocks) and per-topic eviction, blocks_by_seq the file-wide byte cap (oldest
// first), blocks_by_expiry the age sweep. expires_us is when the block's oldest event expires,
// set from the topic's rule (restamped at open when the rule changed). The blob goes last so the
// fixed columns are read without it.
const TOPICS = `
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  realm TEXT NOT NULL,
  topic TEXT NOT NULL,
  max_age_ms INTEGER,
  UNIQUE (realm, topic)
);`;
const BLOCKS = `
CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY,
  topic_id INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  events INTEGER NOT NULL,
  time_min_us INTEGER NOT NULL,
  time_max_us INTEGER NOT NULL,
  expires_us INTEGER,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_by_topic ON blocks (topic_id, last_seq);
CREATE INDEX IF NOT EXISTS blocks_by_seq ON blocks (first_seq);
CREATE INDEX IF NOT EXISTS blocks_by_expiry ON blocks (expires_us) WHERE expires_us IS NOT NULL;`;

export const INSERT_BLOCK =
  'INSERT INTO blocks (topic_id, first_seq, last_seq, events, time_min_us, time_max_us, expires_us, bytes, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';

/** Opens (creating or migrating) the file. Throws SqliteError for a file that is not a database. */
export function openHistoryFile(path: string, log: Logger): Database.Database {
  const db = new Database(path);
  try {
    // One owner: the store's mirror assumes nobody else writes; a second process gets SQLITE_BUSY.
    db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`event history: could not enable WAL on ${path} (got ${String(mode)})`);
    // History is a convenience copy, not the only one: NORMAL survives a crash, and a power cut
    // loses at most the last transactions before the checkpoint, never the file.
    db.pragma('synchronous = NORMAL');
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new Error(`event history: ${path} has schema version ${version}, newer than this wampgate (${SCHEMA_VERSION})`);
    if (version === 1) migrateFromEvents(db, path, log);
    else if (version === 2) migrateBlocks(db, path, log);
    db.exec(TOPICS + BLOCKS);
    if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Schema 1 -> 3 in one transaction: each topic's events, in seq order, become blocks of up to
 * MIGRATED_BLOCK_EVENTS events with the same seq, time and accounted bytes; `events` is dropped.
 * A failure rolls back and leaves the file at version 1. */
function migrateFromEvents(db: Database.Database, path: string, log: Logger): void {
  db.transaction(() => {
    db.exec(BLOCKS);
    const topics = db.prepare<[], { id: number; max_age_ms: number | null }>('SELECT id, max_age_ms FROM topics').all();
    const page = db.prepare<[number, number, number], BlockEvent>(
      'SELECT seq, time_us AS timeUs, publication, session, authid, authrole, serializer, count, payload, extra FROM events WHERE topic_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    const insert = db.prepare(INSERT_BLOCK);
    let events = 0;
    let blocks = 0;
    for (const t of topics) {
      for (let after = -1; ;) {
        const rows = page.all(t.id, after, MIGRATED_BLOCK_EVENTS);
        if (rows.length === 0) break;
        const b = encodeBlock(
          rows,
          rows.map((r) => r.seq),
        );
        const expires = t.max_age_ms === null ? null : b.timeMinUs + t.max_age_ms * 1000;
        insert.run(t.id, b.firstSeq, b.lastSeq, b.events, b.timeMinUs, b.timeMaxUs, expires, b.bytes, b.data);
        after = b.lastSeq;
        events += rows.length;
        blocks++;
      }
    }
    // Rows of topics that no longer exist cannot be read: they go with the table.
    db.exec('DROP TABLE events');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    log.info(`event history file converted to schema ${SCHEMA_VERSION} (blocks)`, { path, events, blocks });
  })();
}

/** Schema 2 -> 3 in one transaction: each block's events are re-packed in the compact layout;
 * seqs, times and accounted bytes stay, so the blocks' other columns stay as they are. A failure
 * rolls back and leaves the file at version 2. */
function migrateBlocks(db: Database.Database, path: string, log: Logger): void {
  db.transaction(() => {
    const rewrite = db.prepare<[Buffer, number]>('UPDATE blocks SET data = ? WHERE id = ?');
    let blocks = 0;
    let before = 0;
    let after = 0;
    // A page at a time: a full file (maxBytes) must not be held in memory at once.
    const page = db.prepare<[number, number], { id: number; data: Buffer }>('SELECT id, data FROM blocks WHERE id > ? ORDER BY id LIMIT ?');
    for (let last = 0; ;) {
      const rows = page.all(last, MIGRATED_PAGE_BLOCKS);
      if (rows.length === 0) break;
      for (const b of rows) {
        const events = decodeBlockV2(b.data);
        const packed = encodeBlock(
          events,
          events.map((e) => e.seq),
        );
        rewrite.run(packed.data, b.id);
        blocks++;
        before += b.data.length;
        after += packed.data.length;
        last = b.id;
      }
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    log.info(`event history file converted to schema ${SCHEMA_VERSION} (compact blocks)`, { path, blocks, bytesBefore: before, bytesAfter: after });
  })();
}

/** Whether opening failed because the file is not a database or is damaged (not, say, EACCES). */
export function isCorrupt(err: unknown): boolean {
  return isCorruption(sqliteCode(err));
}

/** Moves a corrupt file (and its WAL) aside, loudly, so an empty history can start. */
export function moveAside(path: string, err: unknown, log: Logger): void {
  const moved = moveCorruptFileAside(path);
  log.error('event history file is corrupt: moved aside, starting an empty history', { path, movedTo: moved, code: sqliteCode(err) ?? undefined });
}
