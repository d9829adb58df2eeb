// The event history's SQLite file (WAL, one writer): the schema, the in-memory mirror of rows and
// bytes per topic, batched appends with count and byte eviction, age expiry, and the queries
// behind wamp.subscription.get_events. It does not decide what is recorded (realm-history.ts)
// nor when a batch is written (history-writer.ts).

import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Logger } from '../util/logger';
import type { HistoryRule } from './history-config';

/** Version 1: topics + events. */
const SCHEMA_VERSION = 1;
/** SQLite page cache (KiB): appends touch the right edge, reads one topic's recent rows. */
const CACHE_SIZE_KIB = 2048;
const JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;
/** Per row beyond the payload: the fixed columns and SQLite's record and index overhead (measured
 * close to this with `npm run bench history`), so maxBytes tracks the file's size. */
export const ROW_OVERHEAD_BYTES = 64;
/** Rows to delete to free `excess` bytes, guessed from the average row (at least one, at most
 * 256 per statement): at the cap, each append usually frees one row. */
function evictGuess(excess: number, rows: number, bytes: number): number {
  const avg = rows > 0 ? bytes / rows : excess;
  return Math.min(256, Math.max(1, Math.floor(excess / Math.max(1, avg))));
}

// seq (the rowid) is the order the broker accepted publications in: every query orders by it,
// never by wall clock (a Pi has no real-time clock). The topic index ends with the rowid, so it
// is ordered (topic_id, seq): one topic's newest rows are a backward walk of it. expires_us is
// set from the topic's rule at insert (and restamped at open when the rule changed).
const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  realm TEXT NOT NULL,
  topic TEXT NOT NULL,
  max_age_ms INTEGER,
  UNIQUE (realm, topic)
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  topic_id INTEGER NOT NULL,
  time_us INTEGER NOT NULL,
  expires_us INTEGER,
  publication INTEGER NOT NULL,
  session INTEGER,
  authid TEXT,
  authrole TEXT,
  serializer TEXT NOT NULL,
  count INTEGER NOT NULL,
  payload BLOB NOT NULL,
  extra TEXT,
  bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_topic ON events (topic_id);
CREATE INDEX IF NOT EXISTS events_by_expiry ON events (expires_us) WHERE expires_us IS NOT NULL;
`;

/** One publication as the writer hands it over, payload already in bytes. */
export interface NewHistoryEvent {
  realm: string;
  topic: string;
  rule: HistoryRule;
  timeUs: number;
  publication: number;
  session: number | null;
  authid: string | null;
  authrole: string | null;
  serializer: string;
  count: number;
  payload: Buffer;
  /** JSON: audience filters and passthru options, when the publication had any. */
  extra: string | null;
}

/** One stored row, as read back. */
export interface StoredHistoryEvent {
  seq: number;
  realm: string;
  topic: string;
  timeUs: number;
  publication: number;
  session: number | null;
  authid: string | null;
  authrole: string | null;
  serializer: string;
  count: number;
  payload: Buffer;
  extra: string | null;
}

export type EvictionReason = 'count' | 'age' | 'bytes' | 'unconfigured';

interface TopicState {
  id: number;
  realm: string;
  topic: string;
  rows: number;
  bytes: number;
}

interface Row {
  seq: number;
  topic_id: number;
  time_us: number;
  publication: number;
  session: number | null;
  authid: string | null;
  authrole: string | null;
  serializer: string;
  count: number;
  payload: Buffer;
  extra: string | null;
}

export interface HistoryStoreOptions {
  path: string;
  maxBytes: number;
  /** The rule now covering a stored topic; undefined removes its rows at open. */
  ruleFor(realm: string, topic: string): HistoryRule | undefined;
  logger: Logger;
  now?: () => number;
}

type Statements = ReturnType<typeof prepare>;

const INSERT_COLUMNS = 'topic_id, time_us, expires_us, publication, session, authid, authrole, serializer, count, payload, extra, bytes';
const INSERT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_BATCH = 16;

function prepare(db: Database.Database) {
  return {
    insertTopic: db.prepare<[string, string, number | null]>('INSERT INTO topics (realm, topic, max_age_ms) VALUES (?, ?, ?)'),
    insert: db.prepare<unknown[]>(`INSERT INTO events (${INSERT_COLUMNS}) VALUES ${INSERT_ROW}`),
    // INSERT_BATCH rows per statement: a third less CPU per event than one statement each.
    insertMany: db.prepare<unknown[]>(`INSERT INTO events (${INSERT_COLUMNS}) VALUES ${Array<string>(INSERT_BATCH).fill(INSERT_ROW).join(', ')}`),
    // The oldest `n` of one topic: a forward walk of (topic_id, seq).
    evictTopic: db.prepare<[number, number], { bytes: number }>(
      'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE topic_id = ? ORDER BY seq LIMIT ?) RETURNING bytes',
    ),
    evictOldest: db.prepare<[number], { topic_id: number; bytes: number }>(
      'DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?) RETURNING topic_id, bytes',
    ),
    expire: db.prepare<[number], { topic_id: number; bytes: number }>(
      'DELETE FROM events WHERE expires_us IS NOT NULL AND expires_us <= ? RETURNING topic_id, bytes',
    ),
    newest: db.prepare<[number, number, number, number], Row>(
      'SELECT seq, topic_id, time_us, publication, session, authid, authrole, serializer, count, payload, extra FROM events ' +
        'WHERE topic_id = ? AND seq < ? AND (expires_us IS NULL OR expires_us > ?) ORDER BY seq DESC LIMIT ?',
    ),
    newestOf: db.prepare<[string, number, number, number], Row>(
      'SELECT seq, topic_id, time_us, publication, session, authid, authrole, serializer, count, payload, extra FROM events ' +
        'WHERE topic_id IN (SELECT value FROM json_each(?)) AND seq < ? AND (expires_us IS NULL OR expires_us > ?) ORDER BY seq DESC LIMIT ?',
    ),
  };
}

function sqliteCode(err: unknown): string | null {
  return err instanceof Database.SqliteError ? err.code : null;
}

export class HistoryStore {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private db!: Database.Database;
  private stmt!: Statements;
  /** topic id -> state: the mirror of what the file holds, so appends never COUNT(*). */
  private readonly topics = new Map<number, TopicState>();
  /** realm -> topic -> state: lookups by name at append and query time. */
  private readonly byName = new Map<string, Map<string, TopicState>>();
  private rows = 0;
  private bytes = 0;
  private closed = false;
  readonly evicted: Record<EvictionReason, number> = { count: 0, age: 0, bytes: 0, unconfigured: 0 };

  constructor(options: HistoryStoreOptions) {
    this.path = options.path;
    this.maxBytes = options.maxBytes;
    this.log = options.logger;
    this.now = options.now ?? Date.now;
    try {
      this.open(options.ruleFor);
    } catch (err) {
      const code = sqliteCode(err);
      if (code !== 'SQLITE_NOTADB' && !code?.startsWith('SQLITE_CORRUPT')) throw err;
      this.moveAside(err);
      this.open(options.ruleFor);
    }
    this.log.info('event history open', { path: this.path, rows: this.rows, bytes: this.bytes, topics: this.topics.size });
  }

  get rowCount(): number {
    return this.rows;
  }
  get byteCount(): number {
    return this.bytes;
  }
  get topicCount(): number {
    return this.topics.size;
  }
  /** The file and its WAL on disk now (0 when unreadable). */
  fileBytes(): number {
    let n = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try {
        n += fs.statSync(f).size;
      } catch {
        // no WAL right after a checkpoint
      }
    }
    return n;
  }

  /** Topic states of one realm (for pattern subscriptions). */
  topicsOf(realm: string): IterableIterator<{ id: number; topic: string }> {
    return (this.byName.get(realm) ?? new Map<string, TopicState>()).values();
  }
  topicId(realm: string, topic: string): number | undefined {
    return this.byName.get(realm)?.get(topic)?.id;
  }

  /** Appends a batch in one transaction, then applies each touched topic's count limit and the
   * byte cap. Throws SqliteError on storage trouble (the writer counts the batch as dropped). */
  append(batch: readonly NewHistoryEvent[]): void {
    this.assertOpen();
    if (batch.length === 0) return;
    /** realm NUL topic -> a topic first seen in this batch; tracked only once the batch committed. */
    const created = new Map<string, TopicState>();
    const touched = new Map<TopicState, HistoryRule>();
    const delta = new Map<TopicState, { rows: number; bytes: number }>();
    const evicted: Record<EvictionReason, number> = { count: 0, age: 0, bytes: 0, unconfigured: 0 };
    const add = (t: TopicState, rows: number, bytes: number): void => {
      const d = delta.get(t);
      if (d) {
        d.rows += rows;
        d.bytes += bytes;
      } else delta.set(t, { rows, bytes });
    };
    const pending = (t: TopicState): number => t.rows + (delta.get(t)?.rows ?? 0);
    let totalBytes = this.bytes;
    // On an exception the transaction rolls back and the mirror is left as it was.
    this.db.transaction(() => {
      const params: unknown[] = [];
      for (const e of batch) {
        const key = `${e.realm}\0${e.topic}`;
        let t = this.byName.get(e.realm)?.get(e.topic) ?? created.get(key);
        if (!t) {
          const id = Number(this.stmt.insertTopic.run(e.realm, e.topic, e.rule.maxAgeMs).lastInsertRowid);
          t = { id, realm: e.realm, topic: e.topic, rows: 0, bytes: 0 };
          created.set(key, t);
        }
        const bytes = e.payload.length + (e.authid?.length ?? 0) + (e.authrole?.length ?? 0) + (e.extra?.length ?? 0) + ROW_OVERHEAD_BYTES;
        const expires = e.rule.maxAgeMs === null ? null : e.timeUs + e.rule.maxAgeMs * 1000;
        params.push(t.id, e.timeUs, expires, e.publication, e.session, e.authid, e.authrole, e.serializer, e.count, e.payload, e.extra, bytes);
        if (params.length === INSERT_BATCH * 12) {
          this.stmt.insertMany.run(params);
          params.length = 0;
        }
        add(t, 1, bytes);
        totalBytes += bytes;
        touched.set(t, e.rule);
      }
      for (let i = 0; i < params.length; i += 12) this.stmt.insert.run(params.slice(i, i + 12));
      for (const [t, rule] of touched) {
        const excess = pending(t) - rule.maxEvents;
        if (excess <= 0) continue;
        let freed = 0;
        for (const r of this.stmt.evictTopic.all(t.id, excess)) freed += r.bytes;
        add(t, -excess, -freed);
        totalBytes -= freed;
        evicted.count += excess;
      }
      while (totalBytes > this.maxBytes) {
        const gone = this.stmt.evictOldest.all(evictGuess(totalBytes - this.maxBytes, this.rows + batch.length, totalBytes));
        if (gone.length === 0) break;
        for (const g of gone) {
          const t = this.topics.get(g.topic_id) ?? [...created.values()].find((c) => c.id === g.topic_id);
          if (t) add(t, -1, -g.bytes);
          totalBytes -= g.bytes;
          evicted.bytes++;
        }
      }
    })();
    for (const t of created.values()) this.track(t);
    this.applyDelta(delta, evicted);
  }

  /** Removes events past their rule's age. Returns how many. */
  expire(): number {
    this.assertOpen();
    const gone = this.stmt.expire.all(this.now() * 1000);
    if (gone.length === 0) return 0;
    const delta = new Map<TopicState, { rows: number; bytes: number }>();
    for (const g of gone) {
      const t = this.topics.get(g.topic_id);
      if (!t) continue;
      const d = delta.get(t) ?? { rows: 0, bytes: 0 };
      d.rows--;
      d.bytes -= g.bytes;
      delta.set(t, d);
    }
    this.applyDelta(delta, { count: 0, age: gone.length, bytes: 0, unconfigured: 0 });
    return gone.length;
  }

  /** The newest events of the given topics (one realm), newest first, at most `limit`, older than
   * `beforeSeq` (paging for callers that filter rows out). Expired rows never show. */
  newest(topicIds: readonly number[], limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): StoredHistoryEvent[] {
    this.assertOpen();
    if (topicIds.length === 0 || limit <= 0) return [];
    const nowUs = this.now() * 1000;
    const rows =
      topicIds.length === 1
        ? this.stmt.newest.all(topicIds[0] as number, beforeSeq, nowUs, limit)
        : this.stmt.newestOf.all(JSON.stringify(topicIds), beforeSeq, nowUs, limit);
    return rows.map((r) => {
      const t = this.topics.get(r.topic_id);
      return {
        seq: r.seq,
        realm: t?.realm ?? '',
        topic: t?.topic ?? '',
        timeUs: r.time_us,
        publication: r.publication,
        session: r.session,
        authid: r.authid,
        authrole: r.authrole,
        serializer: r.serializer,
        count: r.count,
        payload: r.payload,
        extra: r.extra,
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  // ---- internals ---------------------------------------------------------------------------

  private track(t: TopicState): void {
    this.topics.set(t.id, t);
    let m = this.byName.get(t.realm);
    if (!m) this.byName.set(t.realm, (m = new Map()));
    m.set(t.topic, t);
  }

  private applyDelta(delta: Map<TopicState, { rows: number; bytes: number }>, evicted: Record<EvictionReason, number>): void {
    for (const [t, d] of delta) {
      t.rows += d.rows;
      t.bytes += d.bytes;
      this.rows += d.rows;
      this.bytes += d.bytes;
    }
    for (const k of Object.keys(evicted) as EvictionReason[]) this.evicted[k] += evicted[k];
  }

  private open(ruleFor: HistoryStoreOptions['ruleFor']): void {
    const db = new Database(this.path);
    try {
      // One owner: the mirror assumes nobody else writes; a second process fails with SQLITE_BUSY.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`event history: could not enable WAL on ${this.path} (got ${String(mode)})`);
      // History is a convenience copy, not the only one: NORMAL survives a crash, and a power cut
      // loses at most the last transactions before the checkpoint, never the file.
      db.pragma('synchronous = NORMAL');
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) throw new Error(`event history: ${this.path} has schema version ${version}, newer than this wampgate (${SCHEMA_VERSION})`);
      db.exec(SCHEMA);
      if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      this.db = db;
      this.stmt = prepare(db);
      this.reconcile(ruleFor);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Loads the mirror and applies the rules as configured now: topics no rule covers lose their
   * rows, a changed age limit restamps that topic's rows, a lower count trims them, and the byte
   * cap holds. A config change therefore takes effect at the next start. */
  private reconcile(ruleFor: HistoryStoreOptions['ruleFor']): void {
    const topics = this.db
      .prepare<[], { id: number; realm: string; topic: string; max_age_ms: number | null }>('SELECT id, realm, topic, max_age_ms FROM topics')
      .all();
    const sizes = new Map<number, { c: number; b: number }>();
    for (const s of this.db
      .prepare<[], { topic_id: number; c: number; b: number }>('SELECT topic_id, COUNT(*) AS c, SUM(bytes) AS b FROM events GROUP BY topic_id')
      .all()) {
      sizes.set(s.topic_id, { c: s.c, b: s.b });
    }
    this.db.transaction(() => {
      for (const t of topics) {
        const size = sizes.get(t.id) ?? { c: 0, b: 0 };
        const rule = ruleFor(t.realm, t.topic);
        if (!rule) {
          this.db.prepare('DELETE FROM events WHERE topic_id = ?').run(t.id);
          this.db.prepare('DELETE FROM topics WHERE id = ?').run(t.id);
          this.evicted.unconfigured += size.c;
          continue;
        }
        if (rule.maxAgeMs !== t.max_age_ms) {
          this.db
            .prepare('UPDATE events SET expires_us = CASE WHEN ? IS NULL THEN NULL ELSE time_us + ? * 1000 END WHERE topic_id = ?')
            .run(rule.maxAgeMs, rule.maxAgeMs, t.id);
          this.db.prepare('UPDATE topics SET max_age_ms = ? WHERE id = ?').run(rule.maxAgeMs, t.id);
        }
        const state: TopicState = { id: t.id, realm: t.realm, topic: t.topic, rows: size.c, bytes: size.b };
        const excess = state.rows - rule.maxEvents;
        if (excess > 0) {
          for (const r of this.stmt.evictTopic.all(t.id, excess)) state.bytes -= r.bytes;
          state.rows -= excess;
          this.evicted.count += excess;
        }
        this.track(state);
        this.rows += state.rows;
        this.bytes += state.bytes;
      }
    })();
    this.expire();
    this.trimToBytes();
  }

  private trimToBytes(): void {
    if (this.bytes <= this.maxBytes) return;
    const delta = new Map<TopicState, { rows: number; bytes: number }>();
    let total = this.bytes;
    let n = 0;
    this.db.transaction(() => {
      while (total > this.maxBytes) {
        const gone = this.stmt.evictOldest.all(evictGuess(total - this.maxBytes, this.rows, total));
        if (gone.length === 0) break;
        for (const g of gone) {
          const t = this.topics.get(g.topic_id);
          if (t) {
            const d = delta.get(t) ?? { rows: 0, bytes: 0 };
            d.rows--;
            d.bytes -= g.bytes;
            delta.set(t, d);
          }
          total -= g.bytes;
          n++;
        }
      }
    })();
    this.applyDelta(delta, { count: 0, age: 0, bytes: n, unconfigured: 0 });
  }

  private moveAside(err: unknown): void {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let moved = `${this.path}.corrupt-${stamp}`;
    for (let i = 1; fs.existsSync(moved); i++) moved = `${this.path}.corrupt-${stamp}-${i}`;
    fs.renameSync(this.path, moved);
    if (fs.existsSync(`${this.path}-wal`)) fs.renameSync(`${this.path}-wal`, `${moved}-wal`);
    fs.rmSync(`${this.path}-shm`, { force: true });
    this.log.error('event history file is corrupt: moved aside, starting an empty history', {
      path: this.path,
      movedTo: moved,
      code: sqliteCode(err) ?? undefined,
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event history is closed');
  }
}
