// WAMP-CRA: signatures computed independently here (node:crypto HMAC-SHA256, PBKDF2 per the
// spec) and by AutobahnJS's own helper, accept and deny paths, salted secrets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { loadPrincipals, PrincipalStore } from '../../../src/auth/principals';
import { wampcraAuthenticator } from '../../../src/auth/wampcra';
import type { Dict } from '../../../src/protocol/messages';
import { assertAccepted, assertRejected, authenticate, ctx } from './support';

const autobahnCra = require('autobahn/lib/auth/cra.js') as {
  sign(key: string, challenge: string): string;
  derive_key(secret: string, salt: string, iterations: number, keylen: number): string;
};

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
        { authid: 'app', role: 'app', secret: 'app-secret' },
        { authid: 'salty', role: 'app', secret: 'pass word', salt: 'salt123', iterations: 1000, keylen: 32 },
        {
          authid: 'derived',
          role: 'app',
          derived: pbkdf2Sync('other', 'NaCl', 500, 16, 'sha256').toString('base64'),
          salt: 'NaCl',
          iterations: 500,
          keylen: 16,
        },
      ],
    },
    'auth.wampcra',
    noFiles,
  ),
);
const auth = wampcraAuthenticator({ store });

function hmac(key: string, challenge: string): string {
  return createHmac('sha256', key).update(challenge).digest('base64');
}

function signWith(password: string) {
  return (extra: Dict): string => {
    const challenge = extra.challenge as string;
    if (extra.salt === undefined) return hmac(password, challenge);
    const key = pbkdf2Sync(password, extra.salt as string, extra.iterations as number, extra.keylen as number, 'sha256').toString('base64');
    return hmac(key, challenge);
  };
}

test('wampcra: the challenge is a JSON object with the fields the spec requires', async () => {
  const out = await auth.hello(ctx({ authmethods: ['wampcra'], authid: 'app' }));
  assert.equal(out.kind, 'challenge');
  if (out.kind !== 'challenge') return;
  const c = JSON.parse(out.extra.challenge as string) as Dict;
  assert.equal(c.authid, 'app');
  assert.equal(c.authrole, null, 'no role is disclosed before authentication');
  assert.equal(c.authmethod, 'wampcra');
  assert.equal(typeof c.authprovider, 'string');
  assert.equal(typeof c.nonce, 'string');
  assert.ok(!Number.isNaN(Date.parse(c.timestamp as string)));
  assert.equal(typeof c.session, 'number');
  assert.equal(out.extra.salt, undefined, 'no salt for a plain secret');
});

test('wampcra: a correct HMAC-SHA256 signature is accepted', async () => {
  assertAccepted(await authenticate(auth, ctx({ authid: 'app' }), signWith('app-secret')), 'app', 'app', 'wampcra');
});

test('wampcra: AutobahnJS signs the same way', async () => {
  assertAccepted(await authenticate(auth, ctx({ authid: 'app' }), (e) => autobahnCra.sign('app-secret', e.challenge as string)), 'app', 'app', 'wampcra');
  assertAccepted(
    await authenticate(auth, ctx({ authid: 'salty' }), (e) =>
      autobahnCra.sign(autobahnCra.derive_key('pass word', e.salt as string, e.iterations as number, e.keylen as number), e.challenge as string),
    ),
    'salty',
    'app',
    'wampcra',
  );
});

test('wampcra salted: the CHALLENGE carries salt, iterations, keylen; PBKDF2-derived key signs', async () => {
  const out = await auth.hello(ctx({ authid: 'salty' }));
  assert.equal(out.kind, 'challenge');
  if (out.kind !== 'challenge') return;
  assert.equal(out.extra.salt, 'salt123');
  assert.equal(out.extra.iterations, 1000);
  assert.equal(out.extra.keylen, 32);
  assertAccepted(await authenticate(auth, ctx({ authid: 'salty' }), signWith('pass word')), 'salty', 'app', 'wampcra');
  assertAccepted(await authenticate(auth, ctx({ authid: 'derived' }), signWith('other')), 'derived', 'app', 'wampcra');
  assertRejected(await authenticate(auth, ctx({ authid: 'salty' }), (e) => hmac('pass word', e.challenge as string)));
});

test('wampcra: wrong secret, unknown authid, garbage all fail the same way', async () => {
  assertRejected(await authenticate(auth, ctx({ authid: 'app' }), signWith('wrong')));
  assertRejected(await authenticate(auth, ctx({ authid: 'ghost' }), signWith('app-secret')));
  assertRejected(await authenticate(auth, ctx({ authid: 'app' }), () => ''));
  assertRejected(await authenticate(auth, ctx({ authid: 'app' }), () => 'not base64 at all!'));
});

test('wampcra: unknown authids get challenges shaped like real ones (some salted, as in the store), each stable per authid', async () => {
  // Whether a decoy is salted is drawn per authid from a per-process key, as often as the
  // store's principals are salted: among 40 unknown authids some are (all 40 unsalted has a
  // probability far below 1e-6 with this store), and each keeps its shape between attempts.
  let salted = 0;
  for (let i = 0; i < 40; i++) {
    const a = await auth.hello(ctx({ authid: `ghost-${i}` }));
    const b = await auth.hello(ctx({ authid: `ghost-${i}` }));
    assert.equal(a.kind, 'challenge');
    assert.equal(b.kind, 'challenge');
    if (a.kind !== 'challenge' || b.kind !== 'challenge') return;
    assert.equal(a.extra.salt, b.extra.salt, 'the fake salt does not change between attempts');
    if (typeof a.extra.salt === 'string') salted++;
  }
  assert.ok(salted > 0, "some decoys are salted, like the store's principals");
});

test('wampcra: an AUTHENTICATE after the challenge timeout is refused', async () => {
  let t = 1_000_000;
  const slow = wampcraAuthenticator({ store, challengeTimeoutMs: 1000, now: () => t });
  const out = await slow.hello(ctx({ authid: 'app' }));
  assert.equal(out.kind, 'challenge');
  if (out.kind !== 'challenge') return;
  t += 1001;
  assertRejected(await out.verify(signWith('app-secret')(out.extra), {}));
});

test('wampcra: the principal realm restriction applies', async () => {
  const s = new PrincipalStore(loadPrincipals({ principals: [{ authid: 'r', role: 'x', secret: 's', realm: 'only' }] }, 'p', noFiles));
  const a = wampcraAuthenticator({ store: s });
  assertAccepted(await authenticate(a, ctx({ authid: 'r' }, 'only'), signWith('s')), 'r', 'x', 'wampcra');
  assertRejected(await authenticate(a, ctx({ authid: 'r' }, 'other'), signWith('s')));
});
