// Ticket authentication: accept and deny paths, salted tickets, uniform failures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret, loadPrincipals, PrincipalStore } from '../../../src/auth/principals';
import { ticketAuthenticator } from '../../../src/auth/ticket';
import type { Authenticator } from '../../../src/core/ports';
import { assertAccepted, assertRejected, authenticate, ctx } from './support';

const senv = {
  env: { DEV2_TICKET: 'env-ticket' },
  readFile: (): string => {
    throw new Error('no files');
  },
};
const store = new PrincipalStore(
  loadPrincipals(
    {
      principals: [
        { authid: 'dev1', role: 'device', ticket: 'secret-1' },
        { authid: 'dev2', role: 'device', ticket: { env: 'DEV2_TICKET' }, realm: 'realm1' },
        { authid: 'dev3', roles: ['device', 'admin'], ticket: hashSecret('salted-3', { iterations: 1000 }) },
      ],
    },
    'auth.ticket',
    senv,
  ),
);
const auth = ticketAuthenticator({ store });

test('ticket: the right ticket is accepted with the principal role', async () => {
  assertAccepted(await authenticate(auth, ctx({ authmethods: ['ticket'], authid: 'dev1' }), () => 'secret-1'), 'dev1', 'device', 'ticket');
  assertAccepted(await authenticate(auth, ctx({ authmethods: ['ticket'], authid: 'dev2' }), () => 'env-ticket'), 'dev2', 'device', 'ticket');
});

test('ticket: the CHALLENGE carries no extra', async () => {
  const out = await auth.hello(ctx({ authmethods: ['ticket'], authid: 'dev1' }));
  assert.equal(out.kind, 'challenge');
  if (out.kind === 'challenge') {
    assert.equal(out.authmethod, 'ticket');
    assert.deepEqual(out.extra, {});
  }
});

test('ticket: a salted hash accepts the ticket and rejects others', async () => {
  assertAccepted(await authenticate(auth, ctx({ authid: 'dev3' }), () => 'salted-3'), 'dev3', 'device', 'ticket');
  assertAccepted(await authenticate(auth, ctx({ authid: 'dev3', authrole: 'admin' }), () => 'salted-3'), 'dev3', 'admin', 'ticket');
  assertRejected(await authenticate(auth, ctx({ authid: 'dev3' }), () => 'salted-4'));
});

test('ticket: wrong ticket, unknown authid, wrong realm, unheld role all fail the same way', async () => {
  assertRejected(await authenticate(auth, ctx({ authid: 'dev1' }), () => 'secret-2'));
  assertRejected(await authenticate(auth, ctx({ authid: 'nobody' }), () => 'secret-1'));
  assertRejected(await authenticate(auth, ctx({ authid: 'dev2' }, 'realm2'), () => 'env-ticket'));
  assertRejected(await authenticate(auth, ctx({ authid: 'dev1', authrole: 'admin' }), () => 'secret-1'));
  assertRejected(await authenticate(auth, ctx({ authid: 'dev1' }), () => 'secret-1x'));
});

test('ticket: HELLO without authid is refused before any challenge', async () => {
  const out = await auth.hello(ctx({ authmethods: ['ticket'] }));
  assert.equal(out.kind, 'deny');
});

test('ticket: unknown authids go to the fallback (dynamic) authenticator when one is set', async () => {
  let asked = 0;
  const fallback: Authenticator = {
    hello: () => {
      asked++;
      return { kind: 'accept', authid: 'x', authrole: 'dyn', authmethod: 'ticket', authprovider: 'dynamic' };
    },
  };
  const a = ticketAuthenticator({ store, fallback });
  assertAccepted(await a.hello(ctx({ authid: 'someone-else' })), 'x', 'dyn', 'ticket');
  assertAccepted(await authenticate(a, ctx({ authid: 'dev1' }), () => 'secret-1'), 'dev1', 'device', 'ticket');
  assert.equal(asked, 1);
});
