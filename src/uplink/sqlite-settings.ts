// What the SQLite outbox file is tuned with: its durability modes and the pragma sizes. Kept apart
// from the modules that open the file so config validation can name the modes without loading
// the native better-sqlite3 module.

/**
 * `synchronous` in WAL mode, i.e. what "durable when append returns" means:
 * - `full`: the WAL is fsynced at every commit. An acknowledged append survives power loss. Costs one
 *   fsync per transaction (per `append`, or per `appendBatch`), which on an SD card is milliseconds.
 * - `normal`: the WAL is fsynced only at checkpoints. Survives a process crash (SIGKILL, OOM) fully,
 *   but a power cut can lose the last transactions before the checkpoint. It never corrupts the file.
 */
export const SqliteDurabilities = ['full', 'normal'] as const;
export type SqliteDurability = (typeof SqliteDurabilities)[number];

/** Size the -wal file is truncated to after a checkpoint (SQLite `journal_size_limit`). */
export const JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * SQLite page cache of the connection, in KiB (`cache_size = -N`). better-sqlite3 builds SQLite with
 * 16 MB (SQLITE_DEFAULT_CACHE_SIZE=-16000), which the buffer fills once its file passes ~16 MB and then
 * keeps in RSS. Appends touch the right edge of the table and its index, replay and acks the left
 * edge: a few hundred pages hold that working set, so 2 MiB (SQLite's own default) loses no speed.
 */
export const CACHE_SIZE_KIB = 2048;
