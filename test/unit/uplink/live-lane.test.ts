// The live lane: an event that arrives while the backlog is being replayed reaches the cloud
// ahead of the rest of the backlog with `order: live-first`, and after all of it with `strict`.
// Either way every event arrives exactly once here (no link loss) and the buffer ends empty.
// Both routers in process; the replay is slowed with replayRatePerSecond so it takes a while.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anonymousOnLoopback } from '../../../src/auth/anonymous';
import { Router } from '../../../src/core/router';
import { localSessions } from '../../../src/gateway-part';
import type { Peer } from '../../../src/protocol/peer';
import { createLocalPair } from '../../../src/transports/local';
import { MemoryOutbox } from '../../../src/uplink/memory-outbox';
import { Uplink } from '../../../src/uplink/uplink';
import { resolveUplinkConfig, type ForwardOrder } from '../../../src/uplink/uplink-config';
import { connectClient } from '../../helpers/local-router';
import { waitFor } from '../../fixtures/uplink-harness';

async function run(order: ForwardOrder): Promise<{ got: string[]; backlogLeftWhenLiveArrived: number }> {
  const cloud = new Router({ realms: [{ name: 'cloud' }], authenticatorFor: () => anonymousOnLoopback() });
  const gateway = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymousOnLoopback() });
  let linkAllowed = false;
  const config = resolveUplinkConfig(
    {
      url: 'ws://cloud.invalid/ws',
      realm: 'cloud',
      gatewayId: 'gw1',
      reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
      statsIntervalMs: 0,
      buffer: { storage: 'memory', replayRatePerSecond: 400 },
      forward: [{ name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.gw1.sensors.', order }],
    },
    { dataDir: '/nonexistent', firstRealm: 'realm1', maxMessageBytes: 1 << 20, hostname: 'test' },
  );
  const uplink = new Uplink(config, {
    router: localSessions(gateway),
    outbox: new MemoryOutbox(),
    connect: (): Promise<Peer> => {
      if (!linkAllowed) return Promise.reject(new Error('ECONNREFUSED (test)'));
      const pair = createLocalPair('uplink-test');
      Object.assign(pair.routerSide.transport, { type: 'websocket', loopback: true, listener: 'cloud' });
      cloud.attach(pair.routerSide);
      return Promise.resolve(pair.clientSide);
    },
  });
  const local = await connectClient(gateway, 'realm1');
  const app = await connectClient(cloud, 'cloud');
  try {
    await uplink.start();
    const got: string[] = [];
    await app.subscribe('site.gw1.sensors.', (args) => got.push(String(args[0])), { match: 'prefix' });
    const backlog = 400;
    for (let i = 0; i < backlog; i++) await local.publish('sensors.old', [`b${i}`], {}, { acknowledge: true });
    await waitFor('the backlog buffered', () => uplink.status().outbox.count === backlog);
    linkAllowed = true;
    await waitFor('the replay under way', () => got.length >= 20);
    await local.publish('sensors.now', ['live'], {}, { acknowledge: true });
    await waitFor('the live event at the cloud', () => got.includes('live'));
    const backlogLeftWhenLiveArrived = backlog - got.filter((g) => g !== 'live').length;
    await waitFor(`every event at the cloud (${got.length})`, () => got.length >= backlog + 1);
    await waitFor('the buffer empty', () => uplink.status().outbox.count === 0 && uplink.status().inflight === 0);
    return { got, backlogLeftWhenLiveArrived };
  } finally {
    await uplink.stop();
    await local.close();
    await app.close();
    await cloud.close();
    await gateway.close();
  }
}

const backlogOrder = Array.from({ length: 400 }, (_, i) => `b${i}`);

test('order live-first: an event arriving during the replay reaches the cloud ahead of the rest of the backlog; none lost or doubled', async () => {
  const { got, backlogLeftWhenLiveArrived } = await run('live-first');
  assert.ok(backlogLeftWhenLiveArrived > 100, `the live event overtook the backlog (backlog left when it arrived: ${backlogLeftWhenLiveArrived})`);
  assert.deepEqual(
    got.filter((g) => g !== 'live'),
    backlogOrder,
    'the backlog itself in order',
  );
  assert.equal(got.filter((g) => g === 'live').length, 1, 'exactly once');
});

test('order strict: the same event arrives after the whole backlog', async () => {
  const { got, backlogLeftWhenLiveArrived } = await run('strict');
  assert.equal(backlogLeftWhenLiveArrived, 0);
  assert.deepEqual(got, [...backlogOrder, 'live']);
});
