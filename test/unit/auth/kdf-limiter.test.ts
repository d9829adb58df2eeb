// The process-wide bound on ticket key derivations: at most `concurrency` run, `maxQueued` wait,
// further ones are refused at once; and the ticket authenticator answers a full queue with ABORT
// wampgate.error.auth_busy before any CHALLENGE, whatever the authid.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KdfBusyError, KdfLimiter } from '../../../src/auth/kdf-limiter';
import { hashSecret, loadPrincipals, pbkdf2Derive, PrincipalStore, type Kdf } from '../../../src/auth/principals';
import { ticketAuthenticator } from '../../../src/auth/ticket';
import { authenticate, ctx } from './support';

/** A derivation that finishes when the test says so (the real PBKDF2 then runs). */
function gatedKdf(): { kdf: Kdf; started: number; release(): void } {
  const gates: Array<() => void> = [];
  const state = {
    started: 0,
    kdf: (async (presented, params) => {
      state.started++;
      await new Promise<void>((resolve) => gates.push(resolve));
      return pbkdf2Derive(presented, params);
    }) as Kdf,
    release: () => gates.shift()?.(),
  };
  return state;
}

const params = { salt: 'c2FsdA==', iterations: 10, keylen: 32 };

test('at most `concurrency` derivations run and `maxQueued` wait; one more is refused at once', async () => {
  const inner = gatedKdf();
  const limiter = new KdfLimiter(inner.kdf, { concurrency: 2, maxQueued: 1 });
  const running = [limiter.kdf('a', params), limiter.kdf('b', params)];
  const queued = limiter.kdf('c', params);
  assert.equal(inner.started, 2);
  assert.equal(limiter.stats.queued, 1);
  assert.equal(limiter.full, true);
  await assert.rejects(limiter.kdf('d', params), KdfBusyError);
  assert.equal(limiter.stats.refused, 1);
  inner.release();
  await running[0];
  assert.equal(inner.started, 3, 'the queued one starts when a slot frees');
  assert.equal(limiter.full, false);
  inner.release();
  inner.release();
  const keys = await Promise.all([running[1], queued]);
  assert.deepEqual(keys[1], await pbkdf2Derive('c', params), 'the queued derivation gives the real key');
  assert.deepEqual(limiter.stats, { running: 0, queued: 0, refused: 1, peakQueued: 1 });
});

test('a full queue refuses HELLO with ticket before any CHALLENGE, known authid or not; free again, they authenticate', async () => {
  const inner = gatedKdf();
  const limiter = new KdfLimiter(inner.kdf, { concurrency: 1, maxQueued: 0 });
  const store = new PrincipalStore(
    loadPrincipals({ principals: [{ authid: 'dev', role: 'device', ticket: hashSecret('secret', { iterations: 10 }) }] }, 'auth.ticket', {
      env: {},
      readFile: () => '',
    }),
  );
  const auth = ticketAuthenticator({ store, limiter });
  // One check in flight fills the limiter.
  const pending = authenticate(auth, ctx({ authmethods: ['ticket'], authid: 'dev' }), () => 'secret');
  await new Promise((r) => setImmediate(r));
  assert.equal(inner.started, 1);
  for (const authid of ['dev', 'nobody']) {
    const out = await auth.hello(ctx({ authmethods: ['ticket'], authid }));
    assert.equal(out.kind, 'deny', authid);
    if (out.kind === 'deny') assert.equal(out.reason, 'wampgate.error.auth_busy');
  }
  inner.release();
  assert.equal((await pending).kind, 'accept');
  const again = authenticate(auth, ctx({ authmethods: ['ticket'], authid: 'dev' }), () => 'secret');
  await new Promise((r) => setImmediate(r));
  inner.release();
  assert.equal((await again).kind, 'accept');
});
