import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidUri } from '../../../../src/protocol/uri';
import { compileTopicMapping, escapeLevel, TopicMappingError, unescapeComponent } from '../../../../src/bridges/mqtt/topic-mapping';

// Levels that MQTT allows in a topic name, biased towards the awkward ones: empty, dots, '#'
// is not allowed in a topic name but '%', whitespace of every kind and non-ASCII are.
const awkward = fc.constantFrom(
  '',
  '.',
  '..',
  '%',
  '%25',
  '%2E',
  ' ',
  '\t',
  '\n',
  '\u00a0',
  '\u2028',
  '\ufeff',
  'a.b',
  'x y',
  'é',
  '😀',
  '$SYS',
  '{1}',
  '%%',
  '%zz',
);
const plain = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
const anyChars = fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => s.replace(/[/+#\u0000]/g, ''));
const level = fc.oneof(awkward, plain, anyChars);
const levels = (min: number, max: number) => fc.array(level, { minLength: min, maxLength: max });

test('escapeLevel gives one loose WAMP component and unescapeComponent inverts it', () => {
  fc.assert(
    fc.property(level, (l) => {
      const c = escapeLevel(l);
      assert.ok(isValidUri(c, 'loose'), `"${c}" from ${JSON.stringify(l)} is not a loose component`);
      assert.equal(unescapeComponent(c), l);
    }),
    { numRuns: 2000 },
  );
});

test('escaping: the documented examples', () => {
  assert.equal(escapeLevel(''), '%');
  assert.equal(escapeLevel('a.b'), 'a%2Eb');
  assert.equal(escapeLevel('50%'), '50%25');
  assert.equal(escapeLevel('room 1'), 'room%201');
  assert.equal(escapeLevel('caf\u00e9'), 'caf\u00e9');
  assert.equal(unescapeComponent('room%201'), 'room 1');
  assert.equal(unescapeComponent('a%2eb'), 'a.b', 'lower-case hex is accepted');
  assert.equal(unescapeComponent('%zz'), undefined, 'a percent not followed by two hex digits');
  assert.equal(unescapeComponent('a%2Fb'), undefined, "decodes to '/': names no single MQTT level");
  assert.equal(unescapeComponent('a+b'), undefined, "'+' is not allowed in an MQTT topic name");
  assert.equal(unescapeComponent('%C3'), undefined, 'invalid UTF-8');
});

test('single-level captures: MQTT -> WAMP -> MQTT round-trips, the URI is loose-valid', () => {
  const m = compileTopicMapping({ mqtt: 'sensors/+/room/+/temperature', wamp: 'sensors.{2}.{1}.temperature' });
  fc.assert(
    fc.property(level, level, (a, b) => {
      const topic = `sensors/${a}/room/${b}/temperature`;
      const uri = m.mqttToWamp(topic);
      assert.ok(uri !== undefined);
      assert.ok(isValidUri(uri, 'loose'), uri);
      assert.equal(uri, `sensors.${escapeLevel(b)}.${escapeLevel(a)}.temperature`, 'captures land where the template says');
      assert.equal(m.wampToMqtt(uri), topic);
    }),
    { numRuns: 1000 },
  );
});

test("'#' capture: any number of levels (zero included) round-trips", () => {
  const m = compileTopicMapping({ mqtt: 'home/+/#', wamp: 'home.{1}.all.{2}' });
  fc.assert(
    fc.property(level, levels(0, 6), (room, rest) => {
      const topic = ['home', room, ...rest].join('/');
      const uri = m.mqttToWamp(topic);
      assert.ok(uri !== undefined, topic);
      assert.ok(isValidUri(uri, 'loose'), uri);
      assert.equal(m.wampToMqtt(uri), topic);
    }),
    { numRuns: 1000 },
  );
});

test('a whole filter of wildcards round-trips arbitrary topics', () => {
  const m = compileTopicMapping({ mqtt: '+/#', wamp: 'mqtt.{1}.{2}' });
  fc.assert(
    fc.property(levels(1, 8), (ls) => {
      const topic = ls.join('/');
      fc.pre(!topic.startsWith('$') && topic.length > 0);
      const uri = m.mqttToWamp(topic);
      assert.ok(uri !== undefined, JSON.stringify(topic));
      assert.equal(m.wampToMqtt(uri), topic);
    }),
    { numRuns: 1000 },
  );
});

test('topics that do not match the filter map to nothing', () => {
  const m = compileTopicMapping({ mqtt: 'sensors/+/temperature', wamp: 'sensors.{1}.temperature' });
  assert.equal(m.mqttToWamp('sensors/a/humidity'), undefined);
  assert.equal(m.mqttToWamp('sensors/a/b/temperature'), undefined);
  assert.equal(m.mqttToWamp('sensors/temperature'), undefined);
  assert.equal(m.wampToMqtt('sensors.a.humidity'), undefined);
  assert.equal(m.wampToMqtt('sensors.a.b.temperature'), undefined);
  const all = compileTopicMapping({ mqtt: '#', wamp: 'all.{1}' });
  assert.equal(all.mqttToWamp('$SYS/broker/uptime'), undefined, "MQTT §4.7.2: wildcards do not match '$' topics");
  assert.equal(all.mqttToWamp('a/b'), 'all.a.b');
});

test('wampSubscription: exact, wildcard or prefix by the template', () => {
  assert.deepEqual(compileTopicMapping({ mqtt: 'a/b', wamp: 'x.y' }).wampSubscription(), { uri: 'x.y', match: 'exact' });
  assert.deepEqual(compileTopicMapping({ mqtt: 'a/+/b/+', wamp: 'x.{1}.y.{2}' }).wampSubscription(), { uri: 'x..y.', match: 'wildcard' });
  assert.deepEqual(compileTopicMapping({ mqtt: 'a/+/#', wamp: 'x.y.{1}.{2}' }).wampSubscription(), { uri: 'x.y.', match: 'prefix' });
  assert.equal(compileTopicMapping({ mqtt: '#', wamp: '{1}' }).wampSubscription(), undefined);
});

test('bad rules are rejected with the side at fault', () => {
  const bad: Array<[string, string, 'mqtt' | 'wamp']> = [
    ['a/#/b', 'x.{1}', 'mqtt'],
    ['a/b+', 'x', 'mqtt'],
    ['', 'x', 'mqtt'],
    ['a/+', 'x.{2}', 'wamp'],
    ['a/+', 'x', 'wamp'],
    ['a/+', 'x.{1}.{1}', 'wamp'],
    ['a/+', 'x.y{1}', 'wamp'],
    ['a', 'x..y', 'wamp'],
    ['a', 'x y', 'wamp'],
  ];
  for (const [mqtt, wamp, field] of bad) {
    assert.throws(
      () => compileTopicMapping({ mqtt, wamp }),
      (err: unknown) => err instanceof TopicMappingError && err.field === field,
      `${mqtt} <-> ${wamp}`,
    );
  }
});

test('WAMP URIs whose components name no MQTT level are not mapped', () => {
  const m = compileTopicMapping({ mqtt: 'actuators/+/set', wamp: 'actuators.{1}.set' });
  assert.equal(m.wampToMqtt('actuators.lamp%2F1.set'), undefined);
  assert.equal(m.wampToMqtt('actuators.%zz.set'), undefined);
  assert.equal(m.wampToMqtt('actuators.lamp 1.set'), 'actuators/lamp 1/set', 'decoding is lenient about what is already a valid level');
  assert.equal(m.wampToMqtt('actuators.%.set'), 'actuators//set');
});
