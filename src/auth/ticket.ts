// Ticket authentication (spec "Ticket-based Authentication"): CHALLENGE with no extra, the
// client answers with its ticket, compared in constant time against the principal's stored
// ticket or salted hash. Owns only that exchange; method choice is listener-auth's.

import { randomBytes } from 'node:crypto';
import { ErrorUri } from '../protocol/error-uris';
import type { Logger } from '../util/logger';
import { credentialsRejected, roleFor, ticketMatches, type PrincipalStore, type StoredSecret } from './principals';
import type { Authenticator, AuthResult, HelloContext, HelloOutcome } from '../core/ports';

export interface TicketAuthOptions {
  store: PrincipalStore;
  /** WELCOME.Details.authprovider. */
  authprovider?: string;
  /** Asked for authids the store does not know (a dynamic authenticator), instead of failing. */
  fallback?: Authenticator;
  logger?: Logger;
}

export function ticketAuthenticator(options: TicketAuthOptions): Authenticator {
  const authprovider = options.authprovider ?? 'static';
  // For unknown authids the ticket is still checked, against this, so an unknown authid
  // costs as much time as a known one (no enumeration by timing). Salted like the real
  // ones when the store uses salted hashes, since PBKDF2 dominates the cost.
  const dummy = dummySecret(options.store);
  return {
    hello(ctx: HelloContext): HelloOutcome | Promise<HelloOutcome> {
      const authid = ctx.details.authid;
      if (typeof authid !== 'string' || authid.length === 0) {
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'ticket authentication needs HELLO.Details.authid' };
      }
      const principal = options.store.get(authid);
      if (!principal?.ticket && options.fallback) return options.fallback.hello(ctx);
      const role = principal ? roleFor(principal, ctx.realm, ctx.details.authrole) : undefined;
      const stored = principal?.ticket ?? dummy;
      return {
        kind: 'challenge',
        authmethod: 'ticket',
        extra: {},
        async verify(signature: string): Promise<AuthResult> {
          const ok = await ticketMatches(typeof signature === 'string' ? signature : '', stored);
          if (!ok || !principal?.ticket || role === undefined) {
            options.logger?.warn('authentication denied', { authmethod: 'ticket', authid, realm: ctx.realm, peer: ctx.transport.peer });
            return credentialsRejected();
          }
          return { kind: 'accept', authid, authrole: role, authmethod: 'ticket', authprovider };
        },
      };
    },
  };
}

function dummySecret(store: PrincipalStore): StoredSecret {
  for (const p of store.all()) {
    if (p.ticket?.kind === 'pbkdf2') return { ...p.ticket, derived: randomBytes(p.ticket.keylen) };
  }
  return { kind: 'plain', value: randomBytes(32) };
}
