// The arguments of wamp.subscription.get_events, read into a HistoryQuery: Crossbar.io's form
// (subscription_id, limit=10), positional or by name, answered newest first; and the WAMP spec
// draft's keyword filters (rfc/text/advanced/pubsub_event_history.md), answered in publish order
// unless `reverse`. Every bad argument is a wamp.error.invalid_argument naming it.

import { WampError } from '../client/wamp-error';
import type { HistoryQuery } from '../core/ports';
import { ErrorUri } from '../protocol/error-uris';
import type { Dict } from '../protocol/messages';
import { isValidUri } from '../protocol/uri';

/** Crossbar.io's default for wamp.subscription.get_events(subscription_id, limit=10). */
export const DEFAULT_GET_EVENTS_LIMIT = 10;
/** The most events one get_events answers with (a null limit asks for this many): bounds the RESULT. */
export const MAX_GET_EVENTS = 1000;

const TIME_BOUNDS = ['from_time', 'after_time', 'before_time', 'until_time'] as const;
const PUBLICATION_BOUNDS = { from_publication: 'from', after_publication: 'after', before_publication: 'before', until_publication: 'until' } as const;
/** The draft's keywords: any of them asks for the draft's order (publish order unless reverse). */
const DRAFT = ['reverse', 'topic', ...TIME_BOUNDS, ...Object.keys(PUBLICATION_BOUNDS)];
const KNOWN = new Set(['subscription_id', 'limit', ...DRAFT]);

function invalid(message: string): WampError {
  return new WampError(ErrorUri.invalidArgument, [message]);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** An RFC 3339 timestamp as µs since the epoch (fractions below a µs are cut), or undefined. */
export function parseRfc3339Us(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(local);
  // Date.UTC rolls 31 February over into March: a date that does not exist is refused instead.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  const offsetMin = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const fractionUs = m[7] ? Number(`${m[7].slice(1)}000000`.slice(0, 6)) : 0;
  return (local - offsetMin * 60_000) * 1000 + fractionUs;
}

/** Reads the call's arguments; throws WampError(invalid_argument) naming the first bad one. */
export function readGetEventsArgs(args: unknown[], kwargs: Dict): { subscription: number; query: HistoryQuery } {
  for (const key of Object.keys(kwargs))
    if (!KNOWN.has(key)) throw invalid(`unknown argument ${key}: get_events takes subscription_id, limit, ${DRAFT.join(', ')}`);
  if (args.length > 2) throw invalid('get_events takes at most two positional arguments: subscription_id, limit');
  const named = (i: number, name: string): unknown => (args.length > i ? args[i] : kwargs[name]);
  const id = named(0, 'subscription_id');
  if (typeof id !== 'number' || !Number.isInteger(id)) throw invalid('argument subscription_id must be an integer');
  // Absent = Crossbar.io's default; null = as many as one answer carries.
  const rawLimit = named(1, 'limit');
  const asked = rawLimit === undefined ? DEFAULT_GET_EVENTS_LIMIT : rawLimit === null ? MAX_GET_EVENTS : rawLimit;
  if (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 0) throw invalid('argument limit must be an integer ≥ 0');

  const draft = DRAFT.some((k) => kwargs[k] !== undefined);
  const reverse = kwargs.reverse;
  if (reverse !== undefined && typeof reverse !== 'boolean') throw invalid('argument reverse must be true or false');
  const query: HistoryQuery = { limit: Math.min(asked, MAX_GET_EVENTS), newestFirst: draft ? reverse === true : true, publications: [] };

  const topic = kwargs.topic;
  if (topic !== undefined) {
    if (typeof topic !== 'string' || !isValidUri(topic, 'loose')) throw invalid('argument topic must be a WAMP URI');
    query.topic = topic;
  }
  for (const name of TIME_BOUNDS) {
    const v = kwargs[name];
    if (v === undefined) continue;
    const us = typeof v === 'string' ? parseRfc3339Us(v) : undefined;
    if (us === undefined) throw invalid(`argument ${name} must be an RFC 3339 timestamp like "2026-12-06T09:30:00.000Z"`);
    // Stored times are whole µs: "after t" is "from t + 1 µs", "before t" is "until t - 1 µs".
    if (name === 'from_time' || name === 'after_time') query.fromTimeUs = Math.max(query.fromTimeUs ?? -Infinity, name === 'after_time' ? us + 1 : us);
    else query.untilTimeUs = Math.min(query.untilTimeUs ?? Infinity, name === 'before_time' ? us - 1 : us);
  }
  for (const [name, side] of Object.entries(PUBLICATION_BOUNDS)) {
    const v = kwargs[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw invalid(`argument ${name} must be a publication ID (a positive integer)`);
    query.publications.push({ publication: v, side });
  }
  return { subscription: id, query };
}
