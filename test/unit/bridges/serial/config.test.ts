// validateSerialBridges: every problem is reported at once with its path, per mode; and the
// documented examples stay valid.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateSerialBridges } from '../../../../src/bridges/serial/config';
import { LineRules } from '../../../../src/bridges/serial/line-rules';
import { frameWelcomeBytes } from '../../../../src/bridges/serial/welcome-size';

const line = {
  name: 'sensor1',
  path: '/dev/serial/by-id/usb-a',
  mode: 'line',
  realm: 'realm1',
  rules: [{ match: '^T=(?<v>.*)$', topic: 'sensors.{port}.t', args: ['{v:number}'] }],
};
const frame = {
  name: 'dev1',
  path: '/dev/serial/by-id/usb-b',
  mode: 'frame',
  realm: 'realm1',
  authid: 'dev1',
  authrole: 'device',
  baudRate: 57600,
  parity: 'even',
  stopBits: 1.5,
  dataBits: 7,
  maxFrameBytes: 256,
};

test('valid line and frame ports give no problems', () => {
  assert.deepEqual(validateSerialBridges([line, frame], 'bridges.serial', ['realm1']), []);
  assert.deepEqual(validateSerialBridges([], 'bridges.serial'), []);
});

test('every problem with its path', () => {
  const problems = validateSerialBridges(
    [
      { ...frame, name: 'bad name', baudRate: 12345, dataBits: 9, parity: 'odd-ish', stopBits: 3, authid: '', maxFrameBytes: 8, rules: [] },
      {
        mode: 'line',
        realm: 'nope',
        rules: [{ topic: 'x' }],
        maxLineBytes: 0,
        unmatchedTopic: 'wamp.x',
        writeProcedure: 'a b',
        lineEnding: '\r',
        reopen: { minMs: 5, maxMs: 1, x: 1 },
      },
      { ...line, path: frame.path, name: 'dev1' },
      { ...frame, mode: 'stream', authrole: undefined },
      'not an object',
    ],
    'bridges.serial',
    ['realm1'],
  );
  const paths = problems.map((p) => p.path);
  assert.deepEqual(paths, [
    'bridges.serial[0].rules',
    'bridges.serial[0].name',
    'bridges.serial[0].baudRate',
    'bridges.serial[0].dataBits',
    'bridges.serial[0].parity',
    'bridges.serial[0].stopBits',
    'bridges.serial[0].authid',
    'bridges.serial[0].maxFrameBytes',
    'bridges.serial[1].name',
    'bridges.serial[1].path',
    'bridges.serial[1].reopen.x',
    'bridges.serial[1].reopen.minMs',
    'bridges.serial[1].reopen.maxMs',
    'bridges.serial[1].realm',
    'bridges.serial[1].rules[0].match',
    'bridges.serial[1].maxLineBytes',
    'bridges.serial[1].unmatchedTopic',
    'bridges.serial[1].writeProcedure',
    'bridges.serial[1].lineEnding',
    'bridges.serial[2].path',
    'bridges.serial[3].mode',
    'bridges.serial[3].name',
    'bridges.serial[3].path',
    'bridges.serial[4]',
  ]);
  assert.match(problems.find((p) => p.path === 'bridges.serial[0].rules')!.message, /unknown key for mode "frame"/);
  assert.match(problems.find((p) => p.path === 'bridges.serial[1].realm')!.message, /no realm "nope"/);
});

test('frame mode needs realm, authid and authrole; line mode needs rules', () => {
  const paths = validateSerialBridges(
    [
      { name: 'a', path: '/dev/x', mode: 'frame' },
      { name: 'b', path: '/dev/y', mode: 'line', realm: 'r' },
    ],
    's',
  ).map((p) => p.path);
  assert.deepEqual(paths, ['s[0].realm', 's[0].authid', 's[0].authrole', 's[1].rules']);
  assert.deepEqual(
    validateSerialBridges({}, 's').map((p) => p.path),
    ['s'],
  );
});

test('a maxFrameBytes below the WELCOME the device would get is a config error naming the size it needs', () => {
  const welcome = frameWelcomeBytes({ realm: 'realm1', authid: 'dev1', authrole: 'device' });
  // realm, authid, authrole, authmethod, authprovider, broker/dealer roles, agent, a 9-byte ID.
  assert.ok(welcome > 100 && welcome < 200, String(welcome));
  assert.deepEqual(validateSerialBridges([{ ...frame, maxFrameBytes: welcome }], 's'), []);
  const problems = validateSerialBridges([{ ...frame, maxFrameBytes: welcome - 1 }], 's');
  assert.deepEqual(
    problems.map((p) => p.path),
    ['s[0].maxFrameBytes'],
  );
  assert.match(problems[0]!.message, new RegExp(`is ${welcome - 1}, but the WELCOME .* up to ${welcome} CBOR bytes.*never join; use at least ${welcome}`));
  // Longer names make a longer WELCOME: the check follows the port's identity.
  const long = { ...frame, authid: 'a'.repeat(200), maxFrameBytes: 256 };
  assert.match(validateSerialBridges([long], 's')[0]!.message, /use at least 3\d\d/);
  // The default (1024) leaves room for ordinary names.
  const { maxFrameBytes: _omit, ...withDefault } = frame;
  assert.deepEqual(validateSerialBridges([withDefault], 's'), []);
});

test('the examples in docs/serial-bridge.md are valid and map as the text says', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../../../../docs/serial-bridge.md'), 'utf8');
  const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as { bridges?: { serial?: unknown } });
  const serial = blocks.filter((b) => b.bridges?.serial !== undefined);
  assert.equal(serial.length, 2);
  for (const b of serial) assert.deepEqual(validateSerialBridges(b.bridges!.serial, 'bridges.serial', ['realm1']), []);
  const greenhouse = (serial[0]!.bridges!.serial as Array<{ rules: unknown[] }>)[0]!;
  const rules = LineRules.compile(greenhouse.rules);
  assert.deepEqual(rules.map('T=21.5', 'greenhouse'), {
    kind: 'publish',
    rule: 0,
    topic: 'sensors.greenhouse.temperature',
    args: [21.5],
    kwargs: { unit: 'C' },
    options: { retain: true },
  });
  assert.deepEqual(rules.map('{"type":"env","kind":"humidity","value":"41"}', 'greenhouse'), {
    kind: 'publish',
    rule: 2,
    topic: 'sensors.greenhouse.humidity',
    args: [41],
    options: {},
  });
  assert.deepEqual(rules.map('relay2=on', 'greenhouse'), { kind: 'publish', rule: 1, topic: 'sensors.greenhouse.relay.2', args: [true], options: {} });
  assert.deepEqual(rules.map('BOOT v1.2', 'greenhouse'), { kind: 'unmatched', reason: 'not JSON' });
});
