// WAMP-cryptosign: keys and signatures made independently (tweetnacl, as AutobahnJS uses, and
// node:crypto), accept and deny paths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cryptosignAuthenticator } from '../../../src/auth/cryptosign';
import { loadPrincipals, PrincipalStore } from '../../../src/auth/principals';
import type { Dict } from '../../../src/protocol/messages';
import { assertAccepted, assertRejected, authenticate, ctx } from './support';

const nacl = require('tweetnacl') as {
  sign: { keyPair: { fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } }; detached(msg: Uint8Array, sk: Uint8Array): Uint8Array };
};

const naclKey = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
const naclPub = Buffer.from(naclKey.publicKey).toString('hex');
const nodeKey = generateKeyPairSync('ed25519');
const nodePub = Buffer.from(nodeKey.publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('hex');
const strangerKey = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
const strangerPub = Buffer.from(strangerKey.publicKey).toString('hex');

const noFiles = {
  env: {},
  readFile: (): string => {
    throw new Error('no files');
  },
};
const store = new PrincipalStore(
  loadPrincipals(
    {
      principals: [
        { authid: 'dev2', role: 'device', pubkeys: [naclPub.toUpperCase()] },
        { authid: 'dev3', role: 'device', pubkeys: [nodePub] },
      ],
    },
    'auth.cryptosign',
    noFiles,
  ),
);
const auth = cryptosignAuthenticator({ store });

function naclSign(secretKey: Uint8Array) {
  return (extra: Dict): string => {
    const challenge = Buffer.from(extra.challenge as string, 'hex');
    return Buffer.from(nacl.sign.detached(challenge, secretKey)).toString('hex') + challenge.toString('hex');
  };
}

test('cryptosign: a tweetnacl (AutobahnJS) signature over the challenge is accepted', async () => {
  const r = await authenticate(auth, ctx({ authmethods: ['cryptosign'], authid: 'dev2', authextra: { pubkey: naclPub } }), naclSign(naclKey.secretKey));
  assertAccepted(r, 'dev2', 'device', 'cryptosign');
});

test('cryptosign: authid may be omitted; the key names the principal', async () => {
  assertAccepted(await authenticate(auth, ctx({ authextra: { pubkey: naclPub } }), naclSign(naclKey.secretKey)), 'dev2', 'device', 'cryptosign');
});

test('cryptosign: a node:crypto key and a bare 64-byte signature work too', async () => {
  const r = await authenticate(auth, ctx({ authextra: { pubkey: nodePub } }), (e) =>
    sign(null, Buffer.from(e.challenge as string, 'hex'), nodeKey.privateKey).toString('hex'),
  );
  assertAccepted(r, 'dev3', 'device', 'cryptosign');
});

test('cryptosign: the challenge is 32 random bytes in hex, without channel binding', async () => {
  const out = await auth.hello(ctx({ authextra: { pubkey: naclPub } }));
  assert.equal(out.kind, 'challenge');
  if (out.kind !== 'challenge') return;
  assert.match(out.extra.challenge as string, /^[0-9a-f]{64}$/);
  assert.equal(out.extra.channel_binding, null);
});

test('cryptosign: wrong key, unknown key, wrong authid, tampered message all fail the same way', async () => {
  // signed by another key than the one announced
  assertRejected(await authenticate(auth, ctx({ authextra: { pubkey: naclPub } }), naclSign(strangerKey.secretKey)));
  // a key nobody configured, correctly signed
  assertRejected(await authenticate(auth, ctx({ authextra: { pubkey: strangerPub } }), naclSign(strangerKey.secretKey)));
  // the key of dev2 but claiming to be dev3
  assertRejected(await authenticate(auth, ctx({ authid: 'dev3', authextra: { pubkey: naclPub } }), naclSign(naclKey.secretKey)));
  // valid signature over a different message
  assertRejected(
    await authenticate(auth, ctx({ authextra: { pubkey: naclPub } }), () => {
      const other = Buffer.alloc(32, 1);
      return Buffer.from(nacl.sign.detached(other, naclKey.secretKey)).toString('hex') + other.toString('hex');
    }),
  );
  assertRejected(await authenticate(auth, ctx({ authextra: { pubkey: naclPub } }), () => 'zz'));
});

test('cryptosign: no or malformed pubkey, or channel binding, is refused at HELLO', async () => {
  assert.equal((await auth.hello(ctx({ authid: 'dev2' }))).kind, 'deny');
  assert.equal((await auth.hello(ctx({ authextra: { pubkey: 'abc' } }))).kind, 'deny');
  assert.equal((await auth.hello(ctx({ authextra: { pubkey: naclPub, channel_binding: 'tls-unique' } }))).kind, 'deny');
});
