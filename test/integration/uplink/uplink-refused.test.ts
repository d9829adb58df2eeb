// An event the cloud refuses with ERROR must not stop the line either. The cloud is a second
// wampgate whose realm lets the gateway publish under site.gw1.sensors. except on one topic
// (not_authorized there). The refused event is sent maxAttempts (3) times, then it is one dead
// letter with reason `refused` and the cloud's error; every other event arrives, in order, and the
// link never dropped.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dict } from '../../../src/protocol/messages';
import { connect, freePort, startCloud, startGateway, tempDir, uplinkStatus, waitFor } from '../../fixtures/uplink-harness';

test('an event the cloud answers with ERROR not_authorized: 3 attempts, one dead letter (refused), the others in order', async () => {
  const dir = tempDir();
  const [cloudPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
  const roles = [
    {
      name: 'anonymous',
      permissions: [
        { uri: 'site.', match: 'prefix', allow: { publish: true, subscribe: true, call: true, register: true } },
        { uri: 'site.gw1.sensors.secret', match: 'exact', allow: { publish: false, subscribe: true } },
      ],
    },
  ];
  const cloud = await startCloud(dir.path, cloudPort, undefined, { realms: [{ name: 'cloud', roles }] });
  const uplink: Dict = {
    url: `ws://127.0.0.1:${cloudPort}/ws`,
    realm: 'cloud',
    gatewayId: 'gw1',
    reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
    forward: [{ name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' }],
  };
  const gateway = await startGateway(dir.path, gatewayPort, uplink);
  const [local, app] = await Promise.all([connect(gatewayPort, 'realm1'), connect(cloudPort, 'cloud')]);
  try {
    await waitFor('the uplink online', async () => (await uplinkStatus(local)).state === 'online');
    const got: Array<[string, number]> = [];
    await app.subscribe('site.gw1.sensors.', (args, _kw, details) => got.push([String(details.topic), args[0] as number]), { match: 'prefix' });
    for (let i = 0; i < 100; i++) await local.publish(i === 50 ? 'sensors.secret' : 'sensors.t', [i], {}, { acknowledge: true });
    const expected = Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 50);
    await waitFor(`99 events at the cloud (got ${got.length})`, () => got.length >= 99);
    await waitFor('the buffer empty', async () => (await uplinkStatus(local)).outbox.count === 0);
    assert.deepEqual(
      got.map(([, n]) => n),
      expected,
      'every other event, in order',
    );
    assert.ok(
      got.every(([topic]) => topic === 'site.gw1.sensors.t'),
      'the refused topic never reached the cloud',
    );
    const s = (await uplinkStatus(local)) as unknown as {
      connects: number;
      counters: { rejectedUp: number; publishedUp: number };
      outbox: { deadLetters: { count: number; moved: Dict } };
    };
    assert.equal(s.counters.rejectedUp, 3, 'bounded: maxAttempts (3) ERRORs, then given up');
    assert.equal(s.counters.publishedUp, 99);
    assert.equal(s.outbox.deadLetters.count, 1);
    assert.deepEqual(s.outbox.deadLetters.moved, { 'too-large': 0, 'not-encodable': 0, refused: 1, 'link-closed': 0 });
    assert.equal(s.connects, 1, 'an ERROR never drops the link');

    const letters = (await local.call('wampgate.uplink.dead_letters')).kwargs.deadLetters as Array<Dict & { args: unknown[] }>;
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.reason, 'refused');
    assert.equal(letters[0]?.topic, 'site.gw1.sensors.secret');
    assert.deepEqual(letters[0]?.args, [50]);
    assert.equal(letters[0]?.attempts, 3);
    assert.match(String(letters[0]?.error), /wamp\.error\.not_authorized/);

    // Once more on the same topic: still refused, logged once per reason (not per event).
    await local.publish('sensors.secret', [100], {}, { acknowledge: true });
    await local.publish('sensors.t', [101], {}, { acknowledge: true });
    await waitFor('the event behind the second refused one', () => got.some(([, n]) => n === 101));
    await waitFor(
      'two dead letters',
      async () => ((await uplinkStatus(local)) as unknown as { outbox: { deadLetters: { count: number } } }).outbox.deadLetters.count === 2,
    );
    const warnings = gateway.output.filter((l) => /dead letters/.test(l) && /refused/.test(l));
    assert.equal(warnings.length, 1, `one WARN line for reason refused:\n${warnings.join('\n')}`);
  } finally {
    await Promise.allSettled([local.close(), app.close()]);
    await Promise.allSettled([gateway.stop(), cloud.stop()]);
    dir.remove();
  }
});
