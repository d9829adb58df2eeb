// WAMP-cryptosign client authentication (spec "Cryptosign-based Authentication"): the client
// names its Ed25519 public key in HELLO.Details.authextra.pubkey, signs a 32-byte random
// challenge, and we verify with node:crypto (no native addon). No channel binding, no
// router authentication, no trustroots/certificates: those are optional in the spec.

import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { ErrorUri } from '../protocol/error-uris';
import type { Dict } from '../protocol/messages';
import type { Logger } from '../util/logger';
import { credentialsRejected, roleFor, type PrincipalStore } from './principals';
import type { Authenticator, AuthResult, HelloContext, HelloOutcome } from '../core/ports';

export interface CryptosignAuthOptions {
  store: PrincipalStore;
  authprovider?: string;
  logger?: Logger;
}

/** DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410): the raw 32 bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A node:crypto public key from the raw 32-byte Ed25519 key. */
export function ed25519PublicKey(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error('an Ed25519 public key has 32 bytes');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * Checks the AUTHENTICATE signature: hex of the 64-byte signature followed by the 32 signed
 * bytes (spec: "the concatenation of the signature and the message signed (96 bytes)"); a
 * bare 64-byte signature is accepted too. The signed bytes must be our challenge.
 */
export function verifyCryptosign(signatureHex: string, challenge: Buffer, publicKey: KeyObject): boolean {
  if (typeof signatureHex !== 'string' || !/^([0-9a-fA-F]{128}|[0-9a-fA-F]{192})$/.test(signatureHex)) return false;
  const bytes = Buffer.from(signatureHex, 'hex');
  const signature = bytes.subarray(0, 64);
  if (bytes.length === 96 && !bytes.subarray(64).equals(challenge)) return false;
  try {
    return verify(null, challenge, publicKey, signature);
  } catch {
    return false;
  }
}

export function cryptosignAuthenticator(options: CryptosignAuthOptions): Authenticator {
  const authprovider = options.authprovider ?? 'static';
  return {
    hello(ctx: HelloContext): HelloOutcome {
      const authextra = (ctx.details.authextra ?? {}) as Dict;
      const pubkey = authextra.pubkey;
      if (typeof pubkey !== 'string' || !/^[0-9a-fA-F]{64}$/.test(pubkey)) {
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'cryptosign needs HELLO.Details.authextra.pubkey (32 bytes, hex)' };
      }
      if (authextra.channel_binding !== undefined && authextra.channel_binding !== null) {
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'cryptosign channel binding is not supported by this router' };
      }
      let key: KeyObject;
      try {
        key = ed25519PublicKey(Buffer.from(pubkey, 'hex'));
      } catch {
        return { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'cryptosign public key is not a valid Ed25519 key' };
      }
      const principal = options.store.byKey(pubkey);
      const requested = ctx.details.authid;
      // Spec: the authid is optional; the key identifies the principal.
      const authidOk = requested === undefined || requested === null || requested === principal?.authid;
      const role = principal && authidOk ? roleFor(principal, ctx.realm, ctx.details.authrole) : undefined;
      const challenge = randomBytes(32);
      // Unknown keys get a challenge too, and fail only at AUTHENTICATE, like a wrong key.
      return {
        kind: 'challenge',
        authmethod: 'cryptosign',
        extra: { challenge: challenge.toString('hex'), channel_binding: null },
        verify(signature: string): AuthResult {
          const ok = verifyCryptosign(signature, challenge, key);
          if (!ok || !principal || role === undefined) {
            options.logger?.warn('authentication denied', {
              authmethod: 'cryptosign',
              authid: typeof requested === 'string' ? requested : principal?.authid,
              realm: ctx.realm,
              peer: ctx.transport.peer,
            });
            return credentialsRejected();
          }
          return {
            kind: 'accept',
            authid: principal.authid,
            authrole: role,
            authmethod: 'cryptosign',
            authprovider,
            authextra: { pubkey: pubkey.toLowerCase() },
          };
        },
      };
    },
  };
}
