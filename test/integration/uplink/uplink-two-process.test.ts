// Two routers, two processes: a wampgate gateway with the uplink (test/fixtures/uplink-gateway.ts)
// and a plain wampgate as the cloud (bin/wampgate.js), linked through a TCP gate the test can cut.
// Events both ways, calls both ways, URI rewriting, loop prevention, restore after reconnect,
// and store-and-forward across a cloud restart.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WampClient } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import type { Dict } from '../../../src/protocol/messages';
import {
  connect,
  freePort,
  LinkGate,
  startCloud,
  startGateway,
  tempDir,
  uplinkStatus,
  WAIT_MS,
  waitFor,
  type RouterProcess,
} from '../../fixtures/uplink-harness';

interface Got {
  topic: string;
  args: unknown[];
}

function recorder(client: WampClient, topic: string, options: Dict = { match: 'prefix' }): Promise<Got[]> {
  const got: Got[] = [];
  return client
    .subscribe(topic, (args, _kwargs, details) => got.push({ topic: typeof details.topic === 'string' ? details.topic : topic, args }), options)
    .then(() => got);
}

const dir = tempDir();
let cloudPort = 0;
let gatewayPort = 0;
let gate: LinkGate;
let cloud: RouterProcess;
let gateway: RouterProcess;
let local: WampClient;
let cloudA: WampClient;
let cloudB: WampClient;

// The cloud drops a silent session within about a second (its own keepalive), as a real one would
// eventually: until then it holds the dead session's registrations.
const cloudLimits = { limits: { keepaliveIntervalMs: 300, keepaliveTimeoutMs: 600 } };

const uplink = (gatePort: number): Dict => ({
  url: `ws://127.0.0.1:${gatePort}/ws`,
  realm: 'cloud',
  serializer: 'cbor',
  gatewayId: 'gw1',
  reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
  keepalive: { intervalMs: 200, timeoutMs: 400 },
  statsIntervalMs: 0,
  forward: [
    // strict: the sentinel below must arrive after everything buffered before it.
    { name: 'sensors-up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.', order: 'strict' },
    // The same URIs forwarded back down: a loop unless the uplink prevents it.
    { name: 'sensors-down', direction: 'down', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' },
    { name: 'cmd-down', direction: 'down', type: 'event', local: 'cmd.', remote: 'site.{gatewayId}.cmd.' },
    { name: 'dev-rpc', direction: 'up', type: 'procedure', local: 'dev.', remote: 'site.{gatewayId}.dev.' },
    { name: 'cloud-rpc', direction: 'down', type: 'procedure', local: 'cloud.', remote: 'svc.' },
  ],
});

before(async () => {
  [cloudPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
  gate = await new LinkGate(cloudPort).listen();
  cloud = await startCloud(dir.path, cloudPort, undefined, cloudLimits);
  gateway = await startGateway(dir.path, gatewayPort, uplink(gate.port));
  [local, cloudA, cloudB] = await Promise.all([connect(gatewayPort, 'realm1'), connect(cloudPort, 'cloud'), connect(cloudPort, 'cloud')]);
  await waitFor('the uplink online', async () => (await uplinkStatus(local)).state === 'online');
});

after(async () => {
  await Promise.allSettled([local?.close(), cloudA?.close(), cloudB?.close()]);
  await Promise.allSettled([gateway?.stop(), cloud?.stop()]);
  await gate?.shutdown();
  dir.remove();
});

test('a local event goes up with its URI rewritten, args and kwargs intact', async () => {
  const got = await recorder(cloudA, 'site.gw1.sensors.');
  await local.publish('sensors.temp', [21.5, 'C'], { room: 'lab' });
  await waitFor('the event upstream', () => got.length >= 1);
  assert.deepEqual(got[0], { topic: 'site.gw1.sensors.temp', args: [21.5, 'C'] });
});

test('a cloud event comes down rewritten; events forwarded both ways do not loop', async () => {
  const localGot = await recorder(local, 'cmd.');
  await cloudB.publish('site.gw1.cmd.led', ['on']);
  await waitFor('the event downstream', () => localGot.length >= 1);
  assert.deepEqual(localGot[0], { topic: 'cmd.led', args: ['on'] });

  const up = await recorder(cloudA, 'site.gw1.sensors.');
  const down = await recorder(local, 'sensors.');
  await cloudB.publish('site.gw1.sensors.fromcloud', [1]);
  await waitFor('the cloud event locally', () => down.some((e) => e.topic === 'sensors.fromcloud'));
  // Everything the uplink buffered before this sentinel would arrive before it (order holds).
  await local.publish('sensors.sentinel', ['s']);
  await waitFor('the sentinel upstream', () => up.some((e) => e.topic === 'site.gw1.sensors.sentinel'));
  assert.equal(up.filter((e) => e.topic === 'site.gw1.sensors.fromcloud').length, 1, "only the cloud publisher's own event, no echo from the gateway");
  assert.equal(down.filter((e) => e.topic === 'sensors.fromcloud').length, 1);
});

test('calls both ways: the cloud calls a device procedure, a device calls a cloud procedure', async () => {
  await local.register('dev.reboot', (args) => `rebooting in ${String(args[0])}`);
  await cloudB.register('svc.time', (_args, kwargs) => ({ now: 42, tz: kwargs.tz }));
  const up = await cloudA.call('site.gw1.dev.reboot', [5]);
  assert.deepEqual(up.args, ['rebooting in 5']);
  const down = await local.call('cloud.time', [], { tz: 'UTC' });
  assert.deepEqual(down.args, [{ now: 42, tz: 'UTC' }]);
  // An application error crosses the link with its URI.
  await cloudB.register('svc.fail', () => {
    throw new WampError('com.example.nope', ['no']);
  });
  await assert.rejects(local.call('cloud.fail'), (e: WampError) => e.error === 'com.example.nope');
});

async function countOnCloud(kind: 'subscription' | 'registration', uri: string): Promise<number> {
  const id = (await cloudA.call(`wamp.${kind}.lookup`, [uri, { match: 'prefix' }])).args[0];
  if (typeof id !== 'number') return 0;
  return (await cloudA.call(kind === 'subscription' ? 'wamp.subscription.count_subscribers' : 'wamp.registration.count_callees', [id])).args[0] as number;
}

test('after the link drops: offline calls fail fast, and the reconnect restores everything exactly once', async () => {
  const connectsBefore = (await uplinkStatus(local)).connects as number;
  gate.close();
  await waitFor('the uplink offline', async () => (await uplinkStatus(local)).state !== 'online');
  await assert.rejects(local.call('cloud.time'), (e: WampError) => e.error === 'wampgate.error.uplink_offline');
  gate.open();
  await waitFor('the uplink online again', async () => {
    const s = await uplinkStatus(local);
    return s.state === 'online' && (s.connects as number) > connectsBefore;
  });
  await waitFor('the old session gone upstream', async () => (await countOnCloud('subscription', 'site.gw1.cmd.')) === 1);
  assert.equal(await countOnCloud('registration', 'site.gw1.dev.'), 1);

  const localGot = await recorder(local, 'cmd.');
  await cloudB.publish('site.gw1.cmd.once', [1]);
  await cloudB.publish('site.gw1.cmd.sentinel', [2]);
  await waitFor('the sentinel', () => localGot.some((e) => e.topic === 'cmd.sentinel'));
  assert.equal(localGot.filter((e) => e.topic === 'cmd.once').length, 1);
  assert.deepEqual((await cloudA.call('site.gw1.dev.reboot', [1])).args, ['rebooting in 1']);
});

test('a silent link is found dead by pings and replaced; registrations held by the dead session come back', async () => {
  const connectsBefore = (await uplinkStatus(local)).connects as number;
  gate.freeze();
  await waitFor('a new session after the keepalive timeout', async () => {
    const s = await uplinkStatus(local);
    return s.state === 'online' && (s.connects as number) > connectsBefore;
  });
  const localGot = await recorder(local, 'cmd.');
  await cloudB.publish('site.gw1.cmd.after-freeze', [1]);
  await waitFor('events down again', () => localGot.some((e) => e.topic === 'cmd.after-freeze'));
  // The cloud notices the dead session on its own keepalive; the uplink's registration retry then succeeds.
  const r = await waitFor(
    'the device procedure callable again',
    () =>
      cloudA.call('site.gw1.dev.reboot', [2]).then(
        (x) => x,
        () => undefined,
      ),
    WAIT_MS,
    200,
  );
  assert.deepEqual(r.args, ['rebooting in 2']);
  await waitFor('exactly one registration upstream', async () => (await countOnCloud('registration', 'site.gw1.dev.')) === 1);
});

test('stop the cloud router, publish N events, start it again: all N arrive upstream, in order', async () => {
  const N = 500;
  gate.close();
  await Promise.allSettled([cloudA.close(), cloudB.close()]);
  await cloud.stop();
  await waitFor('the uplink offline', async () => (await uplinkStatus(local)).state !== 'online');
  const acceptedBefore = (await uplinkStatus(local)).counters.accepted;
  for (let i = 0; i < N; i++) await local.publish(`sensors.s${i % 3}`, [i]);
  await waitFor('all N buffered', async () => (await uplinkStatus(local)).counters.accepted >= acceptedBefore + N);
  const buffered = await uplinkStatus(local);
  assert.ok(buffered.outbox.count >= N);

  cloud = await startCloud(dir.path, cloudPort, undefined, cloudLimits);
  [cloudA, cloudB] = await Promise.all([connect(cloudPort, 'cloud'), connect(cloudPort, 'cloud')]);
  const got = await recorder(cloudA, 'site.gw1.sensors.');
  gate.open();
  await local.publish('sensors.sentinel', ['end']);
  await waitFor('the sentinel after the backlog', () => got.some((e) => e.args[0] === 'end'));
  const values = got.filter((e) => typeof e.args[0] === 'number').map((e) => e.args[0] as number);
  assert.deepEqual(
    values,
    Array.from({ length: N }, (_, i) => i),
    'every event once, in order',
  );
  // PUBLISHED for the last events may still be on its way: the buffer empties once it arrives.
  const s = await waitFor('the buffer empty', async () => {
    const st = await uplinkStatus(local);
    return st.outbox.count === 0 && st.inflight === 0 ? st : undefined;
  });
  assert.ok(((s.replay as Dict).backlogAtStart as number) >= N);
  assert.equal((s.replay as Dict).active, false);
});
