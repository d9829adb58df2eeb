// The MQTT bridge behaviour every broker must show, run against aedes (MQTT 3.1.1) and
// Mosquitto (MQTT 5) by mqtt-aedes.test.ts and mqtt-mosquitto.test.ts: mappings both ways, every
// codec, each QoS, retained messages, RPC both ways with timeout, bad payloads, loop prevention.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { Result, type WampClient } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import type { Router } from '../../../src/core/router';
import { quietLogger } from '../../../src/util/logger';
import { MqttBridge } from '../../../src/bridges/mqtt/mqtt-bridge';
import type { MqttBridgeConfig } from '../../../src/bridges/mqtt/config';
import { resolveMqttBridge } from '../../../src/bridges/mqtt/config';
import { codecNames, type CodecName } from '../../../src/bridges/mqtt/payload-codecs';
import { collect, device, retainedEvents, startRouter, waitFor, wampClient, type Received, type TestBroker } from './mqtt-helpers';
import { localSessions } from '../../../src/gateway-part';

export function bridgeConfig(url: string, version: 4 | 5): MqttBridgeConfig {
  return {
    name: `suite-v${version}`,
    realm: 'realm1',
    broker: { url, protocolVersion: version, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
    topics: [
      { mqtt: 'sensors/+/temperature', wamp: 'sensors.{1}.temperature', qos: 1 },
      { mqtt: 'actuators/+/set', wamp: 'actuators.{1}.set', direction: 'wamp-to-mqtt', qos: 1 },
      { mqtt: 'tree/#', wamp: 'tree.{1}', direction: 'both' },
      ...codecNames.map((codec) => ({ mqtt: `codec/${codec}/+`, wamp: `codec.${codec}.{1}`, codec, direction: 'both' as const, qos: 1 as const })),
      ...([0, 1, 2] as const).map((qos) => ({ mqtt: `qos/${qos}/+`, wamp: `qos.${qos}.{1}`, qos, direction: 'both' as const })),
      { mqtt: 'state/+', wamp: 'state.{1}', qos: 1 },
      { mqtt: 'config/+', wamp: 'config.{1}', direction: 'wamp-to-mqtt', retain: true, qos: 1 },
    ],
    rpc: [
      { direction: 'wamp-to-mqtt', mqtt: 'devices/+/cmd', wamp: 'devices.{1}.cmd', timeoutMs: 5000 },
      { direction: 'wamp-to-mqtt', mqtt: 'silent/+', wamp: 'silent.{1}', timeoutMs: 200 },
      { direction: 'mqtt-to-wamp', mqtt: 'rpc/+/add', wamp: 'math.{1}.add' },
    ],
  };
}

interface WampEvent {
  args: unknown[];
  kwargs: Record<string, unknown>;
  details: Record<string, unknown>;
}

async function events(client: WampClient, topic: string, options: Record<string, unknown> = {}): Promise<WampEvent[]> {
  const out: WampEvent[] = [];
  await client.subscribe(topic, (args, kwargs, details) => out.push({ args, kwargs, details }), options);
  return out;
}

/** Device-side bytes for a value, per codec: written without the bridge's codec module. */
function deviceBytes(codec: CodecName, value: unknown): Buffer {
  const cbor = require('cbor-x') as { encode(v: unknown): Buffer };

  const { pack } = require('msgpackr') as { pack(v: unknown): Buffer };
  switch (codec) {
    case 'json':
      return Buffer.from(JSON.stringify(value));
    case 'text':
      return Buffer.from(String(value));
    case 'raw':
      return Buffer.isBuffer(value) ? value : Buffer.from(String(value));
    case 'cbor':
      return cbor.encode(value);
    case 'msgpack':
      return pack(value);
  }
}

export function bridgeSuite(label: string, version: 4 | 5, startBroker: () => Promise<TestBroker>): void {
  let broker: TestBroker;
  let router: Router;
  let bridge: MqttBridge;
  let wamp: WampClient;
  let dev: MqttClient;
  let inbox: Received[];

  before(async () => {
    broker = await startBroker();
    router = await startRouter();
    dev = await device(broker.url, version);
    inbox = collect(dev);
    // Published before the bridge exists: the bridge must receive it as a retained message.
    await dev.publishAsync('state/door', JSON.stringify({ open: true }), { qos: 1, retain: true });
    bridge = new MqttBridge(resolveMqttBridge(bridgeConfig(broker.url, version)), { router: localSessions(router), logger: quietLogger });
    await bridge.start();
    assert.equal(bridge.status().state, 'connected');
    assert.equal(bridge.status().subscribed, true);
    wamp = await wampClient(router);
  });

  after(async () => {
    await bridge.stop();
    await dev.endAsync();
    await wamp.close();
    await router.close();
    await broker.close();
  });

  test(`${label}: MQTT -> WAMP with a captured level`, async () => {
    const got = await events(wamp, 'sensors..temperature', { match: 'wildcard' });
    await dev.publishAsync('sensors/kitchen/temperature', '21.5', { qos: 1 });
    await waitFor(() => got.length === 1, { what: 'the WAMP event' });
    assert.deepEqual(got[0]!.args, [21.5]);
    assert.equal(got[0]!.details.topic, 'sensors.kitchen.temperature');
  });

  test(`${label}: awkward MQTT levels arrive escaped and go back unescaped`, async () => {
    const got = await events(wamp, 'tree.', { match: 'prefix' });
    await dev.subscribeAsync('tree/#', { qos: 0 });
    await dev.publishAsync('tree/a.b/room 1//x', '{"n":1}', { qos: 0 });
    await waitFor(() => got.length === 1, { what: 'the escaped event' });
    assert.equal(got[0]!.details.topic, 'tree.a%2Eb.room%201.%.x');
    assert.deepEqual(got[0]!.kwargs, { n: 1 });
    const before = inbox.length;
    await wamp.publish('tree.50%25.%.end', [1]);
    await waitFor(() => inbox.slice(before).some((m) => m.topic === 'tree/50%//end'), { what: 'the unescaped MQTT topic' });
  });

  test(`${label}: WAMP -> MQTT with a captured level`, async () => {
    await dev.subscribeAsync('actuators/+/set', { qos: 2 });
    await wamp.publish('actuators.lamp%201.set', [], { on: true });
    await waitFor(() => inbox.some((m) => m.topic === 'actuators/lamp 1/set'), { what: 'the MQTT message' });
    const m = inbox.find((x) => x.topic === 'actuators/lamp 1/set')!;
    assert.deepEqual(JSON.parse(m.payload.toString()), { on: true });
    assert.equal(m.qos, 1, 'the rule QoS');
  });

  for (const codec of codecNames) {
    test(`${label}: codec ${codec} both ways, and no loop through the two-way rule`, async () => {
      const value = codec === 'raw' ? Buffer.from([0, 1, 254, 255]) : codec === 'text' ? 'hello wörld' : { t: 21.5, tags: ['a', 'b'] };
      const inbound = await events(wamp, `codec.${codec}.in`);
      await dev.publishAsync(`codec/${codec}/in`, deviceBytes(codec, value), { qos: 1 });
      await waitFor(() => inbound.length === 1, { what: `the ${codec} event` });
      const e = inbound[0]!;
      if (codec === 'raw') assert.deepEqual(Buffer.from(e.args[0] as Uint8Array), value);
      else if (codec === 'text') assert.deepEqual(e.args, [value]);
      else assert.deepEqual(e.kwargs, value);

      // WAMP -> MQTT; another WAMP subscriber on the same topic must see it exactly once
      // (the bridge does not re-import its own MQTT message).
      const watcher = await wampClient(router, 'watcher');
      const seen = await events(watcher, `codec.${codec}.out`);
      await dev.subscribeAsync(`codec/${codec}/out`, { qos: 1 });
      const suppressedBefore = bridge.status().counters.loopsSuppressed;
      const before = inbox.length;
      if (codec === 'raw') await wamp.publish(`codec.${codec}.out`, [value]);
      else if (codec === 'text') await wamp.publish(`codec.${codec}.out`, [value]);
      else await wamp.publish(`codec.${codec}.out`, [], value as Record<string, unknown>);
      await waitFor(() => inbox.slice(before).some((m) => m.topic === `codec/${codec}/out`), { what: `the ${codec} MQTT message` });
      const m = inbox.slice(before).find((x) => x.topic === `codec/${codec}/out`)!;
      assert.deepEqual(m.payload, deviceBytes(codec, value));
      // A marker after it: whatever the broker echoed to the bridge came before the marker.
      const marker = await events(watcher, `codec.${codec}.marker`);
      await dev.publishAsync(`codec/${codec}/marker`, codec === 'raw' || codec === 'text' ? 'm' : deviceBytes(codec, 1), { qos: 1 });
      await waitFor(() => marker.length === 1, { what: 'the marker' });
      assert.equal(seen.length, 1, 'the WAMP event once, never re-imported from MQTT');
      if (version === 4) assert.equal(bridge.status().counters.loopsSuppressed, suppressedBefore + 1, 'the 3.1.1 loop guard caught the echo');
      await watcher.close();
    });
  }

  for (const qos of [0, 1, 2] as const) {
    test(`${label}: QoS ${qos} both ways`, async () => {
      const got = await events(wamp, `qos.${qos}.in`);
      await dev.publishAsync(`qos/${qos}/in`, JSON.stringify(qos), { qos });
      await waitFor(() => got.length === 1, { what: 'the WAMP event' });
      assert.deepEqual(got[0]!.args, [qos]);
      await dev.subscribeAsync(`qos/${qos}/out`, { qos: 2 });
      await wamp.publish(`qos.${qos}.out`, ['x']);
      await waitFor(() => inbox.some((m) => m.topic === `qos/${qos}/out`), { what: 'the MQTT message' });
      assert.equal(inbox.find((m) => m.topic === `qos/${qos}/out`)!.qos, qos);
    });
  }

  test(`${label}: a retained MQTT message becomes a retained WAMP event`, async () => {
    // The bridge got the retained message when it subscribed, before start() resolved.
    await waitFor(() => bridge.status().counters.wampPublished > 0, { what: 'the bridge to publish it' });
    const got = await retainedEvents(router, 'state.door');
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.kwargs, { open: true });
    assert.equal(got[0]!.details.retained, true);
  });

  test(`${label}: a WAMP -> MQTT rule with retain leaves a retained MQTT message`, async () => {
    const before = bridge.status().counters.published;
    await wamp.publish('config.interval', [30]);
    // QoS 1: counted once the broker acknowledged it, so the retained copy is stored by then.
    await waitFor(() => bridge.status().counters.published > before, { what: 'the acknowledged publish' });
    const late = await device(broker.url, version);
    const got = collect(late);
    await late.subscribeAsync('config/+', { qos: 1 });
    await waitFor(() => got.some((m) => m.topic === 'config/interval'), { what: 'the retained MQTT message' });
    const m = got.find((x) => x.topic === 'config/interval')!;
    assert.equal(m.retain, true);
    assert.deepEqual(JSON.parse(m.payload.toString()), 30);
    await late.endAsync();
  });

  test(`${label}: RPC WAMP -> MQTT device`, async () => {
    const responder = await device(broker.url, version);
    if (version === 5) {
      await responder.subscribeAsync('devices/+/cmd', { qos: 1 });
      responder.on('message', (topic, payload, packet) => {
        const [a, b] = JSON.parse(payload.toString()) as [number, number];
        const props = packet.properties ?? {};
        responder.publish(props.responseTopic!, JSON.stringify({ device: topic.split('/')[1], product: a * b }), {
          qos: 1,
          properties: { correlationData: props.correlationData! },
        });
      });
    } else {
      await responder.subscribeAsync('devices/+/cmd/+', { qos: 1 });
      responder.on('message', (topic, payload) => {
        const [, dev1, , id] = topic.split('/');
        const [a, b] = JSON.parse(payload.toString()) as [number, number];
        responder.publish(`devices/${dev1}/cmd/reply/${id}`, JSON.stringify({ device: dev1, product: a * b }), { qos: 1 });
      });
    }
    const results = await Promise.all([wamp.call('devices.pump1.cmd', [6, 7]), wamp.call('devices.pump2.cmd', [2, 3])]);
    assert.deepEqual(
      results.map((r) => r.kwargs),
      [
        { device: 'pump1', product: 42 },
        { device: 'pump2', product: 6 },
      ],
    );
    await responder.endAsync();
  });

  test(`${label}: RPC WAMP -> MQTT without a reply answers with wampgate.error.mqtt_timeout`, async () => {
    const before = bridge.status().counters.rpcTimeouts;
    await assert.rejects(wamp.call('silent.x', [1]), (err: unknown) => err instanceof WampError && err.error === 'wampgate.error.mqtt_timeout');
    assert.equal(bridge.status().counters.rpcTimeouts, before + 1);
  });

  test(`${label}: RPC MQTT device -> WAMP procedure`, async () => {
    const callee = await wampClient(router, 'callee');
    await callee.register('math.int.add', (args) => new Result([(args[0] as number) + (args[1] as number)]));
    await callee.register('math.bad.add', () => {
      throw new WampError('app.error.overflow', ['too big']);
    });
    const requester = await device(broker.url, version);
    const replies = collect(requester);
    if (version === 5) {
      await requester.subscribeAsync('dev/replies', { qos: 1 });
      await requester.publishAsync('rpc/int/add', '[2,40]', { qos: 1, properties: { responseTopic: 'dev/replies', correlationData: Buffer.from('c1') } });
      await requester.publishAsync('rpc/bad/add', '[1,1]', { qos: 1, properties: { responseTopic: 'dev/replies', correlationData: Buffer.from('c2') } });
      await waitFor(() => replies.length === 2, { what: 'two replies' });
      const ok = replies.find((r) => Buffer.from(r.properties?.correlationData as Buffer).toString() === 'c1')!;
      const bad = replies.find((r) => Buffer.from(r.properties?.correlationData as Buffer).toString() === 'c2')!;
      assert.deepEqual(JSON.parse(ok.payload.toString()), 42);
      assert.deepEqual((bad.properties?.userProperties as Record<string, string>)['wamp-error'], 'app.error.overflow');
      assert.deepEqual(JSON.parse(bad.payload.toString()), 'too big');
    } else {
      await requester.subscribeAsync('rpc/+/add/reply/+', { qos: 1 });
      await requester.publishAsync('rpc/int/add/r1', '[2,40]', { qos: 1 });
      await requester.publishAsync('rpc/bad/add/r2', '[1,1]', { qos: 1 });
      await waitFor(() => replies.length === 2, { what: 'two replies' });
      assert.deepEqual(JSON.parse(replies.find((r) => r.topic === 'rpc/int/add/reply/r1')!.payload.toString()), 42);
      assert.deepEqual(JSON.parse(replies.find((r) => r.topic === 'rpc/bad/add/reply/r2')!.payload.toString()), {
        error: 'app.error.overflow',
        args: ['too big'],
        kwargs: {},
      });
    }
    assert.ok(bridge.status().counters.rpcServed >= 1);
    await requester.endAsync();
    await callee.close();
  });

  test(`${label}: a payload that does not decode is counted and the bridge goes on`, async () => {
    const got = await events(wamp, 'sensors.hall.temperature');
    const before = bridge.status().counters.decodeErrors;
    await dev.publishAsync('sensors/hall/temperature', '{not json', { qos: 1 });
    await dev.publishAsync('sensors/hall/temperature', '19', { qos: 1 });
    await waitFor(() => got.length === 1, { what: 'the good event after the bad one' });
    assert.deepEqual(got[0]!.args, [19]);
    assert.equal(bridge.status().counters.decodeErrors, before + 1);
    assert.equal(bridge.status().state, 'connected');
  });
}
