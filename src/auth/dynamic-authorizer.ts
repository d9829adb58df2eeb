// A dynamic authorizer: a WAMP procedure (registered by a trusted session) decides actions,
// through an injected call function, with a timeout and a TTL cache. Optionally combined with
// a RoleAuthorizer: static rules answer synchronously when one matches; the procedure is asked
// only otherwise. `wamp.` URIs are never delegated (static rules only).

import type { Dict } from '../protocol/messages';
import type { Logger } from '../util/logger';
import { TtlCache } from '../util/ttl-cache';
import { matchOf, type RoleAuthorizer } from './authorizer';
import { withTimeout, type CallFunction } from './dynamic-authenticator';
import type { Action, Authorizer, Decision, SessionIdentity } from '../core/ports';

/** The authorizer procedure answers within 3 s or the action is denied (a hung authorizer must not
 * hold every call); decisions are kept 60 s, up to 10,000 (one per realm/role/authid/action/URI),
 * so a device repeating its publications asks once a minute, and memory stays bounded. */
export const AUTHORIZER_DEFAULTS = { timeoutMs: 3000, cacheTtlMs: 60_000, cacheMax: 10_000 } as const;

export interface DynamicAuthorizerOptions {
  procedure: string;
  call: CallFunction;
  /** Asked first; a matching static rule decides without a call. */
  static?: RoleAuthorizer;
  /** No answer by then → deny (not cached). Default 3000. */
  timeoutMs?: number;
  /** Default 60000; 0 disables the cache. */
  cacheTtlMs?: number;
  /** Default 10000. */
  cacheMax?: number;
  logger?: Logger;
  now?: () => number;
}

const DENY: Decision = { allow: false };

export class DynamicAuthorizer implements Authorizer {
  calls = 0;
  cacheHits = 0;
  private readonly timeoutMs: number;
  /** realm \0 authrole \0 authid \0 action \0 match \0 uri -> decision: the procedure may decide
   * per authid, so the key holds everything it is told except the session id. */
  private readonly cache: TtlCache<Decision>;

  constructor(private readonly options: DynamicAuthorizerOptions) {
    this.timeoutMs = options.timeoutMs ?? AUTHORIZER_DEFAULTS.timeoutMs;
    this.cache = new TtlCache({
      ttlMs: options.cacheTtlMs ?? AUTHORIZER_DEFAULTS.cacheTtlMs,
      max: options.cacheMax ?? AUTHORIZER_DEFAULTS.cacheMax,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  authorize(who: SessionIdentity, action: Action, uri: string, options: Dict): Decision | Promise<Decision> {
    const match = matchOf(options);
    if (this.options.static) {
      const e = this.options.static.evaluate(who.authrole, action, uri, match);
      if (e.matched) return e.allow ? { allow: true, disclose: e.disclose === true } : DENY;
    }
    if (uri.startsWith('wamp.')) return DENY;
    const key = `${who.realm}\0${who.authrole}\0${who.authid}\0${action}\0${match}\0${uri}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cacheHits++;
      return hit;
    }
    return this.ask(who, action, uri, match, options, key);
  }

  clearCache(): void {
    this.cache.clear();
  }

  private async ask(who: SessionIdentity, action: Action, uri: string, match: string, options: Dict, key: string): Promise<Decision> {
    this.calls++;
    const session: Dict = {
      session: who.session,
      realm: who.realm,
      authid: who.authid,
      authrole: who.authrole,
      authmethod: who.authmethod,
      transport: { type: who.transport.type, peer: who.transport.peer, listener: who.transport.listener },
    };
    let answer: unknown;
    try {
      const r = await withTimeout(
        this.options.call(this.options.procedure, [session, uri, action, { match, ...pick(options) }], {}, { timeout: this.timeoutMs }),
        this.timeoutMs,
        this.options.procedure,
      );
      answer = r.args[0] ?? r.kwargs;
    } catch (err) {
      this.options.logger?.warn('dynamic authorizer failed; denying', {
        procedure: this.options.procedure,
        authid: who.authid,
        authrole: who.authrole,
        action,
        uri,
        error: (err as Error).message,
      });
      return DENY;
    }
    // Crossbar's shapes: a boolean, or { allow, disclose, cache }.
    let decision: Decision = DENY;
    let cacheable = true;
    if (answer === true) decision = { allow: true, disclose: false };
    else if (typeof answer === 'object' && answer !== null && !Array.isArray(answer)) {
      const a = answer as Dict;
      decision = a.allow === true ? { allow: true, disclose: a.disclose === true } : DENY;
      if (a.cache === false) cacheable = false;
    }
    if (cacheable) this.cache.set(key, decision);
    return decision;
  }
}

/** Only option fields an authorizer may reason about; payloads never leave the router. */
function pick(options: Dict): Dict {
  const out: Dict = {};
  for (const k of ['match', 'disclose_me', 'acknowledge', 'exclude_me', 'invoke', 'timeout']) if (options[k] !== undefined) out[k] = options[k];
  return out;
}
