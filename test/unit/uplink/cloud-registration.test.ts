// Taking over an upward registration the cloud still holds for the gateway's previous session:
// with force_reregister where the cloud's WELCOME announces it (wampgate does), else through the
// meta API (wamp.session.kill of our own stale session only), both against an in-process
// wampgate router as the cloud. The unannounced case strips the feature from WELCOME on the way.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildListenerAuth } from '../../../src/auth/listener-auth';
import { anonymousOnLoopback } from '../../../src/auth/anonymous';
import { WampClient } from '../../../src/client/wamp-client';
import { Router } from '../../../src/core/router';
import { dealerFeatures } from '../../../src/core/features';
import { localSessions } from '../../../src/gateway-part';
import { startMetaApi } from '../../../src/meta/meta-api';
import { MessageType } from '../../../src/protocol/message-types';
import type { Dict, Message } from '../../../src/protocol/messages';
import type { Peer, PeerListener } from '../../../src/protocol/peer';
import { createLocalPair } from '../../../src/transports/local';
import { announcesForceReregister } from '../../../src/uplink/cloud-registration';
import { MemoryOutbox } from '../../../src/uplink/memory-outbox';
import { Uplink } from '../../../src/uplink/uplink';
import { resolveUplinkConfig } from '../../../src/uplink/uplink-config';
import { connectClient } from '../../helpers/local-router';
import { waitFor } from '../../fixtures/uplink-harness';

const PRINCIPALS = [
  { authid: 'gw1', role: 'gateway', ticket: 'gw1-secret' },
  { authid: 'other', role: 'gateway', ticket: 'other-secret' },
];

function cloudRouter(): Router {
  const auth = buildListenerAuth({ ticket: { principals: PRINCIPALS }, rateLimit: false }, { listener: 'cloud', loopback: true });
  return new Router({ realms: [{ name: 'cloud' }], authenticatorFor: () => auth.authenticator });
}

/** A connection to the cloud as from the network; `tap` sees (and may edit) what arrives, `sent` what leaves. */
function cloudPeer(cloud: Router, opts: { stripForceReregister?: boolean; sent?: Message[] } = {}): Peer {
  const pair = createLocalPair('to-cloud');
  Object.assign(pair.routerSide.transport, { type: 'websocket', loopback: true, listener: 'cloud' });
  cloud.attach(pair.routerSide);
  const inner = pair.clientSide;
  return {
    transport: inner.transport,
    bufferedBytes: () => inner.bufferedBytes(),
    send: (msg) => {
      opts.sent?.push(msg);
      return inner.send(msg);
    },
    close: (reason) => inner.close(reason),
    get closed() {
      return inner.closed;
    },
    setListener: (listener: PeerListener) =>
      inner.setListener({
        ...listener,
        onMessage: (msg) => {
          if (opts.stripForceReregister && msg.type === MessageType.WELCOME) {
            const roles = msg.details.roles as { dealer: { features: Dict } };
            const features = { ...roles.dealer.features };
            delete features.force_reregister;
            msg.details.roles = { ...roles, dealer: { features } };
          }
          listener.onMessage(msg);
        },
      }),
  };
}

async function cloudClient(cloud: Router, authid: string, ticket: string): Promise<WampClient> {
  return WampClient.connect(cloudPeer(cloud), { realm: 'cloud', authid, authmethods: ['ticket'], onChallenge: () => ticket, timeoutMs: 2000 });
}

async function scenario(stripForceReregister: boolean): Promise<void> {
  const cloud = cloudRouter();
  const meta = startMetaApi(cloud);
  await meta.ready;
  const gateway = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymousOnLoopback() });
  const device = await connectClient(gateway, 'realm1');
  await device.register('dev.echo', (args) => ['fresh', ...args]);
  // The gateway's previous session, not yet noticed dead by the cloud, and another principal's.
  const stale = await cloudClient(cloud, 'gw1', 'gw1-secret');
  await stale.register('site.gw1.dev.', () => ['stale'], { match: 'prefix' });
  const otherPrincipal = await cloudClient(cloud, 'other', 'other-secret');
  const sent: Message[] = [];
  const config = resolveUplinkConfig(
    {
      url: 'ws://cloud.invalid/ws',
      realm: 'cloud',
      gatewayId: 'gw1',
      auth: { authid: 'gw1', ticket: 'gw1-secret' },
      statsIntervalMs: 0,
      forward: [{ name: 'rpc', direction: 'up', type: 'procedure', local: 'dev.', remote: 'site.gw1.dev.' }],
    },
    { dataDir: '/nonexistent', firstRealm: 'realm1', maxMessageBytes: 1 << 20, hostname: 'test' },
  );
  const uplink = new Uplink(config, {
    router: localSessions(gateway),
    outbox: new MemoryOutbox(),
    connect: () => Promise.resolve(cloudPeer(cloud, { stripForceReregister, sent })),
  });
  const caller = await cloudClient(cloud, 'other', 'other-secret');
  try {
    await uplink.start();
    await waitFor('the uplink online', () => uplink.state === 'online');
    const registers = sent.filter((m): m is Extract<Message, { type: typeof MessageType.REGISTER }> => m.type === MessageType.REGISTER);
    if (stripForceReregister) {
      assert.ok(
        registers.every((m) => m.options.force_reregister === undefined),
        'force_reregister is never sent to a cloud that does not announce it',
      );
      await waitFor('the stale session killed through the meta API', () => stale.closed);
    } else {
      assert.equal(registers.length, 1, 'one REGISTER, with force_reregister');
      assert.equal(registers[0]?.options.force_reregister, true);
    }
    const r = await caller.call('site.gw1.dev.echo', ['hi']);
    assert.deepEqual(r.args, [['fresh', 'hi']], 'the cloud call reaches the device through the new session');
    assert.equal(otherPrincipal.closed, false, "another principal's session is never touched");
  } finally {
    await uplink.stop();
    for (const c of [stale, otherPrincipal, caller, device]) if (!c.closed) await c.close().catch(() => undefined);
    meta.stop();
    await cloud.close();
    await gateway.close();
  }
}

test("wampgate's dealer announces force_reregister in WELCOME", async () => {
  assert.equal(dealerFeatures.force_reregister, true);
  const cloud = cloudRouter();
  const c = await cloudClient(cloud, 'gw1', 'gw1-secret');
  assert.equal(announcesForceReregister(c.welcome), true);
  await c.close();
  await cloud.close();
});

test('a cloud that announces force_reregister: the uplink takes its stale registration over with one REGISTER', async () => {
  await scenario(false);
});

test('a cloud that does not announce it: the uplink ends its own stale session through the meta API, then registers', async () => {
  await scenario(true);
});
