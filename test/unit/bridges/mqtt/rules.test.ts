// Compiling an MQTT bridge's rules: directions split into inbound and outbound, RPC rules each
// way, and the subscriptions they need (noLocal on MQTT 5, the highest QoS per filter).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRules } from '../../../../src/bridges/mqtt/rules';
import { resolveMqttBridge, type MqttBridgeConfig } from '../../../../src/bridges/mqtt/config';

const config: MqttBridgeConfig = {
  name: 'b',
  realm: 'realm1',
  broker: { url: 'mqtt://127.0.0.1:1' },
  topics: [
    { mqtt: 'sensors/+/temp', wamp: 'sensors.{1}.temp' },
    { mqtt: 'sensors/+/temp', wamp: 'sensors.{1}.temp', qos: 1 },
    { mqtt: 'cmd/+', wamp: 'cmd.{1}', direction: 'wamp-to-mqtt' },
    { mqtt: 'both/+', wamp: 'both.{1}', direction: 'both' },
  ],
  rpc: [
    { direction: 'wamp-to-mqtt', mqtt: 'dev/+/get', wamp: 'dev.{1}.get' },
    { direction: 'mqtt-to-wamp', mqtt: 'ask/+', wamp: 'svc.{1}' },
  ],
};

test('MQTT 5: rules split by direction, one subscription per filter at the highest QoS with noLocal, replies on the bridge topic', () => {
  const rules = compileRules(resolveMqttBridge({ ...config, broker: { ...config.broker, protocolVersion: 5 } }), 'wampgate/rpc-reply/me');
  assert.equal(rules.inbound.length, 3);
  assert.equal(rules.outbound.length, 2);
  assert.equal(rules.rpcOut.length, 1);
  assert.equal(rules.rpcIn.length, 1);
  assert.equal(rules.rpcOut[0]?.mode, 'mqtt5');
  assert.deepEqual(Object.fromEntries(rules.subscriptions), {
    'sensors/+/temp': { qos: 1, nl: true, rap: true },
    'both/+': { qos: 0, nl: true, rap: true },
    'wampgate/rpc-reply/me': { qos: 1, nl: true },
    'ask/+': { qos: 1, nl: true },
  });
});

test('MQTT 3.1.1: topic-pair RPC subscribes to the reply and request topics with the id level', () => {
  const rules = compileRules(resolveMqttBridge({ ...config, broker: { ...config.broker, protocolVersion: 4 } }), 'unused');
  assert.equal(rules.rpcOut[0]?.mode, 'topic-pair');
  assert.deepEqual(Object.fromEntries(rules.subscriptions), {
    'sensors/+/temp': { qos: 1 },
    'both/+': { qos: 0 },
    'dev/+/get/reply/+': { qos: 1 },
    'ask/+/+': { qos: 1 },
  });
});
