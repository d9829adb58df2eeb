import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mqttPartStatus } from '../../../src/bridges/mqtt/part';
import type { MqttBridgeStatus } from '../../../src/bridges/mqtt/mqtt-bridge';
import { bridgeStatus, serviceParts, uplinkStatus } from '../../../src/ops/gateway-status';
import { uplinkPartStatus } from '../../../src/uplink/part';
import type { UplinkStatus as UplinkOwnStatus } from '../../../src/uplink/uplink';
import { redactUrl } from '../../../src/util/redact-url';

const mqtt = (state: MqttBridgeStatus['state'], lastError?: string): MqttBridgeStatus => {
  const s = {
    name: 'greenhouse',
    broker: 'mqtt://broker.local:1883',
    state,
    since: '2024-01-02T03:04:05.000Z',
    subscribed: false,
    wamp: 'joined',
    counters: { received: 3, published: 1 },
  } as unknown as MqttBridgeStatus;
  if (lastError !== undefined) s.lastError = lastError;
  return s;
};

test('an MQTT bridge maps its link states into the one vocabulary and becomes a `bridges` entry', () => {
  const p = mqttPartStatus(mqtt('reconnecting', 'ECONNREFUSED'));
  assert.deepEqual(bridgeStatus(p), {
    name: 'greenhouse',
    kind: 'mqtt',
    state: 'connecting',
    since: Date.parse('2024-01-02T03:04:05.000Z'),
    lastError: 'ECONNREFUSED',
    counters: { received: 3, published: 1 },
    traffic: { in: ['received'], out: ['published'] },
  });
  assert.deepEqual(
    (['connecting', 'connected', 'reconnecting', 'stopped'] as const).map((s) => mqttPartStatus(mqtt(s)).state),
    ['connecting', 'connected', 'connecting', 'stopped'],
  );
  assert.equal(mqttPartStatus(mqtt('connected')).lastError, null);
  assert.equal(mqttPartStatus(mqtt('connected')).detail && (mqttPartStatus(mqtt('connected')).detail as MqttBridgeStatus).wamp, 'joined');
});

function uplinkOwn(state: UplinkOwnStatus['state']): UplinkOwnStatus {
  return {
    state,
    since: 5,
    lastError: null,
    url: 'wss://user:secret@cloud.example.com/ws',
    realm: 'cloud',
    remoteSession: null,
    connects: 1,
    failedAttempts: 0,
    gatewayId: 'gw',
    inflight: 0,
    outbox: {
      count: 7,
      bytes: 70,
      oldestSeq: 1,
      oldestAgeMs: 2500,
      nextSeq: 8,
      appended: 9,
      acked: 2,
      drops: { 'max-count': 2, 'disk-full': 1 },
      dropsBySource: {},
      diskFull: false,
      deadLetters: { count: 1, bytes: 10, moved: { rejected: 1 } },
    },
    replay: { active: true, backlogAtStart: 7, acked: 2, untilSeq: 7 },
    counters: { accepted: 9 },
  } as unknown as UplinkOwnStatus;
}

test('the uplink maps online/offline into the one vocabulary; its buffer is converted and credentials are stripped', () => {
  assert.deepEqual(uplinkStatus(uplinkPartStatus(uplinkOwn('online'))), {
    state: 'connected',
    since: 5,
    lastError: null,
    url: 'wss://cloud.example.com/ws',
    realm: 'cloud',
    buffer: { depth: 7, bytes: 70, oldestAgeSeconds: 2.5, drops: 3, deadLetters: { count: 1, moved: { rejected: 1 } } },
    replay: { active: true, backlogAtStart: 7, acked: 2 },
  });
  assert.deepEqual(
    (['connecting', 'online', 'offline', 'stopped'] as const).map((s) => uplinkPartStatus(uplinkOwn(s)).state),
    ['connecting', 'connected', 'disconnected', 'stopped'],
  );
  assert.equal(redactUrl('not a url //u:p@host'), 'not a url //host');
});

test('service parts are the ones neither bridge nor uplink, in start order', () => {
  const base = { since: null, lastError: null, counters: {} };
  const parts = {
    'mqtt:a': { ...base, kind: 'mqtt', role: 'bridge' as const, name: 'a', state: 'connected' as const },
    uplink: { ...base, kind: 'uplink', role: 'uplink' as const, name: 'uplink', state: 'connected' as const },
    x: { ...base, kind: 'x', role: 'service' as const, name: 'x', state: 'error' as const },
    ops: { ...base, kind: 'ops', role: 'service' as const, name: 'ops', state: 'connected' as const },
  };
  assert.deepEqual(
    serviceParts({ parts }).map((p) => p.name),
    ['x', 'ops'],
  );
  assert.deepEqual(serviceParts({}), []);
});
