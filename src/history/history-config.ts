// The event history's configuration: each realm's `history` rules (which topics are kept, and
// how many and how long per topic) and the top-level `history` section (the file-wide byte cap
// and the writer's queue). Validates with paths and resolves defaults once; owns nothing else.

import type { ConfigProblem } from '../config/problem';
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
  flushIntervalMs: 50,
};

export const DEFAULT_MAX_EVENTS = 1000;

const RULE_KEYS = ['uri', 'match', 'maxEvents', 'maxAgeMs'];
const SECTION_KEYS = Object.keys(defaultHistorySettings);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

function unknownKeys(value: Obj, allowed: readonly string[], path: string, out: ConfigProblem[]): void {
  for (const k of Object.keys(value)) if (!allowed.includes(k)) out.push({ path: `${path}.${k}`, message: `unknown key (allowed: ${allowed.join(', ')})` });
}

/** A realm's `history`: a list of rules. Every problem, each with its path. */
export function validateRealmHistory(value: unknown, path: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!Array.isArray(value)) return [{ path, message: 'must be a list of rules like { "uri": "sensors.", "match": "prefix", "maxEvents": 100 }' }];
  value.forEach((r, i) => {
    const at = `${path}[${i}]`;
    if (!isObj(r)) return out.push({ path: at, message: 'must be an object like { "uri": "sensors.", "match": "prefix" }' });
    unknownKeys(r, RULE_KEYS, at, out);
    const match = r.match ?? 'exact';
    if (match !== 'exact' && match !== 'prefix' && match !== 'wildcard') out.push({ path: `${at}.match`, message: 'must be "exact", "prefix" or "wildcard"' });
    else if (typeof r.uri !== 'string' || !isValidPattern(r.uri, match, 'loose'))
      out.push({
        path: `${at}.uri`,
        message: `must be a topic ${match === 'exact' ? 'URI' : `${match} pattern`} such as "sensors.${match === 'wildcard' ? '.temperature' : ''}"`,
      });
    if (r.maxEvents !== undefined && !isInt(r.maxEvents, 1)) out.push({ path: `${at}.maxEvents`, message: 'must be an integer ≥ 1 (events kept per topic)' });
    if (r.maxAgeMs !== undefined && !isInt(r.maxAgeMs, 1000)) out.push({ path: `${at}.maxAgeMs`, message: 'must be an integer ≥ 1000 (milliseconds)' });
    return undefined;
  });
  return out;
}

/** The top-level `history` section. */
export function validateHistorySection(value: unknown, path: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isObj(value)) return [{ path, message: 'must be an object like { "maxBytes": 67108864 }' }];
  unknownKeys(value, SECTION_KEYS, path, out);
  const mins: Record<keyof HistorySettings, [number, string]> = {
    maxBytes: [64 * 1024, 'bytes, at least 64 KiB'],
    maxQueuedEvents: [1, 'events'],
    maxQueuedBytes: [64 * 1024, 'bytes, at least 64 KiB'],
    flushIntervalMs: [1, 'milliseconds'],
  };
  for (const [k, [min, what]] of Object.entries(mins)) {
    const v = value[k];
    if (v !== undefined && !isInt(v, min)) out.push({ path: `${path}.${k}`, message: `must be an integer ≥ ${min} (${what})` });
  }
  if (isInt(value.flushIntervalMs, 1) && value.flushIntervalMs > 10_000)
    out.push({ path: `${path}.flushIntervalMs`, message: 'must be ≤ 10000 (milliseconds)' });
  return out;
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

/** The validated top-level section with defaults filled in. */
export function resolveSettings(value: unknown): HistorySettings {
  const out = { ...defaultHistorySettings };
  if (isObj(value)) for (const k of SECTION_KEYS) if (isInt(value[k], 0)) (out as Record<string, number>)[k] = value[k];
  return out;
}
