// The direct MessagePack and CBOR writers for plain values must give exactly the bytes of the
// general paths (msgpackr / cbor-x, then integers written as integers) for every plain value, and
// decline everything else so the general path decides (and refuses what cannot be carried).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cborSerializer, encodeGeneralCbor } from '../../../src/serializers/cbor';
import { encodeGeneralMsgpack, msgpackSerializer } from '../../../src/serializers/msgpack';
import { encodePlainCbor, encodePlainMsgpack } from '../../../src/serializers/plain-writer';

const formats = [
  { name: 'msgpack', plain: encodePlainMsgpack, general: encodeGeneralMsgpack },
  { name: 'cbor', plain: encodePlainCbor, general: encodeGeneralCbor },
];

function same(v: unknown, what: string): void {
  for (const f of formats) {
    const plain = f.plain(v);
    assert.ok(plain, `${f.name}, ${what}: written directly`);
    assert.equal(plain.toString('hex'), f.general(v).toString('hex'), `${f.name}, ${what}`);
  }
}

test('numbers at every width boundary of both formats, both signs, and beyond 2^53', () => {
  const edges = [
    0,
    -0,
    1,
    31,
    32,
    127,
    128,
    255,
    256,
    65535,
    65536,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1,
    2 ** 52 + 0.5,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 53 + 2,
    2 ** 60,
    2 ** 64,
    -1,
    -31,
    -32,
    -33,
    -127,
    -128,
    -129,
    -32768,
    -32769,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -(2 ** 32),
    -(2 ** 53),
    -(2 ** 53) - 2,
    1.5,
    -1.5,
    0.1,
    1e300,
    -1e-300,
    5e-324,
    Number.MAX_VALUE,
    1764979200000,
    4503599627370001,
  ];
  for (const n of edges) same([n, { n }], `number ${n}`);
});

test('strings of every header size, ASCII, multi-byte, astral; lone surrogates', () => {
  const counts = [0, 1, 7, 8, 10, 11, 21, 23, 24, 31, 32, 63, 64, 85, 86, 255, 256, 21845, 21846, 65535, 65536];
  for (const unit of ['a', 'é', '€', '😀', 'a😀b']) for (const count of counts) same(unit.repeat(count), `${JSON.stringify(unit)} x ${count}`);
  // msgpackr writes a lone surrogate as U+FFFD, cbor-x as its three raw bytes: MessagePack's is
  // written directly, CBOR's is left to cbor-x so its bytes stay what they were.
  for (const unit of ['\ud800', 'a\udc00b', '😀\ud83d'])
    for (const count of [1, 30, 100]) {
      const v = unit.repeat(count);
      assert.equal(encodePlainMsgpack(v)?.toString('hex'), encodeGeneralMsgpack(v).toString('hex'));
      assert.equal(encodePlainCbor(v), undefined);
      assert.equal(cborSerializer.encode([v]).toString('hex'), encodeGeneralCbor([v]).toString('hex'));
    }
});

test('lists and maps of every header size, nesting, null and undefined as nil', () => {
  for (const n of [0, 15, 16, 65535, 65536]) {
    same(
      Array.from({ length: n }, (_, i) => i % 3),
      `list of ${n}`,
    );
    same(Object.fromEntries(Array.from({ length: Math.min(n, 70000) }, (_, i) => [`k${i}`, i])), `map of ${n}`);
  }
  same({ a: undefined, b: null, c: [undefined, null, true, false], d: { e: { f: [[]] } } }, 'nil forms and nesting');
  same(Object.assign(Object.create(null) as object, { x: 1 }), 'an object without a prototype');
});

test('any JSON value: the same bytes as the general path', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => same(v, JSON.stringify(v))),
    { numRuns: 2000 },
  );
});

test('anything not plain is declined, and the serializer still encodes or refuses it as before', () => {
  class Reading {
    v = 1;
  }
  const declined: Array<[unknown, string]> = [
    [[1n], 'BigInt'],
    [[new Uint8Array([1, 2])], 'byte string'],
    [[Buffer.from('x')], 'Buffer'],
    [[NaN], 'NaN'],
    [[Infinity], 'Infinity'],
    [[new Date(0)], 'Date'],
    [[new Map()], 'Map'],
    [[new Reading()], 'a class instance'],
    [[Symbol('s')], 'a symbol'],
  ];
  let deep: unknown = 1;
  for (let i = 0; i < 600; i++) deep = [deep];
  declined.push([deep, 'nesting beyond 512']);
  for (const f of formats) for (const [v, what] of declined) assert.equal(f.plain(v), undefined, `${f.name}: ${what}`);
  // The serializer takes the general path for them: a 64-bit BigInt is written, a class refused.
  assert.equal(msgpackSerializer.encode([2n ** 63n]).toString('hex'), encodeGeneralMsgpack([2n ** 63n]).toString('hex'));
  assert.throws(() => msgpackSerializer.encode([new Reading()]), /MessagePack|msgpack/i);
  const wide = [2n ** 63n, new Uint8Array([1]), NaN];
  assert.equal(cborSerializer.encode(wide).toString('hex'), encodeGeneralCbor(wide).toString('hex'));
  // After a decline, the next plain value is written from a clean start.
  same(['after', 1], 'a value after a declined one');
});
