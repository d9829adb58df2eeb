// The MQTT bridge against a real Mosquitto process (MQTT 5): the shared suite, then a broker
// crash and restart in the middle of a stream (the bridge reconnects, re-subscribes, resumes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { MqttBridge } from '../../../src/bridges/mqtt/mqtt-bridge';
import { resolveMqttBridge } from '../../../src/bridges/mqtt/config';
import { quietLogger } from '../../../src/util/logger';
import { collect, device, freePort, startMosquitto, startRouter, waitFor, wampClient } from './mqtt-helpers';
import { bridgeSuite } from './mqtt-suite';
import { localSessions } from '../../../src/gateway-part';

bridgeSuite('mosquitto/5', 5, () => startMosquitto());

test('mosquitto/5: the bridge reconnects and re-subscribes after a broker restart mid-stream', async (t) => {
  const broker = await startMosquitto();
  const router = await startRouter();
  const bridge = new MqttBridge(
    resolveMqttBridge({
      name: 'restart',
      realm: 'realm1',
      broker: { url: broker.url, protocolVersion: 5, reconnect: { initialDelayMs: 50, maxDelayMs: 300 } },
      topics: [
        { mqtt: 'stream/+', wamp: 'stream.{1}', qos: 1 },
        { mqtt: 'cmd/+', wamp: 'cmd.{1}', qos: 1, direction: 'wamp-to-mqtt' },
      ],
    }),
    { router: localSessions(router), logger: quietLogger },
  );
  const wamp = await wampClient(router);
  // A device streaming one message every 5 ms, reconnecting on its own.
  const pub: MqttClient = await device(broker.url, 5, { reconnectPeriod: 50 });
  let stopStream = false;
  t.after(async () => {
    stopStream = true;
    await bridge.stop();
    pub.end(true);
    await wamp.close();
    await router.close();
    await broker.close();
  });
  await bridge.start();
  const seen: number[] = [];
  await wamp.subscribe('stream.s', (args) => seen.push(args[0] as number));

  let seq = 0;
  const stream = (async () => {
    while (!stopStream) {
      if (pub.connected) pub.publish('stream/s', String(seq++), { qos: 1 });
      await new Promise((r) => setTimeout(r, 5));
    }
  })();

  await waitFor(() => seen.length >= 20, { what: 'the stream before the restart' });
  const connectsBefore = bridge.status().counters.connects;
  await broker.kill();
  await waitFor(() => bridge.status().state === 'reconnecting', { what: 'the bridge to notice' });
  await broker.restart();
  await waitFor(() => bridge.status().state === 'connected' && bridge.status().subscribed, { what: 'reconnected and re-subscribed' });
  assert.equal(bridge.status().counters.connects, connectsBefore + 1);
  const seqAtRestart = seq;
  await waitFor(() => seen.some((s) => s > seqAtRestart + 10), { what: 'the stream after the restart' });

  // WAMP -> MQTT works again too.
  const dev = await device(broker.url, 5);
  const inbox = collect(dev);
  await dev.subscribeAsync('cmd/+', { qos: 1 });
  await wamp.publish('cmd.go', ['now']);
  await waitFor(() => inbox.length === 1, { what: 'the command after the restart' });
  assert.equal(inbox[0]!.topic, 'cmd/go');
  await dev.endAsync();
  stopStream = true;
  await stream;
});

test('mosquitto/5: a broker that is down at start does not block start(); the bridge connects when it appears', async (t) => {
  const port = await freePort();
  const router = await startRouter();
  const bridge = new MqttBridge(
    resolveMqttBridge({
      name: 'late',
      realm: 'realm1',
      broker: { url: `mqtt://127.0.0.1:${port}`, protocolVersion: 5, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
      topics: [{ mqtt: 'late/+', wamp: 'late.{1}' }],
    }),
    { router: localSessions(router), logger: quietLogger },
  );
  const started: { broker?: Awaited<ReturnType<typeof startMosquitto>> } = {};
  t.after(async () => {
    await bridge.stop();
    await router.close();
    await started.broker?.close();
  });
  await bridge.start();
  assert.equal(bridge.status().state, 'reconnecting');
  await waitFor(() => bridge.status().counters.connectFailures >= 2, { what: 'a few failed attempts' });
  started.broker = await startMosquitto(port);
  await waitFor(() => bridge.status().state === 'connected' && bridge.status().subscribed, { what: 'the late connection' });
  assert.equal(bridge.status().state, 'connected');
});
