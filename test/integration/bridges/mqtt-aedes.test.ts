// The MQTT bridge against aedes in-process (MQTT 3.1.1): the shared suite, then packet ids
// wrapping past 65,535 QoS 1 messages on one connection, in both directions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MqttBridge } from '../../../src/bridges/mqtt/mqtt-bridge';
import { resolveMqttBridge } from '../../../src/bridges/mqtt/config';
import { quietLogger } from '../../../src/util/logger';
import { device, startAedes, startRouter, waitFor, wampClient } from './mqtt-helpers';
import { bridgeSuite } from './mqtt-suite';
import { localSessions } from '../../../src/gateway-part';

bridgeSuite('aedes/3.1.1', 4, startAedes);

test('aedes/3.1.1: more than 65,535 QoS 1 messages on one connection, both ways, none lost', async (t) => {
  const N = 70_000;
  const broker = await startAedes();
  const router = await startRouter();
  const bridge = new MqttBridge(
    resolveMqttBridge({
      name: 'bulk',
      realm: 'realm1',
      broker: { url: broker.url, protocolVersion: 4 },
      topics: [
        { mqtt: 'up/+', wamp: 'up.{1}', qos: 1 },
        { mqtt: 'down/+', wamp: 'down.{1}', qos: 1, direction: 'wamp-to-mqtt' },
      ],
    }),
    { router: localSessions(router), logger: quietLogger },
  );
  const wamp = await wampClient(router);
  t.after(async () => {
    await bridge.stop();
    await wamp.close();
    await router.close();
    await broker.close();
  });
  await bridge.start();

  // WAMP -> bridge -> MQTT: the bridge's own packet ids wrap.
  const sink = await device(broker.url, 4);
  let down = 0;
  let lastSeq = -1;
  let outOfOrder = 0;
  sink.on('message', (_topic, payload) => {
    const seq = Number(payload.toString());
    if (seq !== lastSeq + 1) outOfOrder++;
    lastSeq = seq;
    down++;
  });
  await sink.subscribeAsync('down/+', { qos: 1 });
  const batch = 5000;
  for (let i = 0; i < N; i += batch) {
    for (let j = i; j < Math.min(N, i + batch); j++) void wamp.publish('down.x', [j]);
    await waitFor(() => down >= Math.min(N, i + batch), { timeoutMs: 20_000, what: `${i + batch} messages down` });
  }
  assert.equal(down, N);
  assert.equal(outOfOrder, 0);
  assert.equal(bridge.status().counters.dropped, 0);

  // MQTT -> bridge -> WAMP: the broker's packet ids towards the bridge wrap.
  let up = 0;
  await wamp.subscribe('up.x', () => up++);
  const source = await device(broker.url, 4);
  for (let i = 0; i < N; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, N - i) }, (_, k) => source.publishAsync('up/x', String(i + k), { qos: 1 })));
  }
  await waitFor(() => up === N, { timeoutMs: 20_000, what: `${N} WAMP events` });
  assert.equal(bridge.status().counters.received, N);
  await source.endAsync();
  await sink.endAsync();
});
