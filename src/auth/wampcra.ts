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
  // Unknown authids get a CHALLENGE like known ones, so the answer to HELLO does not reveal
  // whether an authid exists: salted or not as often as the store's principals are (decided
  // per authid, so asking twice gives the same answer), with the store's PBKDF2 parameters and a
  // salt of the same length, stable per authid (derived from this per-process key). The
  // challenge names no authrole: roles are for after authentication.
  const fakeKey = randomBytes(32);
  const shape = decoyShape(options.store);
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
        const pick = createHmac('sha256', fakeKey).update(`salted:${authid}`).digest().readUInt32BE(0) / 2 ** 32;
        key = { key: fakeKey };
        if (shape.salted && pick < shape.saltedShare) {
          const salt = createHmac('sha256', fakeKey).update(authid).digest('base64').slice(0, shape.salted.saltLength);
          key.salt = { salt, iterations: shape.salted.iterations, keylen: shape.salted.keylen };
        }
      }
      const challenge = JSON.stringify({
        authid,
        // The spec's field is kept, but names no role: a real role here would tell an
        // unauthenticated client which roles a principal holds.
        authrole: null,
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
          // Denials are logged once, by the session (rate-limited).
          if (!ok || late || role === undefined) return credentialsRejected();
          return { kind: 'accept', authid, authrole: role, authmethod: 'wampcra', authprovider };
        },
      };
    },
  };
}

/** How the store's WAMP-CRA principals look from outside: the share that is salted, and the
 * parameters of the first salted one (salts of the length it uses). */
function decoyShape(store: PrincipalStore): { saltedShare: number; salted?: { iterations: number; keylen: number; saltLength: number } } {
  let total = 0;
  let salted = 0;
  let first: { iterations: number; keylen: number; saltLength: number } | undefined;
  for (const p of store.all()) {
    if (!p.cra) continue;
    total++;
    if (p.cra.salt) {
      salted++;
      first ??= { iterations: p.cra.salt.iterations, keylen: p.cra.salt.keylen, saltLength: Math.min(44, Math.max(1, p.cra.salt.salt.length)) };
    }
  }
  return first ? { saltedShare: salted / total, salted: first } : { saltedShare: 0 };
}
