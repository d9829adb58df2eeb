// The event history above core: one EventHistory port per realm with rules (which topic is kept
// under which rule), the writer's queue that the ports fill during publish steps (each topic's
// publications packed into its next block as they come), and the flush that commits the queue
// to the SQLite store in one transaction per flush interval (never inside a routing step).
// Routing never waits for SQLite: a full queue drops the publication from the history, counted
// and logged. Reads are answered by history-answer.ts.

import { join } from 'node:path';
import { UriIndex } from '../core/uri-index';
import type { AcceptedPublication, EventHistory, HistoryAnswer, HistoryQuery } from '../core/ports';
import { getEncoded, type EncodedPayload, type Payload } from '../protocol/messages';
import type { MatchPolicy } from '../protocol/uri';
import { serializerByName } from '../serializers';
import { RateLimitedLog, type Logger } from '../util/logger';
import type { HistoryRule, HistorySettings } from './history-config';
import { BlockBuilder } from './event-block';
import { answerQuery, EXTRA_KEYS, type Extra, type HistoryReader } from './history-answer';
import { HistoryStore, type EvictionReason, type NewBlockOf } from './history-store';

export type { HistoryReader } from './history-answer';

export const HISTORY_FILE = 'history.sqlite';
/** How often events past their rule's age are removed (reads never show them anyway): as often
 * as the shortest age, within these bounds, so a short age does not leave the file growing. */
const SWEEP_MIN_INTERVAL_MS = 1_000;
const SWEEP_MAX_INTERVAL_MS = 60_000;

function sweepInterval(rules: ReadonlyMap<string, readonly HistoryRule[]>): number {
  let shortest = SWEEP_MAX_INTERVAL_MS;
  for (const list of rules.values()) for (const r of list) if (r.maxAgeMs !== null) shortest = Math.min(shortest, r.maxAgeMs);
  return Math.max(SWEEP_MIN_INTERVAL_MS, shortest);
}
/** Topic -> rule answers remembered per realm; cleared when full (topics are usually few). */
const RULE_CACHE_SIZE = 4096;
/** A flush starts at once (next turn) when this many publications wait. */
const BATCH_EVENTS = 2000;
/** Builders kept for reuse after a flush (each holds a buffer of its last block's size). */
const SPARE_BUILDERS = 8;

export type HistoryDropReason = 'queue_full' | 'storage_error' | 'not_encodable' | 'stopped';

export interface HistoryStatus {
  file: string;
  rows: number;
  /** Accounted bytes of the stored events (what maxBytes caps). */
  bytes: number;
  maxBytes: number;
  /** The SQLite file and its WAL on disk. */
  fileBytes: number;
  topics: number;
  queued: number;
  queuedBytes: number;
  written: number;
  evicted: Record<EvictionReason, number>;
  dropped: Record<HistoryDropReason, number>;
  /** Publications not recorded by rule: session-ID black/white lists (spec, Event History). */
  skipped: { session_filter: number };
  /** Why the last write failed; null once a write succeeds again. */
  lastError: string | null;
}

/** One topic's publications queued since the last flush, already packed as its block. */
type PendingBlock = NewBlockOf<BlockBuilder>;

const EMPTY = Buffer.alloc(0);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One realm's port: the broker asks `records(topic)` per publication and hands over the ones
 * a rule names. The most specific rule wins (exact, longest prefix, then wildcard). */
class RealmHistory implements EventHistory {
  private rules = new UriIndex<HistoryRule>();
  /** topic -> its rule, or null for none: most publications repeat a few topics. */
  private readonly cache = new Map<string, HistoryRule | null>();
  /** topic -> its block being filled; the last one used is asked first (bursts repeat a topic). */
  private readonly pending = new Map<string, PendingBlock>();
  private lastPending: PendingBlock | undefined;

  constructor(
    readonly realm: string,
    rules: readonly HistoryRule[],
    private readonly service: EventHistoryService,
  ) {
    this.setRules(rules);
  }

  /** New rules (live reload, after a flush): remembered answers are forgotten. */
  setRules(rules: readonly HistoryRule[]): void {
    this.rules = new UriIndex<HistoryRule>();
    for (const r of rules) this.rules.set(r.uri, r.match, r);
    this.cache.clear();
    this.clearPending();
  }

  ruleFor(topic: string): HistoryRule | undefined {
    if (this.lastPending?.topic === topic) return this.lastPending.rule;
    const hit = this.cache.get(topic);
    if (hit !== undefined) return hit ?? undefined;
    const rule = this.rules.matchBest(topic)?.value;
    if (this.cache.size >= RULE_CACHE_SIZE) this.cache.clear();
    this.cache.set(topic, rule ?? null);
    return rule;
  }

  /** Whether a subscription's events can be in the history at all (exact: its topic has a rule). */
  covers(uri: string, match: MatchPolicy): boolean {
    return match !== 'exact' || this.ruleFor(uri) !== undefined;
  }

  records(topic: string): boolean {
    return this.ruleFor(topic) !== undefined;
  }

  record(p: AcceptedPublication): void {
    const rule = this.ruleFor(p.topic);
    if (rule) this.service.enqueue(this, rule, p);
  }

  /** The block a topic's publications go into until the next flush. */
  pendingFor(topic: string, rule: HistoryRule): PendingBlock {
    if (this.lastPending?.topic === topic) return this.lastPending;
    let pb = this.pending.get(topic);
    if (!pb) this.pending.set(topic, (pb = this.service.openBlock(this.realm, topic, rule)));
    this.lastPending = pb;
    return pb;
  }

  /** After a flush: every topic starts a new block. */
  clearPending(): void {
    this.pending.clear();
    this.lastPending = undefined;
  }
}

export interface EventHistoryOptions {
  dataDir: string;
  settings: HistorySettings;
  /** realm name -> its rules; realms without rules keep no history. */
  rules: ReadonlyMap<string, readonly HistoryRule[]>;
  logger: Logger;
}

export class EventHistoryService {
  private current: HistoryStore;
  private readonly ports = new Map<string, RealmHistory>();
  private settings: HistorySettings;
  private readonly path: string;
  private readonly log: Logger;
  private readonly dropLog: RateLimitedLog;
  /** The blocks being filled, in the order their topics were first queued since the last flush. */
  private queue: PendingBlock[] = [];
  private queuedEvents = 0;
  private queuedBytes = 0;
  private readonly spare: BlockBuilder[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushSoon: NodeJS.Immediate | undefined;
  private sweepTimer: NodeJS.Timeout;
  private written = 0;
  private lastError: string | null = null;
  private closed = false;
  private readonly dropped: Record<HistoryDropReason, number> = { queue_full: 0, storage_error: 0, not_encodable: 0, stopped: 0 };
  private readonly skipped = { session_filter: 0 };
  /** Evictions counted by stores a reconfigure replaced. */
  private readonly evictedBefore: Record<EvictionReason, number> = { count: 0, age: 0, bytes: 0, unconfigured: 0 };

  constructor(options: EventHistoryOptions) {
    this.settings = options.settings;
    this.log = options.logger.child('history');
    this.dropLog = new RateLimitedLog(this.log);
    this.path = join(options.dataDir, HISTORY_FILE);
    for (const [realm, rules] of options.rules) if (rules.length > 0) this.ports.set(realm, new RealmHistory(realm, rules, this));
    this.current = this.openStore();
    this.sweepTimer = this.startSweep(options.rules);
  }

  /** The SQLite store now (reconfigure replaces it). */
  get store(): HistoryStore {
    return this.current;
  }

  /** Live reload: new settings and rules. What is queued is written under the old rules, then
   * the file is reopened under the new ones, which applies them as a restart would (topics no
   * rule covers lose their events, a lower count trims, a changed age restamps). Realms keep
   * their port objects; a realm without rules now has none (`portFor` is undefined). */
  reconfigure(settings: HistorySettings, rules: ReadonlyMap<string, readonly HistoryRule[]>): void {
    if (this.closed) throw new Error('event history is closed');
    this.flush();
    // Eviction counts are the service's, not one store's: metrics stay monotonic across reloads.
    for (const [reason, n] of Object.entries(this.current.evicted)) this.evictedBefore[reason as EvictionReason] += n;
    this.current.close();
    this.settings = settings;
    for (const realm of [...this.ports.keys()]) if ((rules.get(realm) ?? []).length === 0) this.ports.delete(realm);
    for (const [realm, list] of rules) {
      if (list.length === 0) continue;
      const port = this.ports.get(realm);
      if (port) port.setRules(list);
      else this.ports.set(realm, new RealmHistory(realm, list, this));
    }
    clearInterval(this.sweepTimer);
    this.sweepTimer = this.startSweep(rules);
    this.current = this.openStore();
  }

  private openStore(): HistoryStore {
    return new HistoryStore({
      path: this.path,
      maxBytes: this.settings.maxBytes,
      ruleFor: (realm, topic) => this.ports.get(realm)?.ruleFor(topic),
      logger: this.log,
    });
  }

  private startSweep(rules: ReadonlyMap<string, readonly HistoryRule[]>): NodeJS.Timeout {
    const timer = setInterval(() => this.sweep(), sweepInterval(rules));
    timer.unref();
    return timer;
  }

  /** The port for a realm's broker; undefined when the realm has no history rules. */
  portFor(realm: string): EventHistory | undefined {
    return this.ports.get(realm);
  }

  /** Called from the publish step (through the port): packs the publication into its topic's
   * block and numbers it; SQLite is only written by the flush. */
  enqueue(port: RealmHistory, rule: HistoryRule, p: AcceptedPublication): void {
    if (this.closed) {
      this.dropped.stopped++;
      return;
    }
    // Most publications carry no options at all: look at them only when there are some.
    const o = p.options;
    let extra: Extra | undefined;
    for (const key in o) {
      if (!Object.hasOwn(o, key)) continue;
      if (key === 'exclude' || key === 'eligible') {
        this.skipped.session_filter++;
        return;
      }
      if (EXTRA_KEYS.has(key)) (extra ??= {})[key] = o[key] as never;
    }
    const encoded = getEncoded(p.payload);
    const bytes = encoded ? encoded.bytes.byteLength : payloadBytes(p.payload);
    if (this.queuedEvents >= this.settings.maxQueuedEvents || this.queuedBytes + bytes > this.settings.maxQueuedBytes) {
      this.dropped.queue_full++;
      this.dropLog.warn('queue_full', 'event history writer is behind: publication not recorded', {
        realm: port.realm,
        topic: p.topic,
        queued: this.queuedEvents,
        queuedBytes: this.queuedBytes,
      });
      return;
    }
    // The bytes the publisher sent are stored as they are (a view of the received frame, copied
    // into the block); an in-process publisher's values have none and are encoded as CBOR here.
    const stored = encoded ?? this.encodeLocal(p);
    if (!stored) return;
    if (p.payload.payload !== undefined) (extra ??= {}).t = 1;
    const publisher = p.publisher;
    port.pendingFor(p.topic, rule).block.add(this.store.takeSeq(), {
      timeUs: Date.now() * 1000,
      publication: p.publication,
      session: publisher ? publisher.session : null,
      authid: publisher ? publisher.authid : null,
      authrole: publisher ? publisher.authrole : null,
      serializer: stored.serializer,
      count: stored.count,
      payload: asBuffer(stored.bytes),
      extra: extra ? JSON.stringify(extra) : null,
    });
    this.queuedEvents++;
    this.queuedBytes += bytes;
    if (this.queuedEvents >= BATCH_EVENTS) this.flushSoon ??= setImmediate(() => this.flush());
    else this.flushTimer ??= setTimeout(() => this.flush(), this.settings.flushIntervalMs);
  }

  /** A new pending block for a topic (the port keeps it until the flush). */
  openBlock(realm: string, topic: string, rule: HistoryRule): PendingBlock {
    const pb: PendingBlock = { realm, topic, rule, block: this.spare.pop() ?? new BlockBuilder() };
    this.queue.push(pb);
    return pb;
  }

  /** Commits everything queued in one transaction. Runs outside routing (timer, or before a read). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushTimer = undefined;
    this.flushSoon = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    const events = this.queuedEvents;
    this.queue = [];
    this.queuedEvents = 0;
    this.queuedBytes = 0;
    for (const port of this.ports.values()) port.clearPending();
    try {
      this.store.appendBlocks(batch.map((pb) => ({ realm: pb.realm, topic: pb.topic, rule: pb.rule, block: pb.block.peek() })));
      this.written += events;
      this.lastError = null;
    } catch (err) {
      this.dropped.storage_error += events;
      this.lastError = `writing ${events} events failed: ${String(err)}`;
      this.dropLog.error('storage_error', 'event history could not write a batch: those publications are not recorded', {
        events,
        error: String(err),
      });
    } finally {
      for (const pb of batch) {
        pb.block.reset();
        if (this.spare.length < SPARE_BUILDERS) this.spare.push(pb.block);
      }
    }
  }

  /** An in-process publisher's values (never encoded by a transport) as CBOR list elements. */
  private encodeLocal(p: AcceptedPublication): EncodedPayload | undefined {
    const elements = payloadElements(p.payload);
    try {
      const cbor = serializerByName('cbor');
      const payload = elements.length === 0 || !cbor ? EMPTY : cbor.tail(cbor.encode(elements), 0);
      return { serializer: 'cbor', count: elements.length, bytes: payload };
    } catch (err) {
      this.dropped.not_encodable++;
      this.dropLog.warn('not_encodable', 'event history cannot store this payload: publication not recorded', { topic: p.topic, error: String(err) });
      return undefined;
    }
  }

  /** Whether a realm keeps history, and whether a subscription (uri, match) can have any:
   * `undefined` = unavailable (wamp.error.history_unavailable, as Crossbar.io answers). */
  available(realm: string, uri: string, match: MatchPolicy): boolean {
    return this.ports.get(realm)?.covers(uri, match) === true;
  }

  /** wamp.subscription.get_events: the events a query selects among the topics the
   * subscription matches (history-answer.ts), or why there are none. */
  getEvents(realm: string, subscription: { id: number; uri: string; match: MatchPolicy }, query: HistoryQuery, reader: HistoryReader): HistoryAnswer {
    if (!this.available(realm, subscription.uri, subscription.match))
      return { error: 'unavailable', message: `no event history is kept for "${subscription.uri}" (${subscription.match})` };
    this.flush(); // what was accepted before this call is in the answer
    return answerQuery(this.store, this.dropLog, realm, subscription, query, reader);
  }

  private sweep(): void {
    if (this.closed) return;
    try {
      this.store.expire();
    } catch (err) {
      this.dropLog.error('expire_failed', 'event history could not remove expired events', { error: String(err) });
    }
  }

  status(): HistoryStatus {
    return {
      file: this.store.path,
      rows: this.store.rowCount,
      bytes: this.store.byteCount,
      maxBytes: this.settings.maxBytes,
      fileBytes: this.store.fileBytes(),
      topics: this.store.topicCount,
      queued: this.queuedEvents,
      queuedBytes: this.queuedBytes,
      written: this.written,
      evicted: sumCounts(this.evictedBefore, this.store.evicted),
      dropped: { ...this.dropped },
      skipped: { ...this.skipped },
      lastError: this.lastError,
    };
  }

  /** Writes what is queued and closes the file. Later publications are counted as `stopped`. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.store.close();
  }
}

function payloadElements(p: Payload): unknown[] {
  if (p.payload !== undefined) return [p.payload];
  if (p.kwargs !== undefined) return [p.args ?? [], p.kwargs];
  if (p.args !== undefined) return [p.args];
  return [];
}

/** What a queued publication of an in-process publisher holds on to: a rough size of its values. */
function payloadBytes(p: Payload): number {
  if (p.payload !== undefined) return typeof p.payload === 'string' ? p.payload.length : p.payload.byteLength;
  return 64; // decoded values of an in-process publisher: counted by the event cap instead
}

function sumCounts<K extends string>(a: Record<K, number>, b: Record<K, number>): Record<K, number> {
  const out = { ...a };
  for (const k of Object.keys(b) as K[]) out[k] += b[k];
  return out;
}
