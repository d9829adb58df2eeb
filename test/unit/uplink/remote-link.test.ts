// The uplink's link to the cloud, with the cloud router in process (reached through a local pair,
// so no sockets): each auth method including cryptosign, and a refused key that keeps the link
// offline with the reason while it retries with backoff.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { buildListenerAuth } from '../../../src/auth/listener-auth';
import { Router } from '../../../src/core/router';
import type { Peer } from '../../../src/protocol/peer';
import { createLocalPair } from '../../../src/transports/local';
import { quietLogger } from '../../../src/util/logger';
import { ed25519FromSeedHex } from '../../../src/uplink/client-auth';
import { RemoteLink } from '../../../src/uplink/remote-link';
import { resolveUplinkConfig, type UplinkConfig } from '../../../src/uplink/uplink-config';
import { waitFor } from '../../fixtures/uplink-harness';
import { captureLogger } from '../../helpers/local-router';
import type { WampClient } from '../../../src/client/wamp-client';

const seed = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
const pubkey = ed25519FromSeedHex(seed).publicKeyHex;

async function cloudRouter(): Promise<Router> {
  const auth = buildListenerAuth(
    {
      ticket: { principals: [{ authid: 'gw-ticket', role: 'gateway', ticket: 's3cret' }] },
      wampcra: { principals: [{ authid: 'gw-cra', role: 'gateway', secret: 'pw', salt: 'NaCl', iterations: 100, keylen: 32 }] },
      cryptosign: { principals: [{ authid: 'gw-key', role: 'gateway', pubkeys: [pubkey] }] },
      rateLimit: false,
    },
    { listener: 'cloud', loopback: true },
  );
  const cloud = new Router({ realms: [{ name: 'cloud' }], authenticatorFor: () => auth.authenticator });
  return cloud;
}

function makeLink(
  cloud: Router,
  raw: Partial<UplinkConfig>,
  extra: { online?: (client: WampClient) => void; logger?: typeof quietLogger; random?: () => number } = {},
): RemoteLink {
  const config = resolveUplinkConfig(
    { url: 'ws://cloud.invalid/ws', realm: 'cloud', gatewayId: 'gw1', reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, statsIntervalMs: 0, ...raw },
    { dataDir: '/nonexistent', firstRealm: 'realm1', maxMessageBytes: 1 << 20, hostname: 'test' },
  );
  return new RemoteLink(
    config,
    { restore: () => Promise.resolve(), online: extra.online ?? (() => undefined), offline: () => undefined, stateChanged: () => undefined },
    {
      logger: extra.logger ?? quietLogger,
      random: extra.random,
      connect: (): Promise<Peer> => {
        // The cloud sees a TCP-like connection from the network, not a local session.
        const pair = createLocalPair('uplink-test');
        Object.assign(pair.routerSide.transport, { type: 'websocket', loopback: true, listener: 'cloud' });
        cloud.attach(pair.routerSide);
        return Promise.resolve(pair.clientSide);
      },
    },
  );
}

for (const [method, auth] of [
  ['ticket', { authid: 'gw-ticket', ticket: 's3cret' }],
  ['wampcra (salted)', { authid: 'gw-cra', secret: 'pw' }],
  ['cryptosign', { cryptosignKey: seed }],
] as const) {
  test(`the uplink authenticates to the cloud with ${method}`, async () => {
    const cloud = await cloudRouter();
    const link = makeLink(cloud, { auth: { ...auth } });
    link.start();
    await waitFor('online', () => link.state === 'online');
    const session = [...cloud.sessions.values()].find((s) => s.id === link.snapshot().remoteSession);
    assert.equal(session?.authrole, 'gateway');
    await link.stop();
    await cloud.close();
  });
}

test('a refused key keeps the uplink offline with the reason, retrying with backoff', async () => {
  const cloud = await cloudRouter();
  const other = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
  const link = makeLink(cloud, { auth: { cryptosignKey: other } });
  link.start();
  await waitFor('two failed attempts', () => link.snapshot().failedAttempts >= 2);
  assert.notEqual(link.state, 'online');
  assert.match(link.snapshot().lastError ?? '', /authentication_failed|not_authorized/);
  await link.stop();
  await cloud.close();
});

function reconnectDelays(entries: ReturnType<typeof captureLogger>['entries']): number[] {
  return entries.filter((e) => e.msg === 'uplink reconnecting').map((e) => e.fields?.inMs as number);
}

test('backoff keeps growing across sessions the cloud drops right after the join, and resets after a healthy one', async () => {
  // Regression: the backoff reset at every join, so a cloud closing each session at once (a
  // message it refuses) was reconnected to 16 times in 15 s.
  const cloud = await cloudRouter();
  const { logger, entries } = captureLogger();
  let healthyMs = 0;
  const link = makeLink(
    cloud,
    { auth: { authid: 'gw-ticket', ticket: 's3cret' }, reconnect: { initialDelayMs: 10, maxDelayMs: 80, jitter: 0, healthyAfterMs: 100 } },
    { logger, online: (client) => void setTimeout(() => client.peer.close('dropped by the test'), healthyMs) },
  );
  link.start();
  await waitFor('five short-lived sessions', () => reconnectDelays(entries).length >= 5);
  assert.deepEqual(reconnectDelays(entries).slice(0, 5), [10, 20, 40, 80, 80]);
  // Sessions now live past healthyAfterMs: each reconnect starts from the initial delay again.
  healthyMs = 150;
  const seen = reconnectDelays(entries).length;
  await waitFor('three more reconnects', () => reconnectDelays(entries).length >= seen + 3);
  assert.deepEqual(reconnectDelays(entries).slice(seen + 1, seen + 3), [10, 10]);
  await link.stop();
  await cloud.close();
});
