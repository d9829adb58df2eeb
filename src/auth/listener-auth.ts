// Builds the one Authenticator of a listener from its `auth` config: the enabled methods, the
// choice among them in the client's order of HELLO.Details.authmethods, the rate limiter and
// the secure default (anonymous on loopback only). The methods themselves live in their files.

import { ConfigError, type ConfigProblem } from '../config/problem';
import { ErrorUri } from '../protocol/error-uris';
import type { Logger } from '../util/logger';
import { anonymousOnLoopback, requestedMethods } from './anonymous';
import type { AuthMethodName, ListenerAuthConfig } from './config';
import { cryptosignAuthenticator } from './cryptosign';
import { DynamicAuthenticator, type CallFunction } from './dynamic-authenticator';
import { processSecretEnv, type SecretEnv } from '../config/secrets';
import { loadPrincipals, PrincipalStore, type PrincipalSources } from './principals';
import { AuthRateLimiter } from './rate-limit';
import { ticketAuthenticator } from './ticket';
import type { KdfLimiter } from './kdf-limiter';
import { tlsCertAuthenticator } from './tls-cert';
import type { Authenticator, HelloContext, HelloOutcome } from '../core/ports';
import { wampcraAuthenticator } from './wampcra';

export interface ListenerAuthDeps {
  /** Listener name, for messages. */
  listener: string;
  /** Config path of this auth section in problems; default `listeners.<listener>.auth`. */
  path?: string;
  /** The listener binds loopback addresses or a Unix socket only. */
  loopback: boolean;
  /** For `auth.dynamic`: calls a procedure on `auth.dynamic.realm` as a trusted session. */
  call?: CallFunction;
  logger?: Logger;
  secretEnv?: SecretEnv;
  /** Share one limiter across listeners (one address, one budget); else one per listener. */
  rateLimiter?: AuthRateLimiter;
  /** Bounds ticket key derivations in flight (one per process); unbounded without. */
  kdfLimiter?: KdfLimiter;
}

export interface ListenerAuth {
  authenticator: Authenticator;
  /** Methods offered, in the order they are tried when the client names none of them first. */
  methods: readonly AuthMethodName[];
  /** Feed it from RouterOptions.onAuthFailure (`limiter.onAuthFailure`). Undefined when off. */
  rateLimiter: AuthRateLimiter | undefined;
  dynamic: DynamicAuthenticator | undefined;
}

/**
 * The authenticator for a listener. With no `auth` section: anonymous on loopback only (the
 * router's built-in default). Throws ConfigError listing every problem (unreadable principals,
 * a secret's missing environment variable, remote anonymous without the explicit flag …).
 */
export function buildListenerAuth(config: ListenerAuthConfig | undefined, deps: ListenerAuthDeps): ListenerAuth {
  const path = deps.path ?? `listeners.${deps.listener}.auth`;
  const logger = deps.logger?.child('auth');
  const senv = deps.secretEnv ?? processSecretEnv;
  if (config === undefined) {
    return { authenticator: anonymousOnLoopback(), methods: ['anonymous'], rateLimiter: undefined, dynamic: undefined };
  }
  const problems: ConfigProblem[] = [];
  const load = (sources: PrincipalSources, p: string): PrincipalStore => {
    try {
      return new PrincipalStore(loadPrincipals(sources, p, senv));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
      return new PrincipalStore([]);
    }
  };
  const methods = new Map<AuthMethodName, Authenticator>();
  let dynamic: DynamicAuthenticator | undefined;
  if (config.dynamic) {
    if (!deps.call)
      problems.push({ path: `${path}.dynamic`, message: 'a dynamic authenticator needs a session to call it (internal: no call function given)' });
    else {
      const d = config.dynamic;
      dynamic = new DynamicAuthenticator({
        procedure: d.procedure,
        call: deps.call,
        ...opt('timeoutMs', d.timeoutMs),
        ...opt('cacheTtlMs', d.cacheTtlMs),
        ...opt('cacheMax', d.cacheMax),
        ...opt('logger', logger),
      });
    }
  }
  if (config.anonymous) {
    const a = config.anonymous;
    if (!deps.loopback && a.allowRemoteAnonymous !== true) {
      problems.push({
        path: `${path}.anonymous`,
        message: 'this listener is reachable from the network; anonymous access there needs "allowRemoteAnonymous": true',
      });
    }
    methods.set('anonymous', anonymousOnLoopback({ authrole: a.role ?? 'anonymous', allowRemote: a.allowRemoteAnonymous === true }));
  }
  if (config.ticket) {
    const store = load(config.ticket, `${path}.ticket`);
    methods.set(
      'ticket',
      ticketAuthenticator({
        store,
        ...opt('authprovider', config.ticket.authprovider),
        ...opt('fallback', dynamic),
        ...opt('logger', logger),
        ...opt('limiter', deps.kdfLimiter),
      }),
    );
  } else if (dynamic) {
    methods.set('ticket', dynamic);
  }
  if (config.wampcra) {
    const store = load(config.wampcra, `${path}.wampcra`);
    methods.set(
      'wampcra',
      wampcraAuthenticator({
        store,
        ...opt('authprovider', config.wampcra.authprovider),
        ...opt('challengeTimeoutMs', config.wampcra.challengeTimeoutMs),
        ...opt('logger', logger),
      }),
    );
  }
  if (config.cryptosign) {
    const store = load(config.cryptosign, `${path}.cryptosign`);
    methods.set('cryptosign', cryptosignAuthenticator({ store, ...opt('authprovider', config.cryptosign.authprovider), ...opt('logger', logger) }));
  }
  if (config.tls) {
    methods.set(
      'tls',
      tlsCertAuthenticator({ principals: config.tls.principals ?? [], ...opt('defaultRole', config.tls.defaultRole), ...opt('logger', logger) }),
    );
  }
  if (methods.size === 0) problems.push({ path, message: 'enables no authentication method' });
  if (problems.length > 0) throw new ConfigError(problems);

  const rateLimiter = config.rateLimit === false ? undefined : (deps.rateLimiter ?? new AuthRateLimiter({ ...config.rateLimit, ...opt('logger', logger) }));
  const offered = [...methods.keys()];
  const authenticator: Authenticator = {
    hello(ctx: HelloContext): HelloOutcome | Promise<HelloOutcome> {
      const blocked = rateLimiter?.check(ctx.transport);
      if (blocked) return blocked;
      const method = chooseMethod(ctx, methods);
      if (!method) {
        return {
          kind: 'deny',
          reason: ErrorUri.noAuthMethod,
          message: `none of the requested authentication methods is offered here; this listener offers: ${offered.join(', ')}`,
        };
      }
      const outcome = (methods.get(method) as Authenticator).hello(ctx);
      // Denials are logged once, by the session, with peer, listener, realm and authid.
      return outcome;
    },
  };
  return { authenticator, methods: offered, rateLimiter, dynamic };
}

/**
 * The client's first requested method that is offered (spec: the client lists methods in its
 * order of preference). No authmethods means anonymous (spec "Authentication"), except that a
 * client presenting a verified TLS certificate on a listener offering `tls` gets `tls`.
 */
export function chooseMethod(ctx: HelloContext, methods: ReadonlyMap<AuthMethodName, unknown>): AuthMethodName | undefined {
  let requested = requestedMethods(ctx.details);
  if (!requested || requested.length === 0) requested = methods.has('tls') && ctx.transport.tls?.authorized === true ? ['tls', 'anonymous'] : ['anonymous'];
  for (const m of requested) if (methods.has(m as AuthMethodName)) return m as AuthMethodName;
  return undefined;
}

/** Logs a denial with method and authid (never a secret). Method modules log their own
 * credential failures; this covers denials before any challenge. */

/** `{ key: value }` when value is defined, `{}` otherwise (exactOptionalPropertyTypes-friendly). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
