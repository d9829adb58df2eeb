// The answer to wamp.subscription.get_events from the store: which topics a subscription reads,
// the query's publication bounds resolved to seqs, the audience filters applied to the reader,
// and each stored event turned into Crossbar.io's event shape. Also what a stored event keeps
// of its publication's options (`Extra`), which the writer fills.

import { UriIndex } from '../core/uri-index';
import type { HistoryAnswer, HistoryQuery } from '../core/ports';
import type { Dict } from '../protocol/messages';
import type { MatchPolicy } from '../protocol/uri';
import { serializerByName } from '../serializers';
import type { RateLimitedLog } from '../util/logger';
import type { HistoryStore, ReadQuery, StoredHistoryEvent } from './history-store';

// Publish options `exclude` and `eligible` address sessions by ID: the spec ("Event History",
// Security Aspects) says such events are not stored at all, as session IDs mean nothing after a
// restart (the writer skips them). Filters by authid/authrole are stored and applied to each reader.
const AUDIENCE_FILTERS = ['eligible_authid', 'eligible_authrole', 'exclude_authid', 'exclude_authrole'] as const;
const PASSTHRU = ['ppt_scheme', 'ppt_serializer', 'ppt_cipher', 'ppt_keyid', 'enc_algo', 'enc_key', 'enc_serializer'] as const;
/** Options kept with a stored event (audience filters and passthru details). */
export const EXTRA_KEYS: ReadonlySet<string> = new Set([...AUDIENCE_FILTERS, ...PASSTHRU]);

/** What a stored event keeps of its publication's options, as JSON. */
export interface Extra {
  /** A transparent payload (Payload Passthru Mode) in place of args/kwargs. */
  t?: 1;
  eligible_authid?: string[];
  eligible_authrole?: string[];
  exclude_authid?: string[];
  exclude_authrole?: string[];
  [passthru: string]: unknown;
}

/** Who reads the history: the audience filters are applied to it. */
export interface HistoryReader {
  authid: string;
  authrole: string;
  /** The router's own sessions see everything. */
  trusted: boolean;
}

/** The stored topics of `realm` a subscription (uri, match) reads. */
function topicIds(store: HistoryStore, realm: string, subscription: { uri: string; match: MatchPolicy }): number[] {
  if (subscription.match === 'exact') {
    const id = store.topicId(realm, subscription.uri);
    return id === undefined ? [] : [id];
  }
  const probe = new UriIndex<true>();
  probe.set(subscription.uri, subscription.match, true);
  const ids: number[] = [];
  for (const t of store.topicsOf(realm)) if (probe.matchAll(t.topic).length > 0) ids.push(t.id);
  return ids;
}

/** Answers a query from the store (the caller checked that history is available and flushed). */
export function answerQuery(
  store: HistoryStore,
  log: RateLimitedLog,
  realm: string,
  subscription: { id: number; uri: string; match: MatchPolicy },
  query: HistoryQuery,
  reader: HistoryReader,
): HistoryAnswer {
  let ids = topicIds(store, realm, subscription);
  if (query.topic !== undefined) {
    const only = store.topicId(realm, query.topic);
    ids = ids.filter((id) => id === only);
  }
  const bounds: ReadQuery = { limit: query.limit, newestFirst: query.newestFirst };
  if (query.fromTimeUs !== undefined) bounds.minTimeUs = query.fromTimeUs;
  if (query.untilTimeUs !== undefined) bounds.maxTimeUs = query.untilTimeUs;
  for (const { publication, side } of query.publications) {
    const seq = store.seqOf(ids, publication);
    if (seq === undefined)
      return {
        error: 'invalid_argument',
        message: `publication ${publication} is not in the history of subscription ${subscription.id} (never stored, or evicted)`,
      };
    if (side === 'from' || side === 'after') bounds.minSeq = Math.max(bounds.minSeq ?? -Infinity, side === 'after' ? seq + 1 : seq);
    else bounds.maxSeq = Math.min(bounds.maxSeq ?? Infinity, side === 'before' ? seq - 1 : seq);
  }
  const out: Dict[] = [];
  while (out.length < query.limit) {
    // Events the reader may not see are left out, so read on past them, a page at a time.
    const page = store.read(ids, { ...bounds, limit: query.limit - out.length });
    for (const e of page) {
      if (query.newestFirst) bounds.maxSeq = e.seq - 1;
      else bounds.minSeq = e.seq + 1;
      const extra = e.extra ? (JSON.parse(e.extra) as Extra) : undefined;
      if (extra && !reader.trusted && !inAudience(extra, reader)) continue;
      const event = toEvent(log, e, extra, subscription.id);
      if (event) out.push(event);
    }
    if (page.length === 0) break;
  }
  return { events: out };
}

/** A stored event in Crossbar.io's shape (router/realmstore.py, memory store): time_ns, realm,
 * session_id, authid, authrole, publication, topic, args, kwargs — plus the spec draft's
 * timestamp (RFC 3339) and subscription. Undefined (logged) when its bytes cannot be decoded. */
function toEvent(log: RateLimitedLog, e: StoredHistoryEvent, extra: Extra | undefined, subscription: number): Dict | undefined {
  let elements: unknown[];
  try {
    const s = serializerByName(e.serializer);
    if (!s) throw new Error(`unknown serializer ${e.serializer}`);
    // The stored bytes are list elements without their list: put them behind a one-element head.
    elements = e.count === 0 ? [] : (s.decode(s.encodeWithTail([0], e.payload, e.count)) as unknown[]).slice(1);
  } catch (err) {
    log.error('unreadable', 'event history row cannot be decoded: left out of the answer', { topic: e.topic, error: String(err) });
    return undefined;
  }
  const transparent = extra?.t === 1;
  const event: Dict = {
    time_ns: BigInt(e.timeUs) * 1000n,
    realm: e.realm,
    session_id: e.session,
    authid: e.authid,
    authrole: e.authrole,
    publication: e.publication,
    topic: e.topic,
    args: transparent ? null : (elements[0] ?? null),
    kwargs: transparent ? null : (elements[1] ?? null),
    timestamp: new Date(Math.floor(e.timeUs / 1000)).toISOString(),
    subscription,
  };
  if (transparent) event.payload = elements[0];
  if (extra) for (const k of PASSTHRU) if (extra[k] !== undefined) event[k] = extra[k];
  return event;
}

function inAudience(e: Extra, r: HistoryReader): boolean {
  if (e.exclude_authid?.includes(r.authid) || e.exclude_authrole?.includes(r.authrole)) return false;
  if (e.eligible_authid && !e.eligible_authid.includes(r.authid)) return false;
  if (e.eligible_authrole && !e.eligible_authrole.includes(r.authrole)) return false;
  return true;
}
