// The event history's configuration: each realm's `history` rules (which topics are kept, and
// how many and how long per topic) and the top-level `history` section (the file-wide byte cap
// and the writer's queue). Validates with paths and resolves defaults once; owns nothing else.

import type { ConfigProblem } from '../config/problem';
import type { ConfigSection } from '../config/section';
import { Check, type Obj } from '../config/validate';
import { isValidPattern, type MatchPolicy } from '../protocol/uri';

/** One realm `history` rule: topics matching `uri` (like a subscription) are kept. */
export interface HistoryRule {
  uri: string;
  match: MatchPolicy;
  /** Events kept per topic; the oldest goes first. */
  maxEvents: number;
  /** Events older than this are removed; null = no age limit. Wall clock: see README. */
  maxAgeMs: number | null;
}

/** The top-level `history` section, with defaults resolved. */
export interface HistorySettings {
  /** Accounted bytes of all stored events together (all realms); the oldest events go first. */
  maxBytes: number;
  /** Publications waiting for the writer; more are dropped and counted (routing never waits). */
  maxQueuedEvents: number;
  /** Payload bytes waiting for the writer; more are dropped and counted. */
  maxQueuedBytes: number;
  /** The writer commits what is queued at most this long after the first queued publication. */
  flushIntervalMs: number;
}

export const defaultHistorySettings: HistorySettings = {
  maxBytes: 64 * 1024 * 1024,
  maxQueuedEvents: 10_000,
  maxQueuedBytes: 8 * 1024 * 1024,
  // Each commit rewrites whole pages: one publication per commit writes ~14 KiB to the card, ten
  // ~4 KiB each (`node dist/bench/history-writer.js --flush 1|10`). A second gathers a slow
  // sensor's readings into one commit; a crash loses at most that second of history (delivery
  // is not affected), and a read always flushes first.
  flushIntervalMs: 1000,
};

export const DEFAULT_MAX_EVENTS = 1000;

const RULE_KEYS = ['uri', 'match', 'maxEvents', 'maxAgeMs'];

/** A realm's `history`: a list of rules. Every problem, each with its path. */
export function validateRealmHistory(value: unknown, path: string): ConfigProblem[] {
  const c = new Check();
  const list = c.list(value, path, { message: 'must be a list of rules like { "uri": "sensors.", "match": "prefix", "maxEvents": 100 }' });
  list?.forEach((r, i) => {
    const at = `${path}[${i}]`;
    const rule = c.object(r, at, RULE_KEYS, { required: true, message: 'must be an object like { "uri": "sensors.", "match": "prefix" }' });
    if (!rule) return;
    const match =
      rule.match === undefined
        ? 'exact'
        : c.oneOf(rule.match, `${at}.match`, ['exact', 'prefix', 'wildcard'] as const, { message: 'must be "exact", "prefix" or "wildcard"' });
    if (match !== undefined && (typeof rule.uri !== 'string' || !isValidPattern(rule.uri, match, 'loose')))
      c.add(`${at}.uri`, `must be a topic ${match === 'exact' ? 'URI' : `${match} pattern`} such as "sensors.${match === 'wildcard' ? '.temperature' : ''}"`);
    c.int(rule.maxEvents, `${at}.maxEvents`, { min: 1, message: 'must be an integer ≥ 1 (events kept per topic)' });
    c.int(rule.maxAgeMs, `${at}.maxAgeMs`, { min: 1000, message: 'must be an integer ≥ 1000 (milliseconds)' });
  });
  return c.problems;
}

/** Rules of a validated realm `history` list with defaults filled in. */
export function resolveRules(value: unknown): HistoryRule[] {
  if (!Array.isArray(value)) return [];
  return (value as Obj[]).map((r) => ({
    uri: r.uri as string,
    match: (r.match ?? 'exact') as MatchPolicy,
    maxEvents: (r.maxEvents as number | undefined) ?? DEFAULT_MAX_EVENTS,
    maxAgeMs: (r.maxAgeMs as number | undefined) ?? null,
  }));
}

/** The top-level `history` section; absent = the defaults (used only when a realm has rules). */
export const historySection: ConfigSection<HistorySettings> = {
  key: 'history',
  read(raw, path, c) {
    const h = raw === undefined ? {} : c.object(raw, path, Object.keys(defaultHistorySettings), { message: 'must be an object like { "maxBytes": 67108864 }' });
    if (!h) return undefined;
    const d = defaultHistorySettings;
    return {
      maxBytes: c.int(h.maxBytes, `${path}.maxBytes`, { min: 64 * 1024, message: 'must be an integer ≥ 65536 (bytes, at least 64 KiB)' }) ?? d.maxBytes,
      maxQueuedEvents: c.int(h.maxQueuedEvents, `${path}.maxQueuedEvents`, { min: 1, message: 'must be an integer ≥ 1 (events)' }) ?? d.maxQueuedEvents,
      maxQueuedBytes:
        c.int(h.maxQueuedBytes, `${path}.maxQueuedBytes`, { min: 64 * 1024, message: 'must be an integer ≥ 65536 (bytes, at least 64 KiB)' }) ??
        d.maxQueuedBytes,
      flushIntervalMs:
        c.int(h.flushIntervalMs, `${path}.flushIntervalMs`, { min: 1, max: 10_000, message: 'must be an integer from 1 to 10000 (milliseconds)' }) ??
        d.flushIntervalMs,
    };
  },
};
