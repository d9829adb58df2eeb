// The MQTT bridge as a user runs it: a `bridges.mqtt` entry in the config, validated like
// `wampgate check` does, started by the gateway with the parts the CLI wires in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gateway } from '../../../src/gateway';
import { validateConfig } from '../../../src/config/schema';
import { partFactories, configPlugins } from '../../../src/cli/wiring';
import { quietLogger } from '../../../src/util/logger';
import { device, startAedes, waitFor, wampClient } from './mqtt-helpers';

test('a bridges.mqtt config entry runs a bridge: MQTT sensor readings arrive as WAMP events and the part reports its state', async () => {
  const broker = await startAedes();
  const { config, problems } = validateConfig(
    {
      listeners: [],
      // partFactories include the ops part: its status listener must not take the default port
      // 8089 (regression: EADDRINUSE when anything else held it, and then a hang).
      status: { host: '127.0.0.1', port: 0 },
      bridges: {
        mqtt: [
          {
            name: 'field',
            realm: 'realm1',
            broker: { url: broker.url, protocolVersion: 4 },
            topics: [{ mqtt: 'sensors/+/temperature', wamp: 'sensors.{1}.temperature', direction: 'mqtt-to-wamp', codec: 'json' }],
          },
        ],
      },
    },
    configPlugins,
  );
  assert.deepEqual(problems, []);
  let gateway: Gateway | undefined;
  let sensor: Awaited<ReturnType<typeof device>> | undefined;
  try {
    gateway = await Gateway.start(config!, { logger: quietLogger, parts: partFactories });
    sensor = await device(broker.url, 4);
    const app = await wampClient(gateway.router);
    const got: Array<[unknown[], string | undefined]> = [];
    await app.subscribe('sensors..temperature', (args, _kw, details) => got.push([args, details.topic as string | undefined]), { match: 'wildcard' });
    await sensor.publishAsync('sensors/kitchen/temperature', '[21.5]', { qos: 1 });
    await waitFor(() => got.length === 1, { what: 'bridged event' });
    assert.deepEqual(got[0], [[21.5], 'sensors.kitchen.temperature']);
    const status = gateway.partStatus()['mqtt:field']!;
    assert.equal(status.kind, 'mqtt');
    assert.equal(status.state, 'connected');
    assert.equal(status.counters.received, 1);
  } finally {
    // A failed start must still close the broker, or its server keeps the test process alive.
    await sensor?.endAsync();
    await gateway?.stop();
    await broker.close();
  }
});

test('check reports a broken bridges.mqtt entry with its path', () => {
  const { problems } = validateConfig(
    { bridges: { mqtt: [{ name: 'x', realm: 'realm1', broker: { url: 'ftp://nope' }, topics: [] }], zigbee: [] } },
    configPlugins,
  );
  assert.ok(
    problems.some((p) => p.path.startsWith('bridges.mqtt[0].broker')),
    JSON.stringify(problems),
  );
  assert.ok(
    problems.some((p) => p.path === 'bridges.zigbee'),
    JSON.stringify(problems),
  );
});

test('check reports a bridge that names a realm the config does not define', () => {
  const { problems } = validateConfig(
    {
      bridges: {
        mqtt: [{ name: 'x', realm: 'plant', broker: { url: 'mqtt://127.0.0.1:1' }, topics: [{ mqtt: 'a/b', wamp: 'a.b', direction: 'mqtt-to-wamp' }] }],
      },
    },
    configPlugins,
  );
  assert.deepEqual(
    problems.map((p) => p.path),
    ['bridges.mqtt[0].realm'],
  );
});
