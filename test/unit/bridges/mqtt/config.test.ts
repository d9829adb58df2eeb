import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateMqttBridge } from '../../../../src/bridges/mqtt/config';

const good = {
  name: 'plant',
  realm: 'realm1',
  broker: { url: 'mqtt://127.0.0.1:1883', protocolVersion: 5 },
  topics: [{ mqtt: 'sensors/+/temperature', wamp: 'sensors.{1}.temperature', qos: 1 }],
  rpc: [{ direction: 'wamp-to-mqtt', mqtt: 'devices/+/reboot', wamp: 'devices.{1}.reboot', timeoutMs: 2000 }],
};

test('a good config has no problems', () => {
  assert.deepEqual(validateMqttBridge(good, 'bridges.mqtt[0]'), []);
});

test('every problem is reported at once, each with its path', () => {
  const problems = validateMqttBridge(
    {
      name: '',
      realm: 'realm1',
      broker: { url: 'http://x', protocolVersion: 3, tls: { cert: 'c.pem' }, colour: 'red' },
      topics: [
        { mqtt: 'a/#/b', wamp: 'x.{1}', qos: 3 },
        { mqtt: 'a/+', wamp: 'x.{2}', codec: 'xml', direction: 'sideways' },
        { mqtt: '#', wamp: '{1}', direction: 'both' },
      ],
      rpc: [{ direction: 'wamp-to-mqtt', mqtt: 'd/+', wamp: 'd.{1}', mode: 'mqtt5', timeoutMs: 0 }],
    },
    'bridges.mqtt[1]',
  );
  const paths = problems.map((p) => p.path);
  for (const expected of [
    'bridges.mqtt[1].name',
    'bridges.mqtt[1].broker.url',
    'bridges.mqtt[1].broker.protocolVersion',
    'bridges.mqtt[1].broker.tls',
    'bridges.mqtt[1].broker.colour',
    'bridges.mqtt[1].topics[0].mqtt',
    'bridges.mqtt[1].topics[0].qos',
    'bridges.mqtt[1].topics[1].wamp',
    'bridges.mqtt[1].topics[1].codec',
    'bridges.mqtt[1].topics[1].direction',
    'bridges.mqtt[1].topics[2].wamp',
    'bridges.mqtt[1].rpc[0].timeoutMs',
  ]) {
    assert.ok(paths.includes(expected), `missing ${expected} in ${JSON.stringify(problems, null, 1)}`);
  }
});

test('mqtt5 RPC mode on an MQTT 3.1.1 connection is a config error', () => {
  const problems = validateMqttBridge({ ...good, broker: { url: 'mqtt://h', protocolVersion: 4 }, rpc: [{ ...good.rpc[0], mode: 'mqtt5' }] }, 'b');
  assert.deepEqual(
    problems.map((p) => p.path),
    ['b.rpc[0].mode'],
  );
});

test('a bridge with no rules is a config error', () => {
  assert.deepEqual(
    validateMqttBridge({ name: 'n', realm: 'r', broker: { url: 'mqtt://h' } }, 'b').map((p) => p.path),
    ['b'],
  );
});
