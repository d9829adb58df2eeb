// A dynamic authenticator (as Crossbar.io has): ticket authentication decided by a WAMP
// procedure that a trusted session registered. The router calls it with (realm, authid,
// details) through an injected call function; answers are cached. Owns the call, its timeout
// and the cache; which session makes the call is the gateway's business.

import { createHash } from 'node:crypto';
import { ErrorUri } from '../protocol/error-uris';
import type { Dict } from '../protocol/messages';
import type { Logger } from '../util/logger';
import { TtlCache } from '../util/ttl-cache';
import { credentialsRejected } from './principals';
import type { AuthAccept, Authenticator, AuthResult, HelloContext, HelloOutcome } from '../core/ports';

/** The authenticator procedure answers within 3 s, well inside the HELLO timeout, or the login
 * fails; answers are kept 60 s, up to 1,000 (one per realm/authid/ticket: a reconnect burst of a
 * fleet is served from the cache without a call each). */
export const AUTHENTICATOR_DEFAULTS = { timeoutMs: 3000, cacheTtlMs: 60_000, cacheMax: 1000 } as const;

/** How auth/ calls a procedure: WampClient.call fits. Rejects with an Error carrying `error`
 * (a WAMP error URI) when the callee answers ERROR. */
export type CallFunction = (procedure: string, args: unknown[], kwargs: Dict, options: { timeout: number }) => Promise<{ args: unknown[]; kwargs: Dict }>;

export interface DynamicAuthenticatorOptions {
  procedure: string;
  call: CallFunction;
  /** No answer by then → deny (never cached). Default 3000. */
  timeoutMs?: number;
  /** How long an answer (accept or explicit deny) is reused. 0 disables the cache. Default 60000. */
  cacheTtlMs?: number;
  /** Cached answers at most; oldest dropped first. Default 1000. */
  cacheMax?: number;
  authprovider?: string;
  logger?: Logger;
  now?: () => number;
}

/** Errors that say the authenticator could not answer, not that it said no: never cached. */
const transientErrors = new Set<string>([ErrorUri.noSuchProcedure, ErrorUri.timeout, ErrorUri.canceled, ErrorUri.unavailable, ErrorUri.noEligibleCallee]);

/** Our own timer ran out: transient like the router's own timeout, so the same URI. */
class TimeoutError extends Error {
  readonly error = ErrorUri.timeout;
}

/** Races a promise against a timer, clearing the timer either way. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export class DynamicAuthenticator implements Authenticator {
  /** Calls made to the procedure (cache misses), for tests and metrics. */
  calls = 0;
  cacheHits = 0;
  private readonly timeoutMs: number;
  private readonly authprovider: string;
  /** realm \0 authid \0 sha256(ticket) -> answer: the ticket itself is never kept. */
  private readonly cache: TtlCache<AuthResult>;

  constructor(private readonly options: DynamicAuthenticatorOptions) {
    this.timeoutMs = options.timeoutMs ?? AUTHENTICATOR_DEFAULTS.timeoutMs;
    this.authprovider = options.authprovider ?? 'dynamic';
    this.cache = new TtlCache({
      ttlMs: options.cacheTtlMs ?? AUTHENTICATOR_DEFAULTS.cacheTtlMs,
      max: options.cacheMax ?? AUTHENTICATOR_DEFAULTS.cacheMax,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  hello(ctx: HelloContext): HelloOutcome {
    const authid = ctx.details.authid;
    if (typeof authid !== 'string' || authid.length === 0) {
      return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'ticket authentication needs HELLO.Details.authid' };
    }
    return {
      kind: 'challenge',
      authmethod: 'ticket',
      extra: {},
      verify: (ticket: string) => this.authenticate(ctx, authid, typeof ticket === 'string' ? ticket : ''),
    };
  }

  clearCache(): void {
    this.cache.clear();
  }

  async authenticate(ctx: HelloContext, authid: string, ticket: string): Promise<AuthResult> {
    const key = `${ctx.realm}\0${authid}\0${createHash('sha256').update(ticket).digest('hex')}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cacheHits++;
      return hit;
    }
    this.calls++;
    const details: Dict = {
      authmethod: 'ticket',
      authid,
      ticket,
      transport: { type: ctx.transport.type, peer: ctx.transport.peer, listener: ctx.transport.listener },
    };
    if (ctx.details.authextra !== undefined) details.authextra = ctx.details.authextra;
    if (ctx.details.authrole !== undefined) details.authrole = ctx.details.authrole;
    let result: AuthResult;
    try {
      const r = await withTimeout(
        this.options.call(this.options.procedure, [ctx.realm, authid, details], {}, { timeout: this.timeoutMs }),
        this.timeoutMs,
        this.options.procedure,
      );
      result = this.interpret(r.args[0] ?? r.kwargs, authid);
    } catch (err) {
      const uri = (err as { error?: unknown }).error;
      if (typeof uri !== 'string' || transientErrors.has(uri)) {
        // The authenticator could not answer: deny this attempt, ask again next time.
        this.options.logger?.warn('dynamic authenticator unavailable; denying', {
          procedure: this.options.procedure,
          authid,
          realm: ctx.realm,
          error: (err as Error).message,
        });
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'authentication failed (authenticator unavailable)' };
      }
      this.options.logger?.warn('authentication denied', {
        authmethod: 'ticket',
        authprovider: this.authprovider,
        authid,
        realm: ctx.realm,
        peer: ctx.transport.peer,
      });
      result = credentialsRejected();
    }
    this.remember(key, result);
    return result;
  }

  /** The procedure returns a role name, or { role, authid?, realm?, extra? } (Crossbar's shape). */
  private interpret(answer: unknown, authid: string): AuthResult {
    if (typeof answer === 'string' && answer.length > 0) {
      return { kind: 'accept', authid, authrole: answer, authmethod: 'ticket', authprovider: this.authprovider };
    }
    if (typeof answer === 'object' && answer !== null && !Array.isArray(answer)) {
      const a = answer as Dict;
      if (typeof a.role === 'string' && a.role.length > 0) {
        const out: AuthAccept = {
          kind: 'accept',
          authid: typeof a.authid === 'string' && a.authid.length > 0 ? a.authid : authid,
          authrole: a.role,
          authmethod: 'ticket',
          authprovider: this.authprovider,
        };
        if (typeof a.realm === 'string' && a.realm.length > 0) out.realm = a.realm;
        if (typeof a.extra === 'object' && a.extra !== null && !Array.isArray(a.extra)) out.authextra = a.extra as Dict;
        return out;
      }
    }
    this.options.logger?.error('dynamic authenticator returned no role; denying', { procedure: this.options.procedure, authid });
    return credentialsRejected();
  }

  private remember(key: string, result: AuthResult): void {
    this.cache.set(key, result);
  }
}
