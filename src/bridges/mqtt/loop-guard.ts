// MQTT 3.1.1 has no noLocal, so a bridge that both publishes to and subscribes to overlapping
// topics would import its own messages again. The guard remembers what the bridge just sent
// where it could come back, and recognises the echo; it does not publish or subscribe itself.

import { createHash } from 'node:crypto';
import { matchFilter, type FilterLevel } from './topic-mapping';

/**
 * (topic, payload) pairs this bridge just published, consumed when they come back. A multiset
 * with a time limit: a device publishing the very same bytes on the same topic within `ttlMs`
 * of the bridge is taken for the echo (documented trade-off).
 */
export class LoopGuard {
  /** "topic\0sha1(payload)" -> how many sends are outstanding, and when the newest expires. */
  private readonly sent = new Map<string, { count: number; expires: number }>();
  private nextSweep = 0;

  /** `inbound`: the filters of the MQTT -> WAMP rules, the only way a message can come back. */
  constructor(
    private readonly ttlMs: number,
    private readonly inbound: readonly (readonly FilterLevel[])[],
  ) {}

  /** Called for every publish; remembers it when an inbound rule would import it. */
  sending(topic: string, payload: Buffer): void {
    if (this.inbound.some((filter) => matchFilter(filter, topic))) this.remember(topic, payload);
  }

  remember(topic: string, payload: Buffer): void {
    const now = Date.now();
    if (now >= this.nextSweep) this.sweep(now);
    const key = keyOf(topic, payload);
    const e = this.sent.get(key);
    if (e) {
      e.count++;
      e.expires = now + this.ttlMs;
    } else this.sent.set(key, { count: 1, expires: now + this.ttlMs });
  }

  /** True when (topic, payload) is the echo of a send: it is then forgotten. */
  consume(topic: string, payload: Buffer): boolean {
    if (this.sent.size === 0) return false;
    const key = keyOf(topic, payload);
    const e = this.sent.get(key);
    if (!e) return false;
    if (e.expires < Date.now()) {
      this.sent.delete(key);
      return false;
    }
    if (--e.count === 0) this.sent.delete(key);
    return true;
  }

  clear(): void {
    this.sent.clear();
  }

  private sweep(now: number): void {
    for (const [k, e] of this.sent) if (e.expires < now) this.sent.delete(k);
    this.nextSweep = now + this.ttlMs;
  }
}

function keyOf(topic: string, payload: Buffer): string {
  return `${topic}\u0000${createHash('sha1').update(payload).digest('base64')}`;
}
