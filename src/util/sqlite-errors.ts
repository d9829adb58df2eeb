// What a SQLite failure means for a file the gateway owns (the uplink's outbox, the event
// history): a bug, a corrupt file to move aside, or a full disk. One reading for both, so the
// two stores recover from the same failures the same way.

import fs from 'node:fs';
import Database from 'better-sqlite3';

/** The SQLite error code, or null for anything that is not a SQLite error (a bug). */
export function sqliteCode(err: unknown): string | null {
  return err instanceof Database.SqliteError ? err.code : null;
}

export function isCorruption(code: string | null): boolean {
  return code !== null && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

/** SQLite maps ENOSPC (and max_page_count) to SQLITE_FULL; IOERR_* is a failing card, not a full one. */
export function isDiskFull(code: string | null): boolean {
  return code === 'SQLITE_FULL';
}

/**
 * Renames a corrupt file to `<path>.corrupt-<time>` so a fresh one can start, and returns the new
 * name. Its WAL moves along under SQLite's naming, so the pair can still be inspected; the -shm is
 * only an index of the WAL and is removed. The caller logs what was lost.
 */
export function moveCorruptFileAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let moved = `${path}.corrupt-${stamp}`;
  for (let i = 1; fs.existsSync(moved); i++) moved = `${path}.corrupt-${stamp}-${i}`;
  fs.renameSync(path, moved);
  if (fs.existsSync(`${path}-wal`)) fs.renameSync(`${path}-wal`, `${moved}-wal`);
  fs.rmSync(`${path}-shm`, { force: true });
  return moved;
}
