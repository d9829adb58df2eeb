// TLS client certificate authentication: CN and fingerprint mapping, refusals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tlsCertAuthenticator } from '../../../src/auth/tls-cert';
import { assertAccepted, assertRejected, ctx } from './support';

const FP = 'AA:BB:' + '00:'.repeat(29) + '11';
const auth = tlsCertAuthenticator({
  principals: [
    { cn: 'device-7', role: 'device' },
    { fingerprint: FP.toLowerCase().replace(/:/g, ''), authid: 'pinned', role: 'admin' },
    { cn: 'realm-bound', role: 'device', realm: 'realm1' },
  ],
});

const tlsCtx = (tls: object, details: object = {}, realm = 'realm1') => ctx({ authmethods: ['tls'], ...details }, realm, { tls: tls as never });

test('tls: authid from the verified certificate CN', async () => {
  assertAccepted(await auth.hello(tlsCtx({ authorized: true, subject: { CN: 'device-7' } })), 'device-7', 'device', 'tls');
});

test('tls: a pinned fingerprint wins and maps to its principal', async () => {
  assertAccepted(await auth.hello(tlsCtx({ authorized: true, subject: { CN: 'device-7' }, fingerprint256: FP })), 'pinned', 'admin', 'tls');
});

test('tls: unverified, unlisted, other realm or other claimed authid are refused', async () => {
  const noCert = await auth.hello(tlsCtx({ authorized: false, subject: { CN: 'device-7' } }));
  assert.equal(noCert.kind, 'deny');
  assertRejected(await auth.hello(tlsCtx({ authorized: true, subject: { CN: 'stranger' } })));
  assertRejected(await auth.hello(tlsCtx({ authorized: true, subject: { CN: 'realm-bound' } }, {}, 'realm2')));
  assertRejected(await auth.hello(tlsCtx({ authorized: true, subject: { CN: 'device-7' } }, { authid: 'someone' })));
  assert.equal((await auth.hello(ctx({ authmethods: ['tls'] }))).kind, 'deny');
});

test('tls: defaultRole admits any verified certificate under its CN', async () => {
  const a = tlsCertAuthenticator({ principals: [], defaultRole: 'guest' });
  assertAccepted(await a.hello(tlsCtx({ authorized: true, subject: { CN: ['multi', 'x'] } })), 'multi', 'guest', 'tls');
});
