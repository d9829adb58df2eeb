// Authentication and authorization through a real Router, sessions over the local transport:
// ABORT reasons, denied actions as ERRORs with the session going on, disclosure, realm
// isolation under a mixed workload, rate limiting, dynamic authenticator and authorizer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { RoleAuthorizer, type RoleConfig } from '../../../src/auth/authorizer';
import { DynamicAuthorizer } from '../../../src/auth/dynamic-authorizer';
import { buildListenerAuth, type ListenerAuth } from '../../../src/auth/listener-auth';
import { KdfLimiter } from '../../../src/auth/kdf-limiter';
import { pbkdf2Derive } from '../../../src/auth/principals';
import { WampClient, type ConnectOptions } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import { Router } from '../../../src/core/router';
import { routerView } from '../../../src/core/router-view';
import type { Dict } from '../../../src/protocol/messages';
import { attachLocal, createLocalPair } from '../../../src/transports/local';
import { startMetaApi } from '../../../src/meta/meta-api';

const nacl = require('tweetnacl') as {
  sign: { keyPair: { fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } }; detached(msg: Uint8Array, sk: Uint8Array): Uint8Array };
};
const deviceKey = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(3));
const devicePub = Buffer.from(deviceKey.publicKey).toString('hex');

const roles: RoleConfig[] = [
  {
    name: 'device',
    permissions: [
      { uri: 'sensors.', match: 'prefix', allow: { publish: true, subscribe: true }, disclose: { publisher: true } },
      { uri: 'app.echo', allow: { call: true }, disclose: { caller: true } },
      { uri: 'app.quiet', allow: { call: true } },
    ],
  },
  {
    name: 'app',
    permissions: [
      { uri: 'app.', match: 'prefix', allow: { register: true, call: true, subscribe: true } },
      { uri: 'sensors.', match: 'prefix', allow: { subscribe: true } },
    ],
  },
];

function setUp(kdfLimiter?: KdfLimiter): { router: Router; la: ListenerAuth } {
  const la = buildListenerAuth(
    {
      ticket: {
        principals: [
          { authid: 'dev1', role: 'device', ticket: 'ticket-1' },
          { authid: 'dev-r2', role: 'device', ticket: 'ticket-2', realm: 'realm2' },
        ],
      },
      wampcra: {
        principals: [
          { authid: 'app', role: 'app', secret: 'app-secret' },
          { authid: 'salty', role: 'app', secret: 'pw', salt: 'NaCl', iterations: 500, keylen: 32 },
        ],
      },
      cryptosign: { principals: [{ authid: 'dev2', role: 'device', pubkeys: [devicePub] }] },
      rateLimit: { maxFailures: 3 },
    },
    { listener: 'test', loopback: true, ...(kdfLimiter ? { kdfLimiter } : {}) },
  );
  const router = new Router({
    realms: [
      { name: 'realm1', authorizer: new RoleAuthorizer(roles) },
      { name: 'realm2', authorizer: new RoleAuthorizer(roles) },
    ],
    authenticatorFor: () => la.authenticator,
    ...(la.rateLimiter ? { onAuthFailure: la.rateLimiter.onAuthFailure } : {}),
  });
  return { router, la };
}

let connections = 0;
function connect(router: Router, options: ConnectOptions, address = `c${++connections}`): Promise<WampClient> {
  const pair = createLocalPair(address, 'test');
  router.attach(pair.routerSide);
  return WampClient.connect(pair.clientSide, { timeoutMs: 3000, ...options });
}

const ticket = (realm: string, authid: string, t: string): ConnectOptions => ({ realm, authid, authmethods: ['ticket'], onChallenge: () => t });
const cra = (realm: string, authid: string, secret: string): ConnectOptions => ({
  realm,
  authid,
  authmethods: ['wampcra'],
  onChallenge: (_m, extra) => {
    const key =
      extra.salt === undefined
        ? secret
        : pbkdf2Sync(secret, extra.salt as string, extra.iterations as number, extra.keylen as number, 'sha256').toString('base64');
    return createHmac('sha256', key)
      .update(extra.challenge as string)
      .digest('base64');
  },
});
const cryptosign = (realm: string, secretKey: Uint8Array, pub: string, authid?: string): ConnectOptions => ({
  realm,
  ...(authid ? { authid } : {}),
  authmethods: ['cryptosign'],
  authextra: { pubkey: pub },
  onChallenge: (_m, extra) => {
    const c = Buffer.from(extra.challenge as string, 'hex');
    return Buffer.from(nacl.sign.detached(c, secretKey)).toString('hex') + c.toString('hex');
  },
});

async function expectAbort(p: Promise<WampClient>, reason: string): Promise<WampError> {
  const err = await p.then(
    () => assert.fail('expected the join to be refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WampError, String(err));
  assert.equal(err.error, reason);
  return err;
}

function nextEvent(client: WampClient, topic: string): Promise<{ args: unknown[]; details: Dict }> {
  return new Promise((resolve) => {
    void client.subscribe(topic, (args, _k, details) => resolve({ args, details }));
  });
}

// Regression: the WAMP-CRA challenge named a random number instead of the session (spec: the
// challenge's `session` is the session ID the router will assign).
test('the WAMP-CRA challenge names the session ID that WELCOME then carries', async () => {
  const { router } = setUp();
  try {
    let challenged: unknown;
    const base = cra('realm1', 'app', 'app-secret');
    const c = await connect(router, {
      ...base,
      onChallenge: (m, extra) => {
        challenged = (JSON.parse(extra.challenge as string) as { session: unknown }).session;
        return base.onChallenge!(m, extra);
      },
    });
    assert.equal(challenged, c.sessionId);
    await c.close();
  } finally {
    await router.close();
  }
});

test('ticket, wampcra (plain and salted) and cryptosign sessions join with their roles', async () => {
  const { router } = setUp();
  try {
    const t = await connect(router, ticket('realm1', 'dev1', 'ticket-1'));
    assert.deepEqual([t.welcome.authid, t.welcome.authrole, t.welcome.authmethod], ['dev1', 'device', 'ticket']);
    const c = await connect(router, cra('realm1', 'app', 'app-secret'));
    assert.deepEqual([c.welcome.authid, c.welcome.authrole, c.welcome.authmethod], ['app', 'app', 'wampcra']);
    const s = await connect(router, cra('realm1', 'salty', 'pw'));
    assert.equal(s.welcome.authid, 'salty');
    const k = await connect(router, cryptosign('realm1', deviceKey.secretKey, devicePub));
    assert.deepEqual([k.welcome.authid, k.welcome.authrole, k.welcome.authmethod], ['dev2', 'device', 'cryptosign']);
    await Promise.all([t.close(), c.close(), s.close(), k.close()]);
  } finally {
    await router.close();
  }
});

test('wrong credentials and unknown principals: ABORT authentication_failed, not saying which part', async () => {
  const { router } = setUp();
  try {
    const errors = [
      await expectAbort(connect(router, ticket('realm1', 'dev1', 'wrong')), 'wamp.error.authentication_failed'),
      await expectAbort(connect(router, ticket('realm1', 'nobody', 'ticket-1')), 'wamp.error.authentication_failed'),
      await expectAbort(connect(router, ticket('realm1', 'dev-r2', 'ticket-2')), 'wamp.error.authentication_failed'),
      await expectAbort(connect(router, cra('realm1', 'app', 'not-the-secret')), 'wamp.error.authentication_failed'),
      await expectAbort(connect(router, cra('realm1', 'ghost', 'app-secret')), 'wamp.error.authentication_failed'),
      await expectAbort(
        connect(router, cryptosign('realm1', nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(4)).secretKey, devicePub)),
        'wamp.error.authentication_failed',
      ),
    ];
    for (const e of errors) assert.deepEqual(e.args, ['authentication failed']);
    await expectAbort(connect(router, { realm: 'realm1', authmethods: ['scram'] }), 'wamp.error.no_auth_method');
    // the router still serves a fresh session
    const ok = await connect(router, ticket('realm2', 'dev-r2', 'ticket-2'));
    await ok.close();
  } finally {
    await router.close();
  }
});

test('repeated failures from one address are rate-limited with a clear ABORT; other addresses are not', async () => {
  const { router } = setUp();
  try {
    for (let i = 0; i < 3; i++) await expectAbort(connect(router, ticket('realm1', 'dev1', 'guess' + i), 'attacker'), 'wamp.error.authentication_failed');
    const blocked = await expectAbort(connect(router, ticket('realm1', 'dev1', 'ticket-1'), 'attacker'), 'wamp.error.not_authorized');
    assert.match(String(blocked.args[0]), /too many failed authentication attempts/);
    const other = await connect(router, ticket('realm1', 'dev1', 'ticket-1'), 'friend');
    await other.close();
  } finally {
    await router.close();
  }
});

test('a full ticket-check queue answers ABORT wampgate.error.auth_busy, which does not count towards the address block', async () => {
  // No slot and no queue: every ticket check is refused as busy.
  const { router } = setUp(new KdfLimiter(pbkdf2Derive, { concurrency: 0, maxQueued: 0 }));
  try {
    for (const authid of ['dev1', 'dev1', 'nobody', 'dev1', 'dev1']) {
      const abort = await expectAbort(connect(router, ticket('realm1', authid, 'ticket-1'), 'burst'), 'wampgate.error.auth_busy');
      assert.match(String(abort.args[0]), /try again later/);
    }
    assert.equal(router.stats.authFailures, 0, 'busy refusals are not authentication failures');
    assert.equal(routerView(router).counters().drops.auth_busy, 5, 'each busy refusal is counted (wampgate_messages_dropped_total{reason="auth_busy"})');
    // Five refusals, yet the address is not blocked (maxFailures 3): a real failure still says so.
    await expectAbort(connect(router, cra('realm1', 'app', 'wrong'), 'burst'), 'wamp.error.authentication_failed');
    const ok = await connect(router, cra('realm1', 'app', 'app-secret'), 'burst');
    await ok.close();
  } finally {
    await router.close();
  }
});

test('a denied publish or call is an ERROR not_authorized, and the session goes on', async () => {
  const { router } = setUp();
  try {
    const app = await connect(router, cra('realm1', 'app', 'app-secret'));
    await app.register('app.echo', (args) => args[0]);
    const dev = await connect(router, ticket('realm1', 'dev1', 'ticket-1'));
    await assert.rejects(
      dev.publish('other.topic', [1], {}, { acknowledge: true }),
      (e: unknown) => e instanceof WampError && e.error === 'wamp.error.not_authorized',
    );
    await assert.rejects(dev.call('app.secret'), (e: unknown) => e instanceof WampError && e.error === 'wamp.error.not_authorized');
    await assert.rejects(
      dev.register('sensors.x', () => 1),
      (e: unknown) => e instanceof WampError && e.error === 'wamp.error.not_authorized',
    );
    await assert.rejects(dev.call('wamp.session.count'), (e: unknown) => e instanceof WampError && e.error === 'wamp.error.not_authorized');
    await assert.rejects(
      dev.subscribe('sens', () => undefined, { match: 'prefix' }),
      (e: unknown) => e instanceof WampError && e.error === 'wamp.error.not_authorized',
    );
    // still established: allowed actions work
    assert.equal(dev.closed, false);
    const got = nextEvent(app, 'sensors.temp');
    await new Promise((r) => setTimeout(r, 10));
    await dev.publish('sensors.temp', [21.5], {}, { acknowledge: true });
    const ev = await got;
    assert.deepEqual(ev.args, [21.5]);
    assert.equal(ev.details.publisher_authid, 'dev1', 'the device role discloses publishers');
    assert.deepEqual((await dev.call('app.echo', ['hi'])).args, ['hi']);
    await Promise.all([app.close(), dev.close()]);
  } finally {
    await router.close();
  }
});

test('disclose: the role rule puts the caller identity in INVOCATION details (and only where set)', async () => {
  const { router } = setUp();
  try {
    const app = await connect(router, cra('realm1', 'app', 'app-secret'));
    const seen: Dict[] = [];
    await app.register('app.echo', (_a, _k, details) => (seen.push(details), 'e'));
    await app.register('app.quiet', (_a, _k, details) => (seen.push(details), 'q'));
    const dev = await connect(router, ticket('realm1', 'dev1', 'ticket-1'));
    await dev.call('app.echo');
    await dev.call('app.quiet');
    assert.equal(seen[0]?.caller, dev.sessionId);
    assert.equal(seen[0]?.caller_authid, 'dev1');
    assert.equal(seen[0]?.caller_authrole, 'device');
    assert.equal(seen[1]?.caller, undefined);
    assert.equal(seen[1]?.caller_authid, undefined);
    await Promise.all([app.close(), dev.close()]);
  } finally {
    await router.close();
  }
});

test('realm isolation: two realms with the same URIs under a mixed workload, nothing crosses', async () => {
  const { router } = setUp();
  try {
    const realms = ['realm1', 'realm2'] as const;
    const received: Record<string, unknown[]> = { realm1: [], realm2: [] };
    const invoked: Record<string, unknown[]> = { realm1: [], realm2: [] };
    const apps: WampClient[] = [];
    for (const realm of realms) {
      const app = await connect(router, cra(realm, 'app', 'app-secret'));
      apps.push(app);
      await app.subscribe('sensors.', (args) => received[realm]?.push(args[0]), { match: 'prefix' });
      await app.register('app.echo', (args) => {
        invoked[realm]?.push(args[0]);
        return `${realm}:${String(args[0])}`;
      });
    }
    // only realm1 has this one
    await apps[0]?.register('app.only1', () => 'one');
    const devs = await Promise.all([connect(router, ticket('realm1', 'dev1', 'ticket-1')), connect(router, ticket('realm2', 'dev-r2', 'ticket-2'))]);
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      for (const [j, realm] of realms.entries()) {
        const dev = devs[j] as WampClient;
        work.push(dev.publish(`sensors.s${i % 5}`, [`${realm}-${i}`], {}, { acknowledge: true }));
        work.push(dev.call('app.echo', [`${realm}-${i}`]).then((r) => assert.equal(r.args[0], `${realm}:${realm}-${i}`)));
      }
    }
    await Promise.all(work);
    await new Promise((r) => setTimeout(r, 20));
    for (const realm of realms) {
      assert.equal(received[realm]?.length, 50);
      assert.ok(
        received[realm]?.every((v) => String(v).startsWith(`${realm}-`)),
        `events crossed into ${realm}`,
      );
      assert.equal(invoked[realm]?.length, 50);
      assert.ok(
        invoked[realm]?.every((v) => String(v).startsWith(`${realm}-`)),
        `calls crossed into ${realm}`,
      );
    }
    assert.deepEqual((await (apps[0] as WampClient).call('app.only1')).args, ['one']);
    await assert.rejects((apps[1] as WampClient).call('app.only1'), (e: unknown) => e instanceof WampError && e.error === 'wamp.error.no_such_procedure');
    await Promise.all([...apps, ...devs].map((c) => c.close()));
  } finally {
    await router.close();
  }
});

test('dynamic authenticator and authorizer through a trusted session calling procedures', async () => {
  const trustedCalls: string[] = [];
  let la: ListenerAuth | undefined;
  const router = new Router({ realms: [{ name: 'sys' }, { name: 'realm1' }], authenticatorFor: () => la?.authenticator });
  try {
    await startMetaApi(router).ready;
    // the trusted session that hosts the authenticator/authorizer (an app would register these)
    const host = await WampClient.connect(attachLocal(router, 'auth-host', { authid: 'auth-host', authrole: 'trusted', trusted: true }), { realm: 'sys' });
    await host.register('com.example.authenticate', (args) => {
      const [, authid, details] = args as [string, string, Dict];
      trustedCalls.push(`authn:${authid}`);
      if (details.ticket !== `pw-${authid}`) throw new WampError('wamp.error.not_authorized');
      return { role: 'user' };
    });
    await host.register('com.example.authorize', (args) => {
      const [session, uri, action] = args as [Dict, string, string];
      trustedCalls.push(`authz:${action}:${uri}`);
      return { allow: uri.startsWith(`home.${String(session.authid)}.`), disclose: false };
    });
    // the gateway's caller: a trusted session on the realm where the procedures live
    const caller = await WampClient.connect(attachLocal(router, 'auth-caller', { authid: 'router', authrole: 'trusted', trusted: true }), { realm: 'sys' });
    const call = (p: string, a: unknown[], k: Dict, o: { timeout: number }) => caller.call(p, a, k, { timeout: o.timeout });
    la = buildListenerAuth({ dynamic: { procedure: 'com.example.authenticate', realm: 'sys' } }, { listener: 'test', loopback: true, call });
    const realm1 = router.findRealm('realm1');
    assert.ok(realm1);
    realm1.authorizer = new DynamicAuthorizer({ procedure: 'com.example.authorize', call });

    const alice = await connect(router, ticket('realm1', 'alice', 'pw-alice'));
    assert.equal(alice.welcome.authprovider, 'dynamic');
    await expectAbort(connect(router, ticket('realm1', 'bob', 'nope')), 'wamp.error.authentication_failed');
    await alice.publish('home.alice.light', [1], {}, { acknowledge: true });
    await alice.publish('home.alice.light', [2], {}, { acknowledge: true });
    await assert.rejects(
      alice.publish('home.bob.light', [1], {}, { acknowledge: true }),
      (e: unknown) => e instanceof WampError && e.error === 'wamp.error.not_authorized',
    );
    assert.deepEqual(
      trustedCalls,
      ['authn:alice', 'authn:bob', 'authz:publish:home.alice.light', 'authz:publish:home.bob.light'],
      'the second publish was answered from the cache',
    );
    await Promise.all([alice.close(), host.close(), caller.close()]);
  } finally {
    await router.close();
  }
});
