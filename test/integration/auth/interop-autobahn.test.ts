// Interop with real third-party clients over WebSocket: AutobahnJS (ticket, wampcra plain and
// salted, cryptosign) and wampy (ticket, wampcra) join with the right role and are refused with
// the right ABORT reason; AutobahnJS with a TLS client certificate over wss joins by its CN.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { RoleAuthorizer } from '../../../src/auth/authorizer';
import { buildListenerAuth } from '../../../src/auth/listener-auth';
import { deriveCraKey } from '../../../src/auth/principals';
import { Router } from '../../../src/core/router';
import type { TransportServer } from '../../../src/transports/transport-server';
import { startWebSocketServer } from '../../../src/transports/websocket/server';
import { selfSignedCert, tempDir } from '../transports/support';

const autobahn = require('autobahn') as {
  Connection: new (options: Record<string, unknown>) => {
    onopen: (
      session: {
        id: number;
        publish(topic: string, args: unknown[], kwargs: object, options: object): Promise<unknown>;
        call(p: string, args?: unknown[]): Promise<unknown>;
      },
      details: Record<string, unknown>,
    ) => void;
    onclose: (reason: string, details: Record<string, unknown>) => boolean;
    open(): void;
    close(): void;
  };
  auth_cra: { sign(key: string, challenge: string): string; derive_key(secret: string, salt: string, iterations: number, keylen: number): string };
  auth_cryptosign: { sign_challenge(pkey: unknown, extra: Record<string, unknown>): string; public_key(pkey: unknown): string };
};

const nacl = require('tweetnacl') as { sign: { keyPair: { fromSeed(seed: Uint8Array): unknown } } };

const { Wampy } = require('wampy') as {
  Wampy: new (url: string, options: Record<string, unknown>) => { connect(): Promise<unknown>; disconnect(): Promise<unknown>; getSessionId(): number };
};

const deviceKey = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(11));
const devicePub = autobahn.auth_cryptosign.public_key(deviceKey);
const SALT = { salt: 'salt123', iterations: 1000, keylen: 32 };

let router: Router;
let server: TransportServer;
let url: string;

before(async () => {
  const la = buildListenerAuth(
    {
      ticket: { principals: [{ authid: 'dev1', role: 'device', ticket: 'ticket-1' }] },
      wampcra: {
        principals: [
          { authid: 'app', role: 'app', secret: 'app-secret' },
          // stored without the password: only the PBKDF2-derived key
          { authid: 'salty', role: 'app', derived: deriveCraKey('salty-password', SALT.salt, SALT.iterations, SALT.keylen), ...SALT },
        ],
      },
      cryptosign: { principals: [{ authid: 'dev2', role: 'device', pubkeys: [devicePub] }] },
      rateLimit: false,
    },
    { listener: 'ws', loopback: true },
  );
  router = new Router({
    realms: [
      {
        name: 'realm1',
        authorizer: new RoleAuthorizer([
          { name: 'device', permissions: [{ uri: 'sensors.', match: 'prefix', allow: { publish: true } }] },
          { name: 'app', permissions: [] },
        ]),
      },
    ],
    authenticatorFor: () => la.authenticator,
  });
  server = await startWebSocketServer({ name: 'ws', host: '127.0.0.1', port: 0, onPeer: (peer) => router.attach(peer) });
  url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/ws`;
});

after(async () => {
  await router.close();
  await server.close();
});

interface Joined {
  details: Record<string, unknown>;
  publish(topic: string): Promise<unknown>;
  close(): void;
}

/** Opens an AutobahnJS connection; resolves on join, rejects with the ABORT reason. */
function autobahnJoin(options: Record<string, unknown>): Promise<Joined> {
  return new Promise((resolve, reject) => {
    const conn = new autobahn.Connection({ url, realm: 'realm1', max_retries: 0, retry_if_unreachable: false, ...options });
    conn.onopen = (session, details) =>
      resolve({ details, publish: (topic) => session.publish(topic, [1], {}, { acknowledge: true }), close: () => conn.close() });
    conn.onclose = (reason, details) => {
      reject(new Error(String(details.reason ?? reason)));
      return true;
    };
    conn.open();
  });
}

test('AutobahnJS ticket: joins; a wrong ticket gets ABORT authentication_failed', async () => {
  const s = await autobahnJoin({ authid: 'dev1', authmethods: ['ticket'], onchallenge: () => 'ticket-1' });
  assert.equal(s.details.authrole, 'device');
  assert.equal(s.details.authmethod, 'ticket');
  await s.publish('sensors.t');
  await assert.rejects(s.publish('other.t'), (e: unknown) => (e as { error?: string }).error === 'wamp.error.not_authorized');
  s.close();
  await assert.rejects(autobahnJoin({ authid: 'dev1', authmethods: ['ticket'], onchallenge: () => 'nope' }), /wamp\.error\.authentication_failed/);
});

test('AutobahnJS wampcra plain and salted (auth_cra.derive_key); wrong secret refused', async () => {
  const plain = await autobahnJoin({
    authid: 'app',
    authmethods: ['wampcra'],
    onchallenge: (_s: unknown, _m: string, extra: { challenge: string }) => autobahn.auth_cra.sign('app-secret', extra.challenge),
  });
  assert.equal(plain.details.authid, 'app');
  plain.close();
  const salted = await autobahnJoin({
    authid: 'salty',
    authmethods: ['wampcra'],
    onchallenge: (_s: unknown, _m: string, extra: { challenge: string; salt: string; iterations: number; keylen: number }) =>
      autobahn.auth_cra.sign(autobahn.auth_cra.derive_key('salty-password', extra.salt, extra.iterations, extra.keylen), extra.challenge),
  });
  assert.equal(salted.details.authid, 'salty');
  salted.close();
  await assert.rejects(
    autobahnJoin({
      authid: 'app',
      authmethods: ['wampcra'],
      onchallenge: (_s: unknown, _m: string, extra: { challenge: string }) => autobahn.auth_cra.sign('wrong', extra.challenge),
    }),
    /wamp\.error\.authentication_failed/,
  );
});

test('AutobahnJS cryptosign: joins with its key; an unknown key is refused', async () => {
  const s = await autobahnJoin({
    authid: 'dev2',
    authmethods: ['cryptosign'],
    authextra: { pubkey: devicePub },
    onchallenge: (_s: unknown, _m: string, extra: Record<string, unknown>) => autobahn.auth_cryptosign.sign_challenge(deviceKey, extra),
  });
  assert.equal(s.details.authid, 'dev2');
  assert.equal(s.details.authmethod, 'cryptosign');
  s.close();
  const stranger = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(12));
  await assert.rejects(
    autobahnJoin({
      authmethods: ['cryptosign'],
      authextra: { pubkey: autobahn.auth_cryptosign.public_key(stranger) },
      onchallenge: (_s: unknown, _m: string, extra: Record<string, unknown>) => autobahn.auth_cryptosign.sign_challenge(stranger, extra),
    }),
    /wamp\.error\.authentication_failed/,
  );
});

/** wampy rejects connect() on ABORT with an error carrying the reason as errorUri. */
const abortedWith =
  (reason: string) =>
  (e: unknown): boolean =>
    (e as { errorUri?: string }).errorUri === reason;

function wampy(options: Record<string, unknown>): InstanceType<typeof Wampy> {
  return new Wampy(url, { realm: 'realm1', ws: WebSocket, autoReconnect: false, ...options });
}

test('wampy ticket and wampcra (wampy/wampcra helper): join, and refusals', async () => {
  const t = wampy({ authid: 'dev1', authmethods: ['ticket'], onChallenge: () => 'ticket-1' });
  await t.connect();
  assert.ok(t.getSessionId() > 0);
  await t.disconnect();
  await assert.rejects(wampy({ authid: 'dev1', authmethods: ['ticket'], onChallenge: () => 'bad' }).connect(), abortedWith('wamp.error.authentication_failed'));

  const cra = await import('wampy/wampcra.js');
  const c = wampy({
    authid: 'app',
    authmethods: ['wampcra'],
    onChallenge: (_m: string, info: { challenge: string }) => cra.signManual('app-secret', info.challenge),
  });
  await c.connect();
  await c.disconnect();
  const s = wampy({
    authid: 'salty',
    authmethods: ['wampcra'],
    onChallenge: (_m: string, info: { challenge: string; salt: string; iterations: number; keylen: number }) =>
      cra.deriveKey('salty-password', info.salt, info.iterations, info.keylen).then((key) => cra.signManual(key, info.challenge)),
  });
  await s.connect();
  await s.disconnect();
  await assert.rejects(
    wampy({
      authid: 'ghost',
      authmethods: ['wampcra'],
      onChallenge: (_m: string, info: { challenge: string }) => cra.signManual('app-secret', info.challenge),
    }).connect(),
    abortedWith('wamp.error.authentication_failed'),
  );
});

/**
 * Runs `body` with AutobahnJS on the `ws` package. AutobahnJS 22.11 takes globalThis.WebSocket
 * whenever it exists (Node >= 22: undici's, which has no way to present a client certificate)
 * and ignores `tlsConfiguration` then; only its `ws` transport passes it on. Regression: this
 * test failed on Node 22+ with "unreachable".
 */
async function withAutobahnOnWs<T>(body: () => Promise<T>): Promise<T> {
  const g = globalThis as { WebSocket?: unknown };
  const builtin = Object.getOwnPropertyDescriptor(g, 'WebSocket');
  if (builtin) delete g.WebSocket;
  try {
    return await body();
  } finally {
    if (builtin) Object.defineProperty(g, 'WebSocket', builtin);
  }
}

test('AutobahnJS with a TLS client certificate over wss: authid from the certificate CN', async () => {
  const dir = tempDir('wampgate-tls-auth-');
  const cert = selfSignedCert(dir.path); // CN=wampgate-test; it is its own CA
  const la = buildListenerAuth({ tls: { principals: [{ cn: 'wampgate-test', role: 'device' }] } }, { listener: 'wss', loopback: true });
  const tlsRouter = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => la.authenticator });
  const tlsServer = await startWebSocketServer({
    name: 'wss',
    host: '127.0.0.1',
    port: 0,
    tls: { ...cert, ca: cert.cert, requestClientCert: true },
    onPeer: (peer) => tlsRouter.attach(peer),
  });
  try {
    const { readFileSync } = await import('node:fs');
    const s = await withAutobahnOnWs(() =>
      autobahnJoin({
        url: `wss://127.0.0.1:${(tlsServer.address() as { port: number }).port}/ws`,
        authmethods: ['tls'],
        tlsConfiguration: { ca: readFileSync(cert.cert), cert: readFileSync(cert.cert), key: readFileSync(cert.key) },
      }),
    );
    assert.equal(s.details.authid, 'wampgate-test');
    assert.equal(s.details.authrole, 'device');
    assert.equal(s.details.authmethod, 'tls');
    s.close();
  } finally {
    await tlsRouter.close();
    await tlsServer.close();
    dir.remove();
  }
});
