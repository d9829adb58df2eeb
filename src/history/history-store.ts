// The event history's store: the in-memory mirror of events and bytes per topic, batched appends
// (one block per topic per flush) with count and byte eviction, age expiry, and the reads behind
// wamp.subscription.get_events. The file's schema is history-schema.ts, the block format
// event-block.ts. It does not decide what is recorded nor when a batch is written (event-history.ts).

import fs from 'node:fs';
import type Database from 'better-sqlite3';
import type { Logger } from '../util/logger';
import type { HistoryRule } from './history-config';
import { accountedBytes, BlockBuilder, decodeBlock, encodeBlock, type BlockEvent, type BlockSummary, type NewHistoryEvent } from './event-block';
import { isCorrupt, moveAside, openHistoryFile } from './history-schema';
import { prepareBlockStatements, type BlockRow, type BlockStatements } from './block-statements';
import { readEvents, seqOfPublication, type ReadQuery, type StoredHistoryEvent } from './history-read';

export type { ReadQuery, StoredHistoryEvent } from './history-read';

export { ROW_OVERHEAD_BYTES, type NewHistoryEvent } from './event-block';

/** One topic's events of one batch, packed, with the rule they were recorded under. */
export interface NewBlockOf<B> {
  realm: string;
  topic: string;
  rule: HistoryRule;
  block: B;
}
export type NewBlock = NewBlockOf<BlockSummary>;

export type EvictionReason = 'count' | 'age' | 'bytes' | 'unconfigured';

interface TopicState {
  id: number;
  realm: string;
  topic: string;
  /** The age limit of its rule now: reads leave older events out before the sweep removes them. */
  maxAgeMs: number | null;
  rows: number;
  bytes: number;
}

export interface HistoryStoreOptions {
  path: string;
  maxBytes: number;
  /** The rule now covering a stored topic; undefined removes its rows at open. */
  ruleFor(realm: string, topic: string): HistoryRule | undefined;
  logger: Logger;
  now?: () => number;
}

/** Changes to the mirror made inside a transaction, applied once it committed. */
class Delta {
  readonly topics = new Map<TopicState, { rows: number; bytes: number }>();
  readonly evicted: Record<EvictionReason, number> = { count: 0, age: 0, bytes: 0, unconfigured: 0 };
  add(t: TopicState, rows: number, bytes: number): void {
    const d = this.topics.get(t);
    if (d) {
      d.rows += rows;
      d.bytes += bytes;
    } else this.topics.set(t, { rows, bytes });
  }
  rowsOf(t: TopicState): number {
    return t.rows + (this.topics.get(t)?.rows ?? 0);
  }
}

/** When eviction stops: after `events` events, or once `bytes` bytes are freed. */
type Want = { events: number } | { bytes: number };

export class HistoryStore {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private db!: Database.Database;
  private stmt!: BlockStatements;
  /** topic id -> state: the mirror of what the file holds, so appends never COUNT(*). */
  private readonly topics = new Map<number, TopicState>();
  /** realm -> topic -> state: lookups by name at append and query time. */
  private readonly byName = new Map<string, Map<string, TopicState>>();
  private rows = 0;
  private bytes = 0;
  /** The seq the next event gets: one more than the file's newest. */
  private nextSeq = 1;
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
      if (!isCorrupt(err)) throw err;
      moveAside(this.path, err, this.log);
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

  /** The seq of the next event recorded: the writer numbers events as the broker accepts them,
   * so seq is the publish order across topics. A batch that fails to write leaves a gap. */
  takeSeq(): number {
    return this.nextSeq++;
  }

  /** Appends events (numbered here, in batch order) as one block per topic: what tests and
   * tools use; the writer builds its blocks while it queues (appendBlocks). */
  append(batch: readonly NewHistoryEvent[]): void {
    const byTopic = new Map<string, NewBlockOf<BlockBuilder>>();
    for (const e of batch) {
      const key = `${e.realm}\0${e.topic}`;
      let b = byTopic.get(key);
      if (!b) byTopic.set(key, (b = { realm: e.realm, topic: e.topic, rule: e.rule, block: new BlockBuilder() }));
      b.block.add(this.takeSeq(), e);
    }
    this.appendBlocks([...byTopic.values()].map((b) => ({ ...b, block: b.block.take() })));
  }

  /** Appends blocks in one transaction, then applies each touched topic's count limit and the
   * byte cap. Throws SqliteError on storage trouble (the writer counts the events as dropped);
   * the mirror is then left as it was. */
  appendBlocks(blocks: readonly NewBlock[]): void {
    this.assertOpen();
    if (blocks.length === 0) return;
    const created = new Map<string, TopicState>();
    const createdById = new Map<number, TopicState>();
    const delta = new Delta();
    this.db.transaction(() => {
      const touched = new Map<TopicState, HistoryRule>();
      for (const nb of blocks) {
        const t = this.topicState(nb, created, createdById);
        let b = nb.block;
        // Events of this batch beyond the topic's count are evicted before they are written.
        const over = b.events - nb.rule.maxEvents;
        if (over > 0) {
          const keep = decodeBlock(b.data).slice(over);
          delta.evicted.count += over;
          if (keep.length === 0) continue;
          b = encodeBlock(
            keep,
            keep.map((e) => e.seq),
          );
        }
        const expires = t.maxAgeMs === null ? null : b.timeMinUs + t.maxAgeMs * 1000;
        this.stmt.insertBlock.run(t.id, b.firstSeq, b.lastSeq, b.events, b.timeMinUs, b.timeMaxUs, expires, b.bytes, b.data);
        delta.add(t, b.events, b.bytes);
        touched.set(t, nb.rule);
      }
      for (const [t, rule] of touched) {
        const excess = delta.rowsOf(t) - rule.maxEvents;
        if (excess > 0) delta.evicted.count += this.evict(() => this.stmt.oldestOfTopic.get(t.id), { events: excess }, delta, createdById).events;
      }
      this.trimToBytes(delta, createdById);
    })();
    for (const t of created.values()) this.track(t);
    this.applyDelta(delta);
  }

  /** A topic's state, inserting its row when it is new (tracked once the transaction commits). */
  private topicState(nb: NewBlock, created: Map<string, TopicState>, createdById: Map<number, TopicState>): TopicState {
    const known = this.byName.get(nb.realm)?.get(nb.topic);
    if (known) return known;
    const key = `${nb.realm}\0${nb.topic}`;
    let t = created.get(key);
    if (!t) {
      const id = Number(this.stmt.insertTopic.run(nb.realm, nb.topic, nb.rule.maxAgeMs).lastInsertRowid);
      t = { id, realm: nb.realm, topic: nb.topic, maxAgeMs: nb.rule.maxAgeMs, rows: 0, bytes: 0 };
      created.set(key, t);
      createdById.set(id, t);
    }
    return t;
  }

  /** Removes events past their rule's age. Returns how many. */
  expire(): number {
    this.assertOpen();
    const nowUs = this.now() * 1000;
    const delta = new Delta();
    this.db.transaction(() => {
      for (let b = this.stmt.oldestExpired.get(nowUs); b; b = this.stmt.oldestExpired.get(nowUs)) {
        const t = this.topics.get(b.topic_id);
        const age = t?.maxAgeMs ?? null;
        if (!t || age === null || b.time_max_us + age * 1000 <= nowUs) {
          this.stmt.deleteBlock.run(b.id);
          if (t) delta.add(t, -b.events, -b.bytes);
          delta.evicted.age += b.events;
          continue;
        }
        const events = decodeBlock(b.data);
        const keep = events.filter((e) => e.timeUs + age * 1000 > nowUs);
        const freed = this.rewrite(b, t, keep);
        delta.add(t, keep.length - events.length, -freed);
        delta.evicted.age += events.length - keep.length;
      }
    })();
    this.applyDelta(delta);
    return delta.evicted.age;
  }

  /** The events of the given topics (one realm) a query selects; expired events never show. */
  read(topicIds: readonly number[], query: ReadQuery): StoredHistoryEvent[] {
    this.assertOpen();
    return readEvents(this.stmt, (id) => this.topics.get(id), this.now() * 1000, topicIds, query);
  }

  /** The newest events of the given topics, newest first, at most `limit`, older than `beforeSeq`. */
  newest(topicIds: readonly number[], limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): StoredHistoryEvent[] {
    return this.read(topicIds, { limit, newestFirst: true, maxSeq: beforeSeq - 1 });
  }

  /** The seq of a stored publication among these topics (for the spec's *_publication bounds). */
  seqOf(topicIds: readonly number[], publication: number): number | undefined {
    this.assertOpen();
    return seqOfPublication(this.stmt, topicIds, publication);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Removes the oldest events of the blocks `oldest` returns until `want` is met: whole blocks
   * while they fit, then the front of one block (rewritten). Returns what went. */
  private evict(oldest: () => BlockRow | undefined, want: Want, delta: Delta, created: ReadonlyMap<number, TopicState>): { events: number; bytes: number } {
    let events = 0;
    let bytes = 0;
    const more = (): boolean => ('events' in want ? events < want.events : bytes < want.bytes);
    while (more()) {
      const b = oldest();
      if (!b) break;
      const t = this.topics.get(b.topic_id) ?? created.get(b.topic_id);
      const fits = 'events' in want ? events + b.events <= want.events : bytes + b.bytes <= want.bytes;
      if (fits) {
        this.stmt.deleteBlock.run(b.id);
        if (t) delta.add(t, -b.events, -b.bytes);
        events += b.events;
        bytes += b.bytes;
        continue;
      }
      const list = decodeBlock(b.data);
      let cut = 0;
      let cutBytes = 0;
      while (cut < list.length && ('events' in want ? events + cut < want.events : bytes + cutBytes < want.bytes))
        cutBytes += accountedBytes(list[cut++] as BlockEvent);
      const freed = this.rewrite(b, t, list.slice(cut));
      if (t) delta.add(t, -cut, -freed);
      events += cut;
      bytes += freed;
    }
    return { events, bytes };
  }

  /** Replaces a block's events with `keep` (deleting it when empty). Returns the bytes freed. */
  private rewrite(b: BlockRow, t: TopicState | undefined, keep: readonly BlockEvent[]): number {
    if (keep.length === 0) {
      this.stmt.deleteBlock.run(b.id);
      return b.bytes;
    }
    const nb = encodeBlock(
      keep,
      keep.map((e) => e.seq),
    );
    const age = t?.maxAgeMs ?? null;
    this.stmt.rewriteBlock.run(
      nb.firstSeq,
      nb.lastSeq,
      nb.events,
      nb.timeMinUs,
      nb.timeMaxUs,
      age === null ? null : nb.timeMinUs + age * 1000,
      nb.bytes,
      nb.data,
      b.id,
    );
    return b.bytes - nb.bytes;
  }

  /** The file-wide byte cap: the oldest events of any topic go first. */
  private trimToBytes(delta: Delta, created: ReadonlyMap<number, TopicState>): void {
    let total = this.bytes;
    for (const d of delta.topics.values()) total += d.bytes;
    if (total <= this.maxBytes) return;
    delta.evicted.bytes += this.evict(() => this.stmt.oldestOfFile.get(), { bytes: total - this.maxBytes }, delta, created).events;
  }

  private track(t: TopicState): void {
    this.topics.set(t.id, t);
    let m = this.byName.get(t.realm);
    if (!m) this.byName.set(t.realm, (m = new Map()));
    m.set(t.topic, t);
  }

  private applyDelta(delta: Delta): void {
    for (const [t, d] of delta.topics) {
      t.rows += d.rows;
      t.bytes += d.bytes;
      this.rows += d.rows;
      this.bytes += d.bytes;
    }
    for (const k of Object.keys(delta.evicted) as EvictionReason[]) this.evicted[k] += delta.evicted[k];
  }

  private open(ruleFor: HistoryStoreOptions['ruleFor']): void {
    const db = openHistoryFile(this.path, this.log);
    try {
      this.db = db;
      this.stmt = prepareBlockStatements(db);
      this.reconcile(ruleFor);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Loads the mirror and applies the rules as configured now: topics no rule covers lose their
   * events, a changed age limit restamps that topic's blocks, a lower count trims them, and the
   * byte cap holds. A config change therefore takes effect at the next start. */
  private reconcile(ruleFor: HistoryStoreOptions['ruleFor']): void {
    const topics = this.db
      .prepare<[], { id: number; realm: string; topic: string; max_age_ms: number | null }>('SELECT id, realm, topic, max_age_ms FROM topics')
      .all();
    const sizes = new Map<number, { c: number; b: number }>();
    for (const s of this.db
      .prepare<[], { topic_id: number; c: number; b: number }>('SELECT topic_id, SUM(events) AS c, SUM(bytes) AS b FROM blocks GROUP BY topic_id')
      .all()) {
      sizes.set(s.topic_id, { c: s.c, b: s.b });
    }
    const delta = new Delta();
    this.db.transaction(() => {
      for (const t of topics) {
        const size = sizes.get(t.id) ?? { c: 0, b: 0 };
        const rule = ruleFor(t.realm, t.topic);
        if (!rule) {
          this.db.prepare('DELETE FROM blocks WHERE topic_id = ?').run(t.id);
          this.db.prepare('DELETE FROM topics WHERE id = ?').run(t.id);
          delta.evicted.unconfigured += size.c;
          continue;
        }
        if (rule.maxAgeMs !== t.max_age_ms) {
          this.db
            .prepare('UPDATE blocks SET expires_us = CASE WHEN ? IS NULL THEN NULL ELSE time_min_us + ? * 1000 END WHERE topic_id = ?')
            .run(rule.maxAgeMs, rule.maxAgeMs, t.id);
          this.db.prepare('UPDATE topics SET max_age_ms = ? WHERE id = ?').run(rule.maxAgeMs, t.id);
        }
        const state: TopicState = { id: t.id, realm: t.realm, topic: t.topic, maxAgeMs: rule.maxAgeMs, rows: 0, bytes: 0 };
        this.track(state);
        delta.add(state, size.c, size.b);
        const excess = size.c - rule.maxEvents;
        if (excess > 0) delta.evicted.count += this.evict(() => this.stmt.oldestOfTopic.get(t.id), { events: excess }, delta, this.topics).events;
      }
    })();
    this.applyDelta(delta);
    this.nextSeq = (this.stmt.lastSeq.get()?.s ?? 0) + 1;
    this.expire();
    const trim = new Delta();
    this.db.transaction(() => this.trimToBytes(trim, this.topics))();
    this.applyDelta(trim);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event history is closed');
  }
}
