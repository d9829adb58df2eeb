// A bounded cache whose entries expire: what the dynamic authenticator and authorizer reuse of
// their procedures' answers. Oldest insertion goes first when full; an expired entry is never
// returned. It holds values only; what may be cached is the caller's decision.

export interface TtlCacheOptions {
  /** How long an entry is returned; 0 disables the cache (set() keeps nothing). */
  ttlMs: number;
  /** Entries at most; the oldest inserted is dropped first. 0 disables the cache. */
  max: number;
  /** Clock (tests). Default Date.now. */
  now?: () => number;
}

export class TtlCache<V> {
  /** key -> the value and when it stops being returned (epoch ms of `now`). */
  private readonly entries = new Map<string, { expires: number; value: V }>();
  private readonly now: () => number;

  constructor(private readonly options: TtlCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires > this.now()) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.options.ttlMs <= 0 || this.options.max <= 0) return;
    this.entries.set(key, { expires: this.now() + this.options.ttlMs, value });
    while (this.entries.size > this.options.max) this.entries.delete(this.entries.keys().next().value as string);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
