// Ticket authentication (spec "Ticket-based Authentication"): CHALLENGE with no extra, the
// client answers with its ticket, compared in constant time against the principal's stored
// ticket or salted hash. Owns only that exchange; method choice is listener-auth's.

import { randomBytes } from 'node:crypto';
import { ErrorUri } from '../protocol/error-uris';
import type { Logger } from '../util/logger';
import { credentialsRejected, pbkdf2Derive, roleFor, ticketMatches, type Kdf, type Pbkdf2Params, type PrincipalStore, type StoredSecret } from './principals';
import type { Authenticator, AuthDeny, AuthResult, HelloContext, HelloOutcome } from '../core/ports';
import { KdfBusyError, type KdfLimiter } from './kdf-limiter';

export interface TicketAuthOptions {
  store: PrincipalStore;
  /** WELCOME.Details.authprovider. */
  authprovider?: string;
  /** Asked for authids the store does not know (a dynamic authenticator), instead of failing. */
  fallback?: Authenticator;
  logger?: Logger;
  /** The key derivation each attempt runs exactly once; PBKDF2 on the thread pool by default.
   * The seam the no-oracle test observes (same calls, same parameters, whatever the authid). */
  kdf?: Kdf;
  /** Bounds the derivations in flight, process-wide; its kdf is used instead of `kdf`. */
  limiter?: KdfLimiter;
}

/** Too many ticket checks in flight: refused before any work, whatever the authid. */
function busy(): AuthDeny {
  return { kind: 'deny', reason: ErrorUri.authBusy, message: 'too many authentications in progress; try again later' };
}

export function ticketAuthenticator(options: TicketAuthOptions): Authenticator {
  const authprovider = options.authprovider ?? 'static';
  // Every attempt costs one PBKDF2 with the store's parameters, whatever the authid: an unknown
  // authid is checked against a random salted hash, a plain ticket is compared after a
  // discarded PBKDF2. So the time to refuse tells nothing about whether an authid exists or how
  // its ticket is stored (no enumeration by timing).
  const work = workParams(options.store);
  const dummy: StoredSecret = { kind: 'pbkdf2', ...work, derived: randomBytes(work.keylen) };
  const kdf = options.limiter?.kdf ?? options.kdf ?? pbkdf2Derive;
  return {
    hello(ctx: HelloContext): HelloOutcome | Promise<HelloOutcome> {
      const authid = ctx.details.authid;
      if (typeof authid !== 'string' || authid.length === 0) {
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'ticket authentication needs HELLO.Details.authid' };
      }
      const principal = options.store.get(authid);
      if (!principal?.ticket && options.fallback) return options.fallback.hello(ctx);
      // Refused before the CHALLENGE while the queue is full: the client retries later instead
      // of waiting into its HELLO timeout.
      if (options.limiter?.full) return busy();
      const role = principal ? roleFor(principal, ctx.realm, ctx.details.authrole) : undefined;
      const stored = principal?.ticket ?? dummy;
      return {
        kind: 'challenge',
        authmethod: 'ticket',
        extra: {},
        async verify(signature: string): Promise<AuthResult> {
          let ok: boolean;
          try {
            ok = await ticketMatches(typeof signature === 'string' ? signature : '', stored, work, kdf);
          } catch (err) {
            if (err instanceof KdfBusyError) return busy();
            throw err;
          }
          // Denials are logged once, by the session (rate-limited).
          if (!ok || !principal?.ticket || role === undefined) return credentialsRejected();
          return { kind: 'accept', authid, authrole: role, authmethod: 'ticket', authprovider };
        },
      };
    },
  };
}

/** The PBKDF2 parameters of the store's salted tickets (the first one's), or hashSecret's
 * defaults when every ticket is plain. */
function workParams(store: PrincipalStore): Pbkdf2Params {
  for (const p of store.all()) {
    if (p.ticket?.kind === 'pbkdf2') return { salt: randomBytes(16).toString('base64'), iterations: p.ticket.iterations, keylen: p.ticket.keylen };
  }
  // All plain: every path does the same work, so it only needs to be equal, not large.
  return { salt: randomBytes(16).toString('base64'), iterations: 10_000, keylen: 32 };
}
