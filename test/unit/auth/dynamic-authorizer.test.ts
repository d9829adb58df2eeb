// The dynamic authorizer: procedure answers, timeout, cache, and the combination with static rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoleAuthorizer } from '../../../src/auth/authorizer';
import type { CallFunction } from '../../../src/auth/dynamic-authenticator';
import { DynamicAuthorizer } from '../../../src/auth/dynamic-authorizer';
import type { SessionIdentity } from '../../../src/core/ports';
import type { Dict } from '../../../src/protocol/messages';
import { transport } from './support';

const who = (authid: string, authrole = 'user'): SessionIdentity => ({
  session: 42,
  realm: 'realm1',
  authid,
  authrole,
  authmethod: 'ticket',
  transport: transport(),
});

function fake(decide: (session: Dict, uri: string, action: string, options: Dict) => unknown): { call: CallFunction; calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    call: async (_p, args) => {
      calls.push(args);
      return { args: [decide(args[0] as Dict, args[1] as string, args[2] as string, args[3] as Dict)], kwargs: {} };
    },
  };
}

const decide = (s: Dict, uri: string, action: string): unknown => {
  if (s.authid === 'alice' && uri.startsWith('alice.')) return { allow: true, disclose: action === 'call' };
  if (uri === 'public.news') return true;
  if (uri === 'volatile') return { allow: true, cache: false };
  return false;
};

test('dynamic authorizer: the procedure gets (session, uri, action, options) and decides', async () => {
  const f = fake(decide);
  const a = new DynamicAuthorizer({ procedure: 'com.example.authorize', call: f.call });
  assert.deepEqual(await a.authorize(who('alice'), 'call', 'alice.thing', {}), { allow: true, disclose: true });
  assert.deepEqual(await a.authorize(who('bob'), 'call', 'alice.thing', {}), { allow: false });
  assert.deepEqual(await a.authorize(who('bob'), 'subscribe', 'public.news', {}), { allow: true, disclose: false });
  const [session, uri, action, options] = f.calls[0] as [Dict, string, string, Dict];
  assert.equal(session.authid, 'alice');
  assert.equal(session.session, 42);
  assert.equal(uri, 'alice.thing');
  assert.equal(action, 'call');
  assert.equal(options.match, 'exact');
});

test('dynamic authorizer: cached per (realm, role, authid, action, uri), cache:false honoured', async () => {
  const f = fake(decide);
  const a = new DynamicAuthorizer({ procedure: 'p', call: f.call });
  for (let i = 0; i < 3; i++) await a.authorize(who('alice'), 'call', 'alice.x', {});
  assert.equal(f.calls.length, 1);
  const hit = a.authorize(who('alice'), 'call', 'alice.x', {});
  assert.ok(!(hit instanceof Promise), 'a cache hit answers synchronously');
  await a.authorize(who('alice'), 'publish', 'alice.x', {});
  await a.authorize(who('bob'), 'call', 'alice.x', {});
  assert.equal(f.calls.length, 3);
  await a.authorize(who('bob'), 'call', 'volatile', {});
  await a.authorize(who('bob'), 'call', 'volatile', {});
  assert.equal(f.calls.length, 5);
});

test('dynamic authorizer: timeout and errors deny and are not cached', async () => {
  let n = 0;
  const call: CallFunction = () => {
    n++;
    return n === 1 ? new Promise(() => undefined) : Promise.reject(new Error('boom'));
  };
  const a = new DynamicAuthorizer({ procedure: 'p', call, timeoutMs: 20 });
  assert.deepEqual(await a.authorize(who('a'), 'call', 'x.y', {}), { allow: false });
  assert.deepEqual(await a.authorize(who('a'), 'call', 'x.y', {}), { allow: false });
  assert.equal(n, 2);
});

test('combined: a matching static rule decides synchronously; only unmatched URIs go to the procedure', async () => {
  const f = fake(() => true);
  const stat = new RoleAuthorizer([
    {
      name: 'user',
      permissions: [
        { uri: 'fixed.', match: 'prefix', allow: { call: true } },
        { uri: 'fixed.never', allow: {} },
        { uri: 'wamp.session.count', allow: { call: true } },
      ],
    },
  ]);
  const a = new DynamicAuthorizer({ procedure: 'p', call: f.call, static: stat });
  assert.deepEqual(a.authorize(who('x'), 'call', 'fixed.a', {}), { allow: true, disclose: false });
  assert.deepEqual(a.authorize(who('x'), 'call', 'fixed.never', {}), { allow: false });
  assert.deepEqual(a.authorize(who('x'), 'call', 'wamp.session.count', {}), { allow: true, disclose: false });
  assert.deepEqual(a.authorize(who('x'), 'call', 'wamp.session.list', {}), { allow: false }, 'wamp. is never delegated');
  assert.equal(f.calls.length, 0);
  assert.deepEqual(await a.authorize(who('x'), 'call', 'elsewhere', {}), { allow: true, disclose: false });
  assert.equal(f.calls.length, 1);
});
