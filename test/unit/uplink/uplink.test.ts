// The uplink with both routers in process (the cloud reached through a local pair, so no
// sockets): state events, and downward calls while offline (fail fast, or wait for the link).

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { buildListenerAuth } from '../../../src/auth/listener-auth';
import type { WampClient } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import { Router } from '../../../src/core/router';
import type { Dict } from '../../../src/protocol/messages';
import type { Peer } from '../../../src/protocol/peer';
import { createLocalPair } from '../../../src/transports/local';
import { ed25519FromSeedHex } from '../../../src/uplink/client-auth';
import { MemoryOutbox } from '../../../src/uplink/memory-outbox';
import { Uplink } from '../../../src/uplink/uplink';
import { resolveUplinkConfig, type UplinkConfig } from '../../../src/uplink/uplink-config';
import { connectClient } from '../../helpers/local-router';
import { waitFor } from '../../fixtures/uplink-harness';
import { localSessions } from '../../../src/gateway-part';
import { anonymousOnLoopback } from '../../../src/auth/anonymous';

const seed = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
const pubkey = ed25519FromSeedHex(seed).publicKeyHex;

async function routers(): Promise<{ cloud: Router; gateway: Router }> {
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
  const anonymous = anonymousOnLoopback();
  const gateway = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymous });
  return { cloud, gateway };
}

function makeUplink(cloud: Router, gateway: Router, raw: Partial<UplinkConfig>, allowLink: () => boolean = () => true): Uplink {
  const config = resolveUplinkConfig(
    { url: 'ws://cloud.invalid/ws', realm: 'cloud', gatewayId: 'gw1', reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, statsIntervalMs: 0, ...raw },
    { dataDir: '/nonexistent', firstRealm: 'realm1', maxMessageBytes: 1 << 20, hostname: 'test' },
  );
  return new Uplink(config, {
    router: localSessions(gateway),
    outbox: new MemoryOutbox(),
    connect: (): Promise<Peer> => {
      if (!allowLink()) return Promise.reject(new Error('ECONNREFUSED (test)'));
      // The cloud sees a TCP-like connection from the network, not a local session.
      const pair = createLocalPair('uplink-test');
      Object.assign(pair.routerSide.transport, { type: 'websocket', loopback: true, listener: 'cloud' });
      cloud.attach(pair.routerSide);
      return Promise.resolve(pair.clientSide);
    },
  });
}

async function closeAll(uplink: Uplink, ...routersToClose: Router[]): Promise<void> {
  await uplink.stop();
  await Promise.all(routersToClose.map((r) => r.close()));
}

test('state changes are events on wampgate.uplink.on_state; downward calls fail fast offline or wait for the link', async () => {
  const { cloud, gateway } = await routers();
  let linkAllowed = false;
  const uplink = makeUplink(
    cloud,
    gateway,
    {
      auth: { authid: 'gw-ticket', ticket: 's3cret' },
      forward: [
        { name: 'fast', direction: 'down', type: 'procedure', local: 'cloud.fast', remote: 'svc.time' },
        { name: 'patient', direction: 'down', type: 'procedure', local: 'cloud.patient', remote: 'svc.time', offlineCallTimeoutMs: 10_000 },
      ],
    },
    () => linkAllowed,
  );
  const local: WampClient = await connectClient(gateway, 'realm1');
  const states: string[] = [];
  await local.subscribe('wampgate.uplink.on_state', (args) => states.push(String((args[0] as Dict).state)));
  await uplink.start();
  await waitFor('a failed attempt', () => uplink.status().failedAttempts >= 1);

  await assert.rejects(local.call('cloud.fast'), (e: WampError) => e.error === 'wampgate.error.uplink_offline' && e.kwargs.state !== 'online');
  const waiting = local.call('cloud.patient', [1]);
  const callee = await connectClient(cloud, 'cloud', { authmethods: ['ticket'], authid: 'gw-ticket', onChallenge: () => 's3cret' });
  await callee.register('svc.time', (args) => ['late but fine', args[0]]);
  linkAllowed = true;
  assert.deepEqual((await waiting).args, [['late but fine', 1]]);
  await waitFor('the online event', () => states.includes('online'));
  assert.ok(states.indexOf('connecting') < states.indexOf('online'));
  assert.equal(uplink.status().counters.offlineCalls, 1);
  await callee.close();
  await local.close();
  await closeAll(uplink, cloud, gateway);
});
