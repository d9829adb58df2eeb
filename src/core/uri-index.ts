// An index of URI patterns (exact, prefix, wildcard) shared by broker, dealer and authorizer.
// Owns only lookup; what an entry means belongs to its user.

import type { MatchPolicy } from '../protocol/uri';

interface WildcardEntry<T> {
  pattern: string[];
  /** Lexicographic rank per spec: earlier concrete components beat earlier wildcards. */
  rank: number[];
  value: T;
}

export class UriIndex<T> {
  /** uri -> value: the common case, one hash lookup. */
  private readonly exact = new Map<string, T>();
  /** prefix -> value: scanned linearly; a gateway has few prefix patterns. */
  private readonly prefix = new Map<string, T>();
  /** component count -> entries: a wildcard matches only URIs with as many components. */
  private readonly wildcard = new Map<number, Map<string, WildcardEntry<T>>>();
  private wildcardCount = 0;

  get size(): number {
    return this.exact.size + this.prefix.size + this.wildcardCount;
  }

  get(uri: string, match: MatchPolicy): T | undefined {
    if (match === 'exact') return this.exact.get(uri);
    if (match === 'prefix') return this.prefix.get(uri);
    return this.wildcard.get(uri.split('.').length)?.get(uri)?.value;
  }

  set(uri: string, match: MatchPolicy, value: T): void {
    if (match === 'exact') this.exact.set(uri, value);
    else if (match === 'prefix') this.prefix.set(uri, value);
    else {
      const pattern = uri.split('.');
      let bucket = this.wildcard.get(pattern.length);
      if (!bucket) this.wildcard.set(pattern.length, (bucket = new Map()));
      if (!bucket.has(uri)) this.wildcardCount++;
      bucket.set(uri, { pattern, rank: pattern.map((c) => (c === '' ? 0 : 1)), value });
    }
  }

  delete(uri: string, match: MatchPolicy): boolean {
    if (match === 'exact') return this.exact.delete(uri);
    if (match === 'prefix') return this.prefix.delete(uri);
    const pattern = uri.split('.');
    const bucket = this.wildcard.get(pattern.length);
    if (!bucket?.delete(uri)) return false;
    this.wildcardCount--;
    if (bucket.size === 0) this.wildcard.delete(pattern.length);
    return true;
  }

  /** Every entry whose pattern matches `uri` (pub/sub semantics: all of them receive). */
  matchAll(uri: string): T[] {
    const out: T[] = [];
    const hit = this.exact.get(uri);
    if (hit !== undefined) out.push(hit);
    if (this.prefix.size > 0) {
      for (const [p, value] of this.prefix) if (uri.startsWith(p)) out.push(value);
    }
    if (this.wildcardCount > 0) {
      const components = uri.split('.');
      const bucket = this.wildcard.get(components.length);
      if (bucket) for (const entry of bucket.values()) if (matches(entry.pattern, components)) out.push(entry.value);
    }
    return out;
  }

  /** The single best entry (RPC semantics, spec "Pattern-based Registrations": exact, then
   * longest prefix, then the wildcard with the longest concrete portions first). */
  matchBest(uri: string): { value: T; match: MatchPolicy } | undefined {
    const hit = this.exact.get(uri);
    if (hit !== undefined) return { value: hit, match: 'exact' };
    let bestPrefix: string | undefined;
    for (const p of this.prefix.keys()) {
      if (uri.startsWith(p) && (bestPrefix === undefined || p.length > bestPrefix.length)) bestPrefix = p;
    }
    if (bestPrefix !== undefined) return { value: this.prefix.get(bestPrefix) as T, match: 'prefix' };
    if (this.wildcardCount === 0) return undefined;
    const components = uri.split('.');
    let best: WildcardEntry<T> | undefined;
    for (const entry of this.wildcard.get(components.length)?.values() ?? []) {
      if (matches(entry.pattern, components) && (!best || compareRank(entry.rank, best.rank) > 0)) best = entry;
    }
    return best ? { value: best.value, match: 'wildcard' } : undefined;
  }

  *entries(): IterableIterator<{ uri: string; match: MatchPolicy; value: T }> {
    for (const [uri, value] of this.exact) yield { uri, match: 'exact', value };
    for (const [uri, value] of this.prefix) yield { uri, match: 'prefix', value };
    for (const bucket of this.wildcard.values()) for (const [uri, entry] of bucket) yield { uri, match: 'wildcard', value: entry.value };
  }
}

function matches(pattern: readonly string[], components: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p !== '' && p !== components[i]) return false;
  }
  return true;
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
