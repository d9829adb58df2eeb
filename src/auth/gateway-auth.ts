// Builds the authentication and authorization a config asks for: one authenticator (with its
// rate limiter) per listener, one authorizer per realm, and the trusted in-process session
// through which dynamic authenticators and authorizers call their procedures.

import { WampClient } from '../client/wamp-client';
import type { GatewayConfig, RealmConfig } from '../config/types';
import { ConfigError, type ConfigProblem } from '../config/problem';
import { defaultLimits } from '../config/defaults';
import { isLoopbackListener } from '../util/loopback';
import type { LocalIdentity } from '../core/ports';
import type { TransportInfo } from '../protocol/peer';
import { attachLocal, type PeerAcceptor } from '../transports/local';
import type { Logger } from '../util/logger';
import { anonymousOnLoopback } from './anonymous';
import { RoleAuthorizer, type RoleConfig } from './authorizer';
import type { ListenerAuthConfig, DynamicAuthorizerConfig } from './config';
import type { CallFunction } from './dynamic-authenticator';
import { DynamicAuthorizer } from './dynamic-authorizer';
import { buildListenerAuth, type ListenerAuth } from './listener-auth';
import { KdfLimiter } from './kdf-limiter';
import { pbkdf2Derive } from './principals';
import type { Authenticator, Authorizer } from '../core/ports';

export class GatewayAuth {
  /** listener name -> its authenticator and rate limiter */
  private readonly listeners = new Map<string, ListenerAuth>();
  /** realm name -> the trusted session dynamic auth calls through, connected on first use */
  private readonly callers = new Map<string, Promise<WampClient>>();
  private router: PeerAcceptor<LocalIdentity> | undefined;
  private readonly localDefault = anonymousOnLoopback();
  /** One per process: ticket checks of every listener share the thread pool. */
  readonly kdfLimiter: KdfLimiter;

  /** Throws ConfigError with every problem (e.g. a secret's environment variable is unset). */
  constructor(
    config: GatewayConfig,
    private readonly logger: Logger,
  ) {
    const problems: ConfigProblem[] = [];
    this.kdfLimiter = new KdfLimiter(pbkdf2Derive, {
      concurrency: config.limits?.ticketCheckConcurrency ?? defaultLimits.ticketCheckConcurrency,
      maxQueued: config.limits?.ticketCheckQueue ?? defaultLimits.ticketCheckQueue,
    });
    config.listeners.forEach((l, i) => {
      try {
        this.listeners.set(
          l.name,
          buildListenerAuth(l.auth as ListenerAuthConfig | undefined, {
            listener: l.name,
            path: `listeners[${i}].auth`,
            loopback: isLoopbackListener(l),
            call: this.callIn(((l.auth as ListenerAuthConfig | undefined)?.dynamic?.realm ?? config.realms[0]?.name) as string),
            logger,
            kdfLimiter: this.kdfLimiter,
          }),
        );
      } catch (err) {
        if (err instanceof ConfigError) problems.push(...err.problems);
        else throw err;
      }
    });
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** The router the trusted caller sessions join; set once it exists. */
  attach(router: PeerAcceptor<LocalIdentity>): void {
    this.router = router;
  }

  authenticatorFor(transport: TransportInfo): Authenticator | undefined {
    const configured = this.listeners.get(transport.listener)?.authenticator;
    // In-process connections come from the embedding application's own code: the loopback default.
    if (!configured && transport.type === 'local') return this.localDefault;
    return configured;
  }

  onAuthFailure(transport: TransportInfo): void {
    this.listeners.get(transport.listener)?.rateLimiter?.onAuthFailure(transport);
  }

  /** The realm's authorizer: static roles, a dynamic procedure (asked when no rule matches), or
   * undefined for allow-all (the loopback default, when the realm configures neither). */
  authorizerFor(realm: RealmConfig): Authorizer | undefined {
    const roles = realm.roles as RoleConfig[] | undefined;
    const staticRules = roles ? new RoleAuthorizer(roles) : undefined;
    const dynamic = realm.authorizer as DynamicAuthorizerConfig | undefined;
    if (!dynamic) return staticRules;
    return new DynamicAuthorizer({
      procedure: dynamic.procedure,
      call: this.callIn(realm.name),
      ...(staticRules ? { static: staticRules } : {}),
      ...(dynamic.timeoutMs !== undefined ? { timeoutMs: dynamic.timeoutMs } : {}),
      ...(dynamic.cacheTtlMs !== undefined ? { cacheTtlMs: dynamic.cacheTtlMs } : {}),
      ...(dynamic.cacheMax !== undefined ? { cacheMax: dynamic.cacheMax } : {}),
      logger: this.logger,
    });
  }

  /** Leaves the trusted caller sessions (a live reload replaced this GatewayAuth). */
  close(): void {
    for (const client of this.callers.values()) client.then((c) => c.close().catch(() => undefined)).catch(() => undefined);
    this.callers.clear();
  }

  private callIn(realm: string): CallFunction {
    return async (procedure, args, kwargs, options) => {
      let client = this.callers.get(realm);
      if (!client) {
        const router = this.router;
        if (!router) throw new Error('router not started');
        const peer = attachLocal(router, `auth:${realm}`, { authid: 'wampgate.auth', authrole: 'wampgate.auth', trusted: true, hidden: true });
        client = WampClient.connect(peer, { realm });
        this.callers.set(realm, client);
        // A closed session (router shutdown) is replaced on next use.
        client.then(
          (c) => c.onClose(() => this.callers.delete(realm)),
          () => this.callers.delete(realm),
        );
      }
      const c = await client;
      return c.call(procedure, args, kwargs, { timeout: options.timeout });
    };
  }
}
