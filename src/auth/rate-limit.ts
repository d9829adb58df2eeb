// Failed authentication attempts per remote address: after `maxFailures` within `windowMs`, the
// address's HELLOs are refused for `blockMs`. In memory, bounded to `maxAddresses` (oldest
// forgotten first). Fed by the router's onAuthFailure hook; does not authenticate anything.

import { ErrorUri } from '../protocol/error-uris';
import type { TransportInfo } from '../protocol/peer';
import type { Logger } from '../util/logger';
import type { AuthDeny, Authenticator, HelloContext, HelloOutcome } from '../core/ports';

/** 5 failed logins within a minute block an address for 5 minutes: a person mistyping rarely
 * meets it, a guesser gets about 50 tries an hour. At most 10,000 addresses are tracked, the least
 * recently failing forgotten first, so a spray of addresses cannot grow memory without bound. */
const RATE_LIMIT = { maxFailures: 5, windowMs: 60_000, blockMs: 300_000, maxAddresses: 10_000 } as const;

export interface RateLimitOptions {
  /** Failures allowed within the window before the address is blocked. Default 5. */
  maxFailures?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** How long a blocked address stays blocked. Default 5 min. */
  blockMs?: number;
  /** Addresses remembered at most; bounds memory under a distributed attack. Default 10000. */
  maxAddresses?: number;
  logger?: Logger;
  now?: () => number;
}

interface Entry {
  windowStart: number;
  failures: number;
  blockedUntil: number;
}

/** The remote host of a connection, without the port: "10.0.0.7:5312" → "10.0.0.7",
 * "[::1]:5312" → "::1". Other transports (unix, local, serial) use their description whole. */
export function remoteAddress(transport: TransportInfo): string {
  const peer = transport.peer;
  const v6 = /^\[(.*)\]:\d+$/.exec(peer);
  if (v6?.[1] !== undefined) return v6[1];
  const v4 = /^([^:[\]]+):\d+$/.exec(peer);
  if (v4?.[1] !== undefined && (transport.type === 'websocket' || transport.type === 'rawsocket')) return v4[1];
  return peer;
}

export class AuthRateLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly blockMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  /** address -> failure count and block state; Map order is insertion/refresh order, so the
   * first key is the least recently failing address, evicted first. */
  private readonly entries = new Map<string, Entry>();

  constructor(options: RateLimitOptions = {}) {
    this.maxFailures = options.maxFailures ?? RATE_LIMIT.maxFailures;
    this.windowMs = options.windowMs ?? RATE_LIMIT.windowMs;
    this.blockMs = options.blockMs ?? RATE_LIMIT.blockMs;
    this.maxAddresses = options.maxAddresses ?? RATE_LIMIT.maxAddresses;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds the address stays blocked, 0 if it may try. */
  blockedFor(address: string): number {
    const e = this.entries.get(address);
    if (!e) return 0;
    const left = e.blockedUntil - this.now();
    return left > 0 ? left : 0;
  }

  recordFailure(address: string): void {
    const t = this.now();
    let e = this.entries.get(address);
    if (e) this.entries.delete(address);
    if (!e || t - e.windowStart > this.windowMs) e = { windowStart: t, failures: 0, blockedUntil: e?.blockedUntil ?? 0 };
    e.failures++;
    if (e.failures >= this.maxFailures && e.blockedUntil <= t) {
      e.blockedUntil = t + this.blockMs;
      e.failures = 0;
      e.windowStart = t;
      this.logger?.warn('address blocked after repeated authentication failures', { address, blockMs: this.blockMs });
    }
    this.entries.set(address, e);
    while (this.entries.size > this.maxAddresses) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** For RouterOptions.onAuthFailure. */
  readonly onAuthFailure = (transport: TransportInfo): void => this.recordFailure(remoteAddress(transport));

  /** The ABORT for a blocked address, or undefined when it may try. */
  check(transport: TransportInfo): AuthDeny | undefined {
    const left = this.blockedFor(remoteAddress(transport));
    if (left === 0) return undefined;
    return {
      kind: 'deny',
      reason: ErrorUri.notAuthorized,
      message: `too many failed authentication attempts from this address; try again in ${Math.ceil(left / 1000)} s`,
      logged: true,
    };
  }

  /** An authenticator that refuses blocked addresses before asking `inner`. */
  wrap(inner: Authenticator): Authenticator {
    return {
      hello: (ctx: HelloContext): HelloOutcome | Promise<HelloOutcome> => this.check(ctx.transport) ?? inner.hello(ctx),
    };
  }
}
