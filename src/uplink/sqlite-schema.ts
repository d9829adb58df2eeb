// The outbox file's tables and how an older file is brought up to date (PRAGMA user_version).
// It knows nothing of limits, totals or the uplink: only what the columns are and which step
// turns version N into N+1.

import type Database from 'better-sqlite3';

// seq is the rowid (INTEGER PRIMARY KEY): replay order and ack-by-seq are lookups on the table's own
// B-tree. AUTOINCREMENT keeps the high-water mark in sqlite_sequence, so seq keeps increasing after
// every row was acked and the file reopened (a plain rowid would restart at MAX+1 = 1).
// The priority index implicitly ends with the rowid, so it is ordered (priority, seq): exactly the
// eviction order. payload is CBOR of {a: args, k: kwargs, o: options}.
const OUTBOX_TABLE = `
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
`;

// Dead letters keep the seq they had in the outbox (their primary key), so a move is one
// INSERT … SELECT and one DELETE.
const DEAD_LETTERS_TABLE = `
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

/**
 * migrations[v] turns a version-v file into version v+1; a fresh file (version 0) runs them all.
 * Each step is idempotent (IF NOT EXISTS), so a step interrupted by a crash runs again harmlessly:
 * user_version is only raised in the same transaction as the step.
 */
const migrations: readonly string[] = [
  // 0 -> 1: the outbox itself
  OUTBOX_TABLE,
  // 1 -> 2: dead letters
  DEAD_LETTERS_TABLE,
];

export const SCHEMA_VERSION = migrations.length;

/** Brings the open file to SCHEMA_VERSION; refuses a file written by a newer wampgate. */
export function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new Error(`outbox: ${path} has schema version ${version}, newer than this wampgate (${SCHEMA_VERSION})`);
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
