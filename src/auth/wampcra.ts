// WAMP-CRA (spec "Challenge Response Authentication"): a JSON challenge signed by the client
// with HMAC-SHA256 under the shared secret (for salted secrets, the PBKDF2-derived key, whose
// parameters the CHALLENGE carries). Owns only that exchange; method choice is listener-auth's.

import { createHmac, randomBytes } from 'node:crypto';
import { ErrorUri } from '../protocol/error-uris';
import { randomId } from '../protocol/ids';
import type { Dict } from '../protocol/messages';
import type { Logger } from '../util/logger';
import { constantTimeEqual, craSignature, credentialsRejected, roleFor, type CraKey, type PrincipalStore } from './principals';
import type { Authenticator, AuthResult, HelloContext, HelloOutcome } from '../core/ports';

export interface WampCraAuthOptions {
  store: PrincipalStore;
  authprovider?: string;
  /** An AUTHENTICATE later than this after the CHALLENGE is refused (spec: "in due time"). */
  challengeTimeoutMs?: number;
  logger?: Logger;
  now?: () => number;
}

export function wampcraAuthenticator(options: WampCraAuthOptions): Authenticator {
  const authprovider = options.authprovider ?? 'static';
  const timeoutMs = options.challengeTimeoutMs ?? 30_000;
  const now = options.now ?? Date.now;
  // Unknown authids get a CHALLENGE like known ones (with a salt that stays the same per
  // authid, derived from this per-process key), so the answer to HELLO does not reveal
  // whether an authid exists.
  const fakeKey = randomBytes(32);
  const saltParams = commonSaltParams(options.store);
  const defaultRole = firstRole(options.store);
  return {
    hello(ctx: HelloContext): HelloOutcome {
      const authid = ctx.details.authid;
      if (typeof authid !== 'string' || authid.length === 0) {
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'wampcra authentication needs HELLO.Details.authid' };
      }
      const principal = options.store.get(authid);
      const role = principal?.cra ? roleFor(principal, ctx.realm, ctx.details.authrole) : undefined;
      let key: CraKey;
      if (principal?.cra) key = principal.cra;
      else {
        key = { key: fakeKey };
        if (saltParams) key.salt = { ...saltParams, salt: createHmac('sha256', fakeKey).update(authid).digest('base64').slice(0, 22) };
      }
      const challenge = JSON.stringify({
        authid,
        authrole: role ?? principal?.roles[0] ?? defaultRole,
        authmethod: 'wampcra',
        authprovider,
        nonce: randomBytes(16).toString('base64'),
        timestamp: new Date(now()).toISOString(),
        session: ctx.session ?? randomId(),
      });
      const extra: Dict = { challenge };
      if (key.salt) Object.assign(extra, key.salt);
      const issued = now();
      return {
        kind: 'challenge',
        authmethod: 'wampcra',
        extra,
        verify(signature: string): AuthResult {
          const expected = craSignature(key.key, challenge).toString('base64');
          const ok = constantTimeEqual(expected, typeof signature === 'string' ? signature : '');
          const late = now() - issued > timeoutMs;
          if (!ok || late || role === undefined) {
            options.logger?.warn('authentication denied', {
              authmethod: 'wampcra',
              authid,
              realm: ctx.realm,
              peer: ctx.transport.peer,
              late: late || undefined,
            });
            return credentialsRejected();
          }
          return { kind: 'accept', authid, authrole: role, authmethod: 'wampcra', authprovider };
        },
      };
    },
  };
}

function commonSaltParams(store: PrincipalStore): { iterations: number; keylen: number } | undefined {
  for (const p of store.all()) if (p.cra?.salt) return { iterations: p.cra.salt.iterations, keylen: p.cra.salt.keylen };
  return undefined;
}

function firstRole(store: PrincipalStore): string {
  for (const p of store.all()) if (p.roles[0] !== undefined) return p.roles[0];
  return 'user';
}
