// The line-mode rule language (src/bridges/serial/line-rules.ts): examples for each feature and
// property tests for what must hold for any line: map never throws, captures round-trip through
// typed placeholders, and a captured value can never add or remove topic components.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidUri } from '../../../../src/protocol/uri';
import { checkLineRules, LineRules, type LineMapping } from '../../../../src/bridges/serial/line-rules';
import { LineRuleError, parseJsonPath } from '../../../../src/bridges/serial/line-templates';

const temperature = { match: '^T=(?<value>-?\\d+(\\.\\d+)?)$', topic: 'sensors.{port}.temperature', args: ['{value:number}'] };
const jsonKind = { json: true, topic: 'sensors.{port}.{$.kind}' };

function publish(m: LineMapping): Extract<LineMapping, { kind: 'publish' }> {
  assert.equal(m.kind, 'publish', JSON.stringify(m));
  return m as Extract<LineMapping, { kind: 'publish' }>;
}

test('a text rule maps a captured number to a typed arg on a templated topic', () => {
  const rules = LineRules.compile([temperature]);
  assert.deepEqual(rules.map('T=21.5', 'kitchen'), { kind: 'publish', rule: 0, topic: 'sensors.kitchen.temperature', args: [21.5], options: {} });
  assert.deepEqual(rules.map('T=-3', 'kitchen').kind, 'publish');
  assert.deepEqual(rules.map('H=40', 'kitchen'), { kind: 'unmatched', reason: 'no rule matched' });
});

test('without args a text rule publishes the line; a JSON object becomes kwargs, another value args[0]', () => {
  const rules = LineRules.compile([{ match: '^hello', topic: 'x.{port}' }, jsonKind, { json: true, topic: 'raw.{port}' }]);
  assert.deepEqual(publish(rules.map('hello world', 'p')).args, ['hello world']);
  const obj = publish(rules.map('{"kind":"temp","v":2}', 'p'));
  assert.equal(obj.topic, 'sensors.p.temp');
  assert.deepEqual(obj.args, []);
  assert.deepEqual(obj.kwargs, { kind: 'temp', v: 2 });
  // No "kind": the first JSON rule is skipped (topic placeholder missing), the second takes it.
  const arr = publish(rules.map('[1,2]', 'p'));
  assert.equal(arr.topic, 'raw.p');
  assert.deepEqual(arr.args, [[1, 2]]);
});

test('JSON paths, where filters, nested templates, retain and literal braces', () => {
  const rules = LineRules.compile([
    {
      json: true,
      where: { '$.type': 'env', '$.ok': true },
      topic: 'env.{port}.{$.room}',
      args: ['{$.readings[0]}', '{$.readings[1]:int}'],
      kwargs: { unit: 'C', raw: '{line}', label: '{{{$.room}}} at {port}', nested: { first: '{$.readings[0]:string}' }, missing: '{$.nope}' },
      retain: true,
    },
  ]);
  const m = publish(rules.map('{"type":"env","ok":true,"room":"hall","readings":[20.5,"41"]}', 'dev1'));
  assert.equal(m.topic, 'env.dev1.hall');
  assert.deepEqual(m.args, [20.5, 41]);
  assert.deepEqual(m.kwargs, {
    unit: 'C',
    raw: '{"type":"env","ok":true,"room":"hall","readings":[20.5,"41"]}',
    label: '{hall} at dev1',
    nested: { first: '20.5' },
    missing: null,
  });
  assert.deepEqual(m.options, { retain: true });
  assert.equal(rules.map('{"type":"other","ok":true,"room":"hall","readings":[1,2]}', 'dev1').kind, 'unmatched');
  assert.deepEqual(rules.map('not json', 'dev1'), { kind: 'unmatched', reason: 'not JSON' });
});

test('types: bool words, int, json, numbered groups, optional groups give null', () => {
  const rules = LineRules.compile([
    { match: '^R(\\d)=(\\w+)(?:;(?<extra>\\{.*\\}))?$', flags: 'i', topic: 'relay.{1}', args: ['{2:bool}'], kwargs: { extra: '{extra:json}' } },
  ]);
  assert.deepEqual(publish(rules.map('R1=on', 'p')).args, [true]);
  assert.deepEqual(publish(rules.map('r2=No', 'p')).args, [false]);
  assert.deepEqual(publish(rules.map('R3=1;{"a":1}', 'p')).kwargs, { extra: { a: 1 } });
  assert.deepEqual(publish(rules.map('R3=1', 'p')).kwargs, { extra: null });
  const bad = rules.map('R1=maybe', 'p');
  assert.equal(bad.kind, 'unmatched');
  assert.match((bad as { reason: string }).reason, /not a boolean/);
  const notInt = LineRules.compile([{ match: '^N=(?<n>.*)$', topic: 'n', args: ['{n:int}'] }]).map('N=2.5', 'p');
  assert.match((notInt as { reason: string }).reason, /not an integer/);
});

test('the first rule that applies wins, and a skipped rule lets later rules try', () => {
  const rules = LineRules.compile([
    { match: '^T=(?<v>.*)$', topic: 'a', args: ['{v:number}'] },
    { match: '^T=', topic: 'b' },
    { match: '^T=1', topic: 'c' },
  ]);
  assert.equal(publish(rules.map('T=1', 'p')).topic, 'a');
  assert.equal(publish(rules.map('T=x', 'p')).topic, 'b');
});

test('a captured value with a dot, space or # is refused in a topic, and wamp. topics are reserved', () => {
  const rules = LineRules.compile([{ match: '^(?<room>.*)=', topic: 'room.{room}' }]);
  for (const line of ['a.b=1', 'a b=1', 'a#=1', '=1']) {
    const m = rules.map(line, 'p');
    assert.equal(m.kind, 'unmatched', line);
  }
  assert.equal(publish(rules.map('hall=1', 'p')).topic, 'room.hall');
  assert.equal(LineRules.compile([{ match: '^(?<x>.*)$', topic: '{x}.a' }]).map('wamp', 'p').kind, 'unmatched');
});

test('compile errors name the field at fault', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ topic: 'a' }, /^\[0\]\.match$/],
    [{ match: '(', topic: 'a' }, /^\[0\]\.match$/],
    [{ match: 'a', json: true, topic: 'a' }, /^\[0\]\.match$/],
    [{ match: 'a', topic: 'a..b' }, /^\[0\]\.topic$/],
    [{ match: 'a', topic: 'wamp.x' }, /^\[0\]\.topic$/],
    [{ match: 'a', topic: 'a.{nope}' }, /^\[0\]\.topic$/],
    [{ match: '(a)', topic: 'a.{2}' }, /^\[0\]\.topic$/],
    [{ match: 'a', topic: 'a', args: ['{$.x}'] }, /^\[0\]\.args\[0\]$/],
    [{ match: 'a', topic: 'a', args: ['{line:float}'] }, /^\[0\]\.args\[0\]$/],
    [{ match: 'a', topic: 'a', kwargs: { k: 'x}' } }, /^\[0\]\.kwargs\.k$/],
    [{ match: 'a', topic: 'a', flags: 'g' }, /^\[0\]\.flags$/],
    [{ json: true, topic: 'a', where: { kind: 'x' } }, /^\[0\]\.where\.kind$/],
    [{ match: '(?<port>a)', topic: 'a' }, /^\[0\]\.match$/],
    [{ match: 'a', topic: 'a', colour: 'red' }, /^\[0\]\.colour$/],
  ];
  for (const [spec, field] of cases) {
    assert.throws(
      () => LineRules.compile([spec]),
      (err: unknown) => err instanceof LineRuleError && field.test(err.field),
      JSON.stringify(spec),
    );
  }
  assert.deepEqual(
    checkLineRules([temperature, { topic: 'a' }, { match: 'x', topic: 'a b' }], 'bridges.serial[0].rules').map((p) => p.path),
    ['bridges.serial[0].rules[1].match', 'bridges.serial[0].rules[2].topic'],
  );
});

test('parseJsonPath', () => {
  assert.deepEqual(parseJsonPath('$'), []);
  assert.deepEqual(parseJsonPath('$.a.b-c[2].d_e'), ['a', 'b-c', 2, 'd_e']);
  assert.equal(parseJsonPath('$.'), undefined);
  assert.equal(parseJsonPath('a'), undefined);
  assert.equal(parseJsonPath('$[x]'), undefined);
});

// ---- properties ---------------------------------------------------------------------------

const mixedRules = LineRules.compile([
  temperature,
  jsonKind,
  { match: '^(?<room>[^=]*)=(?<v>.*)$', topic: 'room.{room}', args: ['{v:number}'], kwargs: { raw: '{line}' } },
  { json: true, where: { '$.t': 1 }, topic: 't.{$.n:int}' },
]);

test('property: map never throws and every topic it returns is a valid, non-reserved URI', () => {
  const line = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 60 }),
    fc.json().map((j) => j),
    fc.string({ maxLength: 20 }).map((s) => `${s}=${s}`),
    fc
      .record({ kind: fc.string({ maxLength: 8 }), t: fc.constantFrom(1, 2), n: fc.oneof(fc.integer(), fc.double(), fc.string()) })
      .map((o) => JSON.stringify(o)),
  );
  fc.assert(
    fc.property(line, fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), (l, port) => {
      const m = mixedRules.map(l, port);
      if (m.kind === 'publish') {
        assert.ok(isValidUri(m.topic, 'loose'), m.topic);
        assert.ok(!m.topic.startsWith('wamp.'));
      } else assert.equal(typeof m.reason, 'string');
    }),
    { numRuns: 2000 },
  );
});

test('property: a number printed by a sensor comes back as the same number', () => {
  const rules = LineRules.compile([{ match: '^T=(?<value>\\S+)$', topic: 'sensors.{port}.temperature', args: ['{value:number}'] }]);
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
      const m = publish(rules.map(`T=${n}`, 'p'));
      assert.ok(Object.is(m.args[0], n) || (n === 0 && m.args[0] === 0));
    }),
  );
});

test('property: a captured value adds no topic component; it is either exactly one component or the line is unmatched', () => {
  const rules = LineRules.compile([{ match: '^(?<room>[^=]*)=', topic: 'room.{room}.t' }]);
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !s.includes('=')),
      (room) => {
        const m = rules.map(`${room}=1`, 'p');
        if (m.kind === 'publish') {
          assert.equal(m.topic.split('.').length, 3);
          assert.equal(m.topic, `room.${room}.t`);
        } else assert.ok(room === '' || /[\s.#]/.test(room), JSON.stringify(room));
      },
    ),
  );
});

test('property: JSON objects route by a field and arrive unchanged as kwargs', () => {
  const kind = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
  fc.assert(
    fc.property(kind, fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { maxKeys: 5 }), (k, rest) => {
      const obj = { ...rest, kind: k };
      const m = publish(LineRules.compile([jsonKind]).map(JSON.stringify(obj), 'p'));
      assert.equal(m.topic, `sensors.p.${k}`);
      assert.deepEqual(m.kwargs, JSON.parse(JSON.stringify(obj)));
    }),
  );
});

test('property: template strings without braces are literal, and doubled braces are single braces', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), (s) => {
      const literal = s.replace(/[{}]/g, '');
      const escaped = s.replace(/\{/g, '{{').replace(/\}/g, '}}');
      const m = publish(LineRules.compile([{ match: '', topic: 'a', args: [literal, escaped], kwargs: { k: escaped } }]).map('x', 'p'));
      assert.deepEqual(m.args, [literal, s]);
      assert.deepEqual(m.kwargs, { k: s });
    }),
  );
});
