// One event the cloud cannot take must not stop the line. The cloud is a second wampgate whose
// message limit is 64 KiB (the gateway's is 1 MiB); one 100 KiB event sits between small ones.
// Over RawSocket the gateway knows the cloud's limit from the handshake and the send fails locally;
// over WebSocket the cloud closes the connection (1009) each time it gets the event. Either way
// it ends as one dead letter (reason too-large) and every other event arrives, in order.
// Regressions: RawSocket stalled with the in-flight window full for good; WebSocket replayed the
// same event after every reconnect with the backoff reset each time.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dict } from '../../../src/protocol/messages';
import { connect, freePort, startCloud, startGateway, tempDir, uplinkStatus, waitFor } from '../../fixtures/uplink-harness';

for (const kind of ['rawsocket', 'websocket'] as const) {
  test(`${kind}: a single oversized event with a 64 KiB cloud limit ends as one dead letter; every other event arrives in order`, async () => {
    const dir = tempDir();
    const [cloudPort, rawPort, gatewayPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const cloud = await startCloud(dir.path, cloudPort, rawPort, { limits: { maxMessageBytes: 64 * 1024, hardMaxMessageBytes: 64 * 1024 } });
    const uplink: Dict = {
      url: kind === 'rawsocket' ? `rawsocket://127.0.0.1:${rawPort}` : `ws://127.0.0.1:${cloudPort}/ws`,
      realm: 'cloud',
      gatewayId: 'gw1',
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      forward: [{ name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' }],
    };
    const gateway = await startGateway(dir.path, gatewayPort, uplink);
    const [local, app] = await Promise.all([connect(gatewayPort, 'realm1'), connect(cloudPort, 'cloud')]);
    try {
      await waitFor('the uplink online', async () => (await uplinkStatus(local)).state === 'online');
      const got: number[] = [];
      await app.subscribe('site.gw1.sensors.t', (args) => got.push(args[0] as number));
      for (let i = 0; i < 200; i++) {
        await local.publish('sensors.t', i === 100 ? [i, 'x'.repeat(100 * 1024)] : [i], {}, { acknowledge: true });
      }
      const expected = Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 100);
      await waitFor(`199 events at the cloud (got ${got.length})`, () => got.length >= 199);
      await waitFor('the buffer empty', async () => (await uplinkStatus(local)).outbox.count === 0);
      assert.deepEqual(got, expected);
      const s = (await uplinkStatus(local)) as unknown as { outbox: { deadLetters: { count: number; moved: Dict } }; connects: number };
      assert.equal(s.outbox.deadLetters.count, 1);
      assert.equal(s.outbox.deadLetters.moved['too-large'], 1);
      if (kind === 'rawsocket') assert.equal(s.connects, 1, 'the link never dropped: the send failed locally');

      const listed = await local.call('wampgate.uplink.dead_letters');
      const letters = listed.kwargs.deadLetters as Array<Dict & { args: unknown[] }>;
      assert.equal(listed.kwargs.count, 1);
      assert.equal(letters.length, 1);
      assert.equal(letters[0]?.topic, 'site.gw1.sensors.t');
      assert.equal(letters[0]?.reason, 'too-large');
      assert.equal(letters[0]?.args[0], 100);
      assert.equal(letters[0]?.attempts, 3);

      // Retry: it is still too large, so it comes back as a dead letter; the line keeps going.
      assert.deepEqual((await local.call('wampgate.uplink.retry_dead_letters', [[letters[0]?.seq]])).kwargs, { requeued: 1 });
      await local.publish('sensors.t', [200], {}, { acknowledge: true });
      await waitFor('the event after the retried one', () => got.includes(200));
      await waitFor('the retried event dead again', async () => {
        const st = (await uplinkStatus(local)) as unknown as { outbox: { count: number; deadLetters: { count: number } } };
        return st.outbox.count === 0 && st.outbox.deadLetters.count === 1;
      });
      await assert.rejects(local.call('wampgate.uplink.purge_dead_letters'), /invalid_argument/);
      assert.deepEqual((await local.call('wampgate.uplink.purge_dead_letters', [], { all: true })).kwargs, { purged: 1 });
      assert.equal(((await local.call('wampgate.uplink.dead_letters')).kwargs.deadLetters as unknown[]).length, 0);
      assert.equal(got.filter((n) => n === 100).length, 0, 'the oversized event never reached the cloud');
    } finally {
      await Promise.allSettled([local.close(), app.close()]);
      await Promise.allSettled([gateway.stop(), cloud.stop()]);
      dir.remove();
    }
  });
}
