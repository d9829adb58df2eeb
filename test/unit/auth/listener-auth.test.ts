// A listener's authenticator: method choice in the client's order, the secure default,
// remote anonymous, config problems at build time, rate limiting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildListenerAuth, chooseMethod } from '../../../src/auth/listener-auth';
import { ConfigError } from '../../../src/config/problem';
import type { CallFunction } from '../../../src/auth/dynamic-authenticator';
import { assertAccepted, authenticate, ctx } from './support';

const noFiles = {
  env: { T: 'env-ticket' },
  readFile: (): string => {
    throw Object.assign(new Error('x'), { code: 'ENOENT' });
  },
};

const full = buildListenerAuth(
  {
    anonymous: { role: 'guest' },
    ticket: { principals: [{ authid: 'dev1', role: 'device', ticket: { env: 'T' } }] },
    wampcra: { principals: [{ authid: 'app', role: 'app', secret: 's' }] },
    tls: { principals: [{ cn: 'device-7', role: 'device' }] },
  },
  { listener: 'ws', loopback: true, secretEnv: noFiles },
);

test('the first method in the client order that the listener offers is used', async () => {
  const a = await full.authenticator.hello(ctx({ authmethods: ['cryptosign', 'wampcra', 'ticket'], authid: 'app' }, 'realm1', { loopback: true }));
  assert.equal(a.kind, 'challenge');
  if (a.kind === 'challenge') assert.equal(a.authmethod, 'wampcra');
  const b = await full.authenticator.hello(ctx({ authmethods: ['ticket', 'wampcra'], authid: 'dev1' }, 'realm1', { loopback: true }));
  if (b.kind === 'challenge') assert.equal(b.authmethod, 'ticket');
  assertAccepted(await authenticate(full.authenticator, ctx({ authmethods: ['ticket'], authid: 'dev1' }), () => 'env-ticket'), 'dev1', 'device', 'ticket');
});

test('no authmethods means anonymous; a verified certificate means tls', async () => {
  const a = await full.authenticator.hello(ctx({}, 'realm1', { loopback: true }));
  assert.equal(a.kind === 'accept' && a.authrole, 'guest');
  const t = await full.authenticator.hello(ctx({}, 'realm1', { loopback: true, tls: { authorized: true, subject: { CN: 'device-7' } } }));
  assertAccepted(t, 'device-7', 'device', 'tls');
  assert.equal(
    chooseMethod(
      ctx({}, 'r', { tls: { authorized: false } }),
      new Map([
        ['tls', 1],
        ['anonymous', 1],
      ]),
    ),
    'anonymous',
  );
});

test('methods the listener does not offer: ABORT no_auth_method naming what it offers', async () => {
  const out = await full.authenticator.hello(ctx({ authmethods: ['cryptosign'] }));
  assert.equal(out.kind, 'deny');
  if (out.kind === 'deny') {
    assert.equal(out.reason, 'wamp.error.no_auth_method');
    assert.match(out.message, /anonymous, ticket, wampcra, tls/);
  }
});

test('no auth section: anonymous on loopback only', async () => {
  const d = buildListenerAuth(undefined, { listener: 'x', loopback: false });
  assert.equal((await d.authenticator.hello(ctx({}, 'r', { loopback: true }))).kind, 'accept');
  const remote = await d.authenticator.hello(ctx({}, 'r', { loopback: false }));
  assert.equal(remote.kind, 'deny');
});

test('anonymous on a non-loopback listener needs allowRemoteAnonymous, else build fails', async () => {
  assert.throws(
    () => buildListenerAuth({ anonymous: {} }, { listener: 'pub', loopback: false }),
    (e: unknown) => e instanceof ConfigError && e.problems[0]?.path === 'listeners.pub.auth.anonymous',
  );
  const ok = buildListenerAuth({ anonymous: { allowRemoteAnonymous: true } }, { listener: 'pub', loopback: false });
  assert.equal((await ok.authenticator.hello(ctx({}, 'r', { loopback: false }))).kind, 'accept');
});

test('build reports every principal problem with its path, never a secret', () => {
  try {
    buildListenerAuth(
      {
        ticket: { principals: [{ authid: 'a', role: 'r', ticket: { env: 'NOPE' } }], principalsFile: '/etc/none.json' },
        wampcra: { principals: [{ authid: 'b', role: 'r', secret: { credential: 'c' } }] },
      },
      { listener: 'ws', loopback: true, secretEnv: noFiles },
    );
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(
      e.problems.map((p) => p.path).sort(),
      ['listeners.ws.auth.ticket.principalsFile', 'listeners.ws.auth.ticket.principals[0].ticket', 'listeners.ws.auth.wampcra.principals[0].secret'].sort(),
    );
  }
});

test('dynamic: serves ticket for authids not configured statically', async () => {
  const calls: string[] = [];
  const call: CallFunction = async (_p, args) => {
    calls.push(args[1] as string);
    return { args: ['dyn-role'], kwargs: {} };
  };
  const la = buildListenerAuth(
    { ticket: { principals: [{ authid: 'dev1', role: 'device', ticket: 'x' }] }, dynamic: { procedure: 'p', realm: 'sys' } },
    { listener: 'ws', loopback: true, call },
  );
  assertAccepted(await authenticate(la.authenticator, ctx({ authmethods: ['ticket'], authid: 'other' }), () => 'whatever'), 'other', 'dyn-role', 'ticket');
  assertAccepted(await authenticate(la.authenticator, ctx({ authmethods: ['ticket'], authid: 'dev1' }), () => 'x'), 'dev1', 'device', 'ticket');
  assert.deepEqual(calls, ['other']);
  const only = buildListenerAuth({ dynamic: { procedure: 'p', realm: 'sys' } }, { listener: 'ws', loopback: true, call });
  assertAccepted(await authenticate(only.authenticator, ctx({ authmethods: ['ticket'], authid: 'z' }), () => 'q'), 'z', 'dyn-role', 'ticket');
  assert.throws(() => buildListenerAuth({ dynamic: { procedure: 'p', realm: 'sys' } }, { listener: 'ws', loopback: true }), ConfigError);
});

test('rate limiting: failures fed by onAuthFailure block the address', async () => {
  const la = buildListenerAuth(
    { ticket: { principals: [{ authid: 'dev1', role: 'device', ticket: 'x' }] }, rateLimit: { maxFailures: 2 } },
    { listener: 'ws', loopback: false },
  );
  const c = ctx({ authmethods: ['ticket'], authid: 'dev1' });
  assert.ok(la.rateLimiter);
  la.rateLimiter?.onAuthFailure(c.transport);
  la.rateLimiter?.onAuthFailure(c.transport);
  const out = await la.authenticator.hello(c);
  assert.equal(out.kind, 'deny');
  if (out.kind === 'deny') assert.match(out.message, /too many failed authentication attempts/);
  const off = buildListenerAuth(
    { ticket: { principals: [{ authid: 'dev1', role: 'device', ticket: 'x' }] }, rateLimit: false },
    { listener: 'ws', loopback: false },
  );
  assert.equal(off.rateLimiter, undefined);
});
