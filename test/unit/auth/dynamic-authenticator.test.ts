// The dynamic authenticator: accept, deny, timeout, cache hits (counting calls to the injected
// call function), and what is never cached.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynamicAuthenticator, type CallFunction } from '../../../src/auth/dynamic-authenticator';
import { WampError } from '../../../src/client/wamp-error';
import type { Dict } from '../../../src/protocol/messages';
import { assertAccepted, assertRejected, authenticate, ctx } from './support';

function fakeCall(answer: (realm: string, authid: string, details: Dict) => unknown): {
  call: CallFunction;
  calls: Array<{ procedure: string; args: unknown[]; timeout: number }>;
} {
  const calls: Array<{ procedure: string; args: unknown[]; timeout: number }> = [];
  return {
    calls,
    call: async (procedure, args, _kwargs, options) => {
      calls.push({ procedure, args, timeout: options.timeout });
      const v = answer(args[0] as string, args[1] as string, args[2] as Dict);
      return { args: [await v], kwargs: {} };
    },
  };
}

const tickets: Record<string, string> = { alice: 't-alice', bob: 't-bob' };
const answer = (realm: string, authid: string, details: Dict): unknown => {
  if (tickets[authid] !== details.ticket) throw new WampError('wamp.error.not_authorized', ['bad ticket']);
  return authid === 'bob' ? 'user' : { role: 'admin', authid: 'alice@corp', realm, extra: { tier: 1 } };
};

test('dynamic: the procedure gets (realm, authid, details with ticket) and its role is used', async () => {
  const f = fakeCall(answer);
  const d = new DynamicAuthenticator({ procedure: 'com.example.authenticate', call: f.call, timeoutMs: 500 });
  const r = await authenticate(d, ctx({ authmethods: ['ticket'], authid: 'alice' }), () => 't-alice');
  assertAccepted(r, 'alice@corp', 'admin', 'ticket');
  if (r.kind === 'accept') {
    assert.equal(r.authprovider, 'dynamic');
    assert.deepEqual(r.authextra, { tier: 1 });
    assert.equal(r.realm, 'realm1');
  }
  assert.equal(f.calls.length, 1);
  assert.equal(f.calls[0]?.procedure, 'com.example.authenticate');
  assert.equal(f.calls[0]?.timeout, 500);
  const [realm, authid, details] = f.calls[0]?.args as [string, string, Dict];
  assert.equal(realm, 'realm1');
  assert.equal(authid, 'alice');
  assert.equal(details.ticket, 't-alice');
  assert.equal(details.authmethod, 'ticket');
  assertAccepted(await authenticate(d, ctx({ authid: 'bob' }), () => 't-bob'), 'bob', 'user', 'ticket');
});

test('dynamic: a thrown error denies, with the uniform failure', async () => {
  const d = new DynamicAuthenticator({ procedure: 'p', call: fakeCall(answer).call });
  assertRejected(await authenticate(d, ctx({ authid: 'alice' }), () => 'wrong'));
  assertRejected(await authenticate(d, ctx({ authid: 'nobody' }), () => 'x'));
});

test('dynamic: an answer without a role denies', async () => {
  const d = new DynamicAuthenticator({ procedure: 'p', call: fakeCall(() => ({ authid: 'x' })).call });
  assertRejected(await authenticate(d, ctx({ authid: 'alice' }), () => 't-alice'));
});

test('dynamic: no answer within timeoutMs denies, and is not cached', async () => {
  let n = 0;
  const call: CallFunction = () => {
    n++;
    return new Promise(() => undefined);
  };
  const d = new DynamicAuthenticator({ procedure: 'p', call, timeoutMs: 30 });
  const started = Date.now();
  const r = await authenticate(d, ctx({ authid: 'alice' }), () => 't-alice');
  assert.equal(r.kind, 'deny');
  assert.ok(Date.now() - started < 2000);
  await authenticate(d, ctx({ authid: 'alice' }), () => 't-alice');
  assert.equal(n, 2, 'a timeout is asked again next time');
});

test('dynamic: answers are cached per (realm, authid, ticket) until the TTL ends', async () => {
  let t = 0;
  const f = fakeCall(answer);
  const d = new DynamicAuthenticator({ procedure: 'p', call: f.call, cacheTtlMs: 1000, now: () => t });
  for (let i = 0; i < 5; i++) assertAccepted(await authenticate(d, ctx({ authid: 'bob' }), () => 't-bob'), 'bob', 'user', 'ticket');
  assert.equal(f.calls.length, 1, 'one call, four cache hits');
  assert.equal(d.cacheHits, 4);
  // another ticket, another realm: misses
  assertRejected(await authenticate(d, ctx({ authid: 'bob' }), () => 't-wrong'));
  assertAccepted(await authenticate(d, ctx({ authid: 'bob' }, 'realm2'), () => 't-bob'), 'bob', 'user', 'ticket');
  assert.equal(f.calls.length, 3);
  // an explicit deny is cached too (a guessing client does not reach the procedure each time)
  assertRejected(await authenticate(d, ctx({ authid: 'bob' }), () => 't-wrong'));
  assert.equal(f.calls.length, 3);
  t = 1001;
  await authenticate(d, ctx({ authid: 'bob' }), () => 't-bob');
  assert.equal(f.calls.length, 4, 'expired entries are asked again');
});

test('dynamic: no_such_procedure (authenticator not registered yet) is not cached', async () => {
  let n = 0;
  const call: CallFunction = async () => {
    n++;
    throw new WampError('wamp.error.no_such_procedure');
  };
  const d = new DynamicAuthenticator({ procedure: 'p', call });
  assert.equal((await authenticate(d, ctx({ authid: 'a' }), () => 'x')).kind, 'deny');
  assert.equal((await authenticate(d, ctx({ authid: 'a' }), () => 'x')).kind, 'deny');
  assert.equal(n, 2);
});

test('dynamic: the cache is bounded by cacheMax', async () => {
  const f = fakeCall((_r, authid) => `role-${authid}`);
  const d = new DynamicAuthenticator({ procedure: 'p', call: f.call, cacheMax: 2 });
  for (const id of ['a', 'b', 'c']) await authenticate(d, ctx({ authid: id }), () => 'x');
  await authenticate(d, ctx({ authid: 'a' }), () => 'x');
  assert.equal(f.calls.length, 4, '"a" was evicted by "c"');
  await authenticate(d, ctx({ authid: 'c' }), () => 'x');
  assert.equal(f.calls.length, 4);
});
