// The client side of WAMP authentication for the uplink: HELLO details (authid, authmethods,
// authextra with the cryptosign public key) and the answer to a CHALLENGE for ticket, WAMP-CRA
// (salted or not) and cryptosign. Secrets are resolved once at start; the router side is auth/.

import { createHmac, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { deriveCraKey } from '../auth/principals';
import { resolveSecret } from '../config/secrets';
import { ConfigError, type ConfigProblem } from '../config/problem';
import type { ConnectOptions } from '../client/wamp-client';
import type { Dict } from '../protocol/messages';
import type { UplinkAuthConfig, UplinkAuthMethod } from './uplink-config';

/** DER PKCS#8 header of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface Ed25519Key {
  privateKey: KeyObject;
  /** Raw 32-byte public key, hex: what HELLO.Details.authextra.pubkey carries. */
  publicKeyHex: string;
}

/** A key from its hex seed (64 hex chars) or seed + public key (128, the format autobahn writes). */
export function ed25519FromSeedHex(hex: string): Ed25519Key {
  const bytes = Buffer.from(hex.trim(), 'hex');
  if (bytes.length !== 32 && bytes.length !== 64) throw new Error('an Ed25519 private key is 32 bytes (64 hex characters), or 64 with the public key');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, bytes.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKeyHex: spki.subarray(spki.length - 32).toString('hex') };
}

/** Spec: the signature (64 bytes) followed by the signed challenge (32 bytes), hex. */
export function cryptosignSignature(key: Ed25519Key, challengeHex: string): string {
  const challenge = Buffer.from(challengeHex, 'hex');
  return Buffer.concat([sign(null, challenge, key.privateKey), challenge]).toString('hex');
}

/** WAMP-CRA: HMAC-SHA256 of the challenge string, keyed with the secret or its PBKDF2-derived key. */
export function wampcraSignature(secret: string, extra: Dict): string {
  const challenge = typeof extra.challenge === 'string' ? extra.challenge : '';
  let key = secret;
  if (typeof extra.salt === 'string') {
    const iterations = typeof extra.iterations === 'number' ? extra.iterations : 1000;
    const keylen = typeof extra.keylen === 'number' ? extra.keylen : 32;
    key = deriveCraKey(secret, extra.salt, iterations, keylen);
  }
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(challenge, 'utf8').digest('base64');
}

export type ClientAuth = Pick<ConnectOptions, 'authid' | 'authmethods' | 'authextra' | 'onChallenge'>;

/** HELLO fields and the CHALLENGE answer for the configured methods. Throws ConfigError if a secret cannot be read. */
export function buildClientAuth(auth: UplinkAuthConfig, path = 'uplink.auth'): ClientAuth {
  const problems: ConfigProblem[] = [];
  const ticket = auth.ticket !== undefined ? resolveSecret(auth.ticket, `${path}.ticket`, problems) : undefined;
  const secret = auth.secret !== undefined ? resolveSecret(auth.secret, `${path}.secret`, problems) : undefined;
  const seed = auth.cryptosignKey !== undefined ? resolveSecret(auth.cryptosignKey, `${path}.cryptosignKey`, problems) : undefined;
  let key: Ed25519Key | undefined;
  if (seed !== undefined) {
    try {
      key = ed25519FromSeedHex(seed);
    } catch (err) {
      problems.push({ path: `${path}.cryptosignKey`, message: (err as Error).message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const methods: UplinkAuthMethod[] = auth.authmethods ?? [
    ...(key ? ['cryptosign' as const] : []),
    ...(secret !== undefined ? ['wampcra' as const] : []),
    ...(ticket !== undefined ? ['ticket' as const] : []),
  ];
  if (methods.length === 0) methods.push('anonymous');
  const out: ClientAuth = { authmethods: methods };
  if (auth.authid !== undefined) out.authid = auth.authid;
  const authextra: Dict = { ...auth.authextra };
  if (key && methods.includes('cryptosign')) authextra.pubkey = key.publicKeyHex;
  if (Object.keys(authextra).length > 0) out.authextra = authextra;
  out.onChallenge = (authmethod, extra) => {
    switch (authmethod) {
      case 'ticket':
        if (ticket !== undefined) return ticket;
        break;
      case 'wampcra':
        if (secret !== undefined) return wampcraSignature(secret, extra);
        break;
      case 'cryptosign':
        if (key && typeof extra.challenge === 'string') return cryptosignSignature(key, extra.challenge);
        break;
      default:
        break;
    }
    throw new Error(`the cloud router challenged with authmethod "${authmethod}", which this uplink has no credentials for`);
  };
  return out;
}
