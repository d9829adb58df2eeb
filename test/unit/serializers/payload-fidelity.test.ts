// Exact payloads (issue 9): integers beyond 2^53 in every serializer, JSON's own big-integer
// reading and writing, cutting a payload out of a frame and writing it behind a new head, and
// the values a serializer refuses with NotRepresentable instead of changing them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cborSerializer } from '../../../src/serializers/cbor';
import { parseJson, stringifyJson } from '../../../src/serializers/exact-json';
import { jsonSerializer } from '../../../src/serializers/json';
import { msgpackSerializer } from '../../../src/serializers/msgpack';
import { NotRepresentable } from '../../../src/serializers/not-representable';
import { serializers } from '../../../src/serializers/index';

/** The integers of the issue: every one must arrive as exactly this value. */
export const edgeIntegers: Array<number | bigint> = [
  0,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2 ** 53,
  -(2 ** 53),
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 64n - 1n,
  1558266424841951553n,
];

function same(a: unknown, b: unknown): boolean {
  // A number and a BigInt of the same integer value are the same WAMP integer.
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    return Number.isInteger(a) || typeof a === 'bigint' ? BigInt(a) === BigInt(b) : a === b;
  }
  return a === b;
}

for (const s of serializers) {
  test(`${s.name}: every edge integer survives encode/decode exactly, in args and kwargs`, () => {
    const decoded = s.decode(s.encode([16, 1, {}, 'a.b', edgeIntegers, { n: 2n ** 64n - 1n, m: -(2n ** 63n) }])) as unknown[];
    const args = decoded[4] as unknown[];
    edgeIntegers.forEach((v, i) => assert.ok(same(args[i], v), `${s.name}: ${String(v)} came back as ${String(args[i])}`));
    const kwargs = decoded[5] as Record<string, unknown>;
    assert.equal(kwargs.n, 2n ** 64n - 1n);
    assert.equal(kwargs.m, -(2n ** 63n));
  });

  test(`${s.name}: each edge integer alone in a frame decodes exactly (guards the fast paths that skip BigInt when no integer can reach 2^53)`, () => {
    for (const v of edgeIntegers) {
      const decoded = (s.decode(s.encode([16, 1, {}, 'a.b', [v, 1764979200000]])) as unknown[])[4] as unknown[];
      assert.ok(
        same(decoded[0], v) && typeof decoded[0] === (BigInt(v) > 2n ** 53n || BigInt(v) < -(2n ** 53n) ? 'bigint' : 'number'),
        `${s.name}: ${String(v)} came back as ${String(decoded[0])}`,
      );
      assert.equal(decoded[1], 1764979200000);
    }
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (v) => {
        const decoded = (s.decode(s.encode([v])) as unknown[])[0];
        return same(decoded, v) && (typeof decoded === 'bigint') === (v > 2n ** 53n || v < -(2n ** 53n));
      }),
    );
  });

  test(`${s.name}: integers up to 2^53 decode as numbers, beyond as BigInt`, () => {
    const decoded = s.decode(s.encode([2 ** 53, -(2 ** 53), 2n ** 53n + 1n, 5])) as unknown[];
    assert.deepEqual(decoded, [2 ** 53, -(2 ** 53), 2n ** 53n + 1n, 5]);
  });

  test(`${s.name}: tail() cuts the payload out and encodeWithTail() writes it behind a new head`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer(), fc.string(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.constant(null)), { maxLength: 5 }),
        fc.option(
          fc.dictionary(
            fc.string({ maxLength: 4 }).filter((k) => k !== '__proto__'),
            fc.integer(),
            { maxKeys: 3, noNullPrototype: true },
          ),
          {
            nil: undefined,
          },
        ),
        fc.dictionary(
          fc.string({ maxLength: 4 }).filter((k) => k !== '__proto__'),
          fc.string({ maxLength: 8 }),
          { maxKeys: 3, noNullPrototype: true },
        ),
        (args, kwargs, options) => {
          const payload: unknown[] = kwargs ? [args, kwargs] : [args];
          const frame = s.encode([16, 2 ** 40 + 7, options, 'com.example.topic', ...payload]);
          const tail = s.tail(frame, 4);
          const out = s.encodeWithTail([36, 9, 2 ** 53, { topic: 'x' }], tail, payload.length);
          const expected = s.decode(s.encode([36, 9, 2 ** 53, { topic: 'x' }, ...payload]));
          assert.deepStrictEqual(s.decode(out), expected);
        },
      ),
      { numRuns: 300 },
    );
  });
}

test('msgpack and cbor: an unsigned 64-bit integer is re-encoded as an integer, not a float64 (issue 9: 1b15a0130eae1f5941)', () => {
  const cborIn = Buffer.from('1b15a0130eae1f5941', 'hex');
  const value = cborSerializer.decode(Buffer.concat([Buffer.from([0x81]), cborIn])) as unknown[];
  assert.equal(value[0], 1558266424841951553n);
  assert.equal(cborSerializer.encode(value).subarray(1).toString('hex'), '1b15a0130eae1f5941');
  const packed = msgpackSerializer.encode(value);
  assert.equal(packed.subarray(1).toString('hex'), 'cf15a0130eae1f5941');
  assert.equal((msgpackSerializer.decode(packed) as unknown[])[0], 1558266424841951553n);
});

test('msgpack: a payload integer from 2^32 to 2^63 that crossed from JSON or CBOR, or was re-encoded, is written as uint64 like a MessagePack sender writes it; negatives stay int64', () => {
  const fromJson = jsonSerializer.decode(Buffer.from('[16,1,{},"a.b",[4294967296,1764979200000,9223372036854775807,-4294967297],{"n":9007199254740993}]'));
  const packed = msgpackSerializer.encode(fromJson as unknown[]);
  const hex = packed.toString('hex');
  assert.ok(hex.includes('cf0000000100000000'), hex);
  assert.ok(hex.includes('cf0000019af0f55000'), hex);
  assert.ok(hex.includes('cf7fffffffffffffff'), hex);
  assert.ok(hex.includes('d3fffffffeffffffff'), hex);
  assert.ok(hex.includes('cf0020000000000001'), hex);
  // A MessagePack sender's uint64 frame, decoded and encoded again (a testament, an uplink copy),
  // comes back byte for byte.
  assert.ok(msgpackSerializer.encode(msgpackSerializer.decode(packed) as unknown[]).equals(packed));
  assert.deepEqual(msgpackSerializer.decode(packed), fromJson);
});

test('cbor: a bignum (tag 2) that fits 53 bits decodes as a number (node-cbor, hence AutobahnJS, writes 5n so)', () => {
  assert.deepEqual(cborSerializer.decode(Buffer.from('82c24105c3410a', 'hex')), [5, -11]);
});

test("msgpack and cbor: every integer beyond 32 bits is written with an integer type, floats stay floats, and all read back exactly (the in-place rewrite of the encoders' float64)", () => {
  const intType = { msgpack: [0xcf, 0xd3], cbor: [0x1b, 0x3b] } as const;
  const floatType = { msgpack: 0xcb, cbor: 0xfb } as const;
  const large = fc.oneof(
    fc.integer({ min: 2 ** 32, max: 2 ** 53 }),
    fc.integer({ min: -(2 ** 53), max: -(2 ** 32) - 1 }),
    fc.constantFrom(2 ** 53, -(2 ** 53), 2 ** 32, -(2 ** 32) - 1),
  );
  const real = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Number.isInteger(v) || Math.abs(v) > 2 ** 53);
  fc.assert(
    fc.property(large, real, fc.string(), (n, f, s) => {
      for (const ser of [msgpackSerializer, cborSerializer]) {
        // A record as a gateway carries it, inside a tag too for CBOR (its content is walked).
        const value = [n, { t: n, v: f, s }, f];
        const frame = ser.encode(value);
        assert.deepEqual(ser.decode(frame), value, ser.name);
        // The integer alone: its type byte is an integer type.
        const alone = ser.encode([n]);
        assert.ok((intType[ser.name as 'msgpack' | 'cbor'] as readonly number[]).includes(alone[1] as number), `${ser.name} ${n}: ${alone.toString('hex')}`);
        const float = ser.encode([f]);
        assert.equal(float[1], floatType[ser.name as 'msgpack' | 'cbor'], `${ser.name} ${f}: ${float.toString('hex')}`);
      }
    }),
    { numRuns: 300 },
  );
  // Inside an unknown CBOR tag.
  const tagged = cborSerializer.decode(Buffer.from('81d903e81b0000019af0f55000', 'hex'));
  assert.equal(cborSerializer.encode(tagged as unknown[]).toString('hex'), '81d903e81b0000019af0f55000');
});

test('cbor: a frame whose floats and strings hold 0xc2/0xc3 bytes and an 8-byte integer decodes exactly (no bignum guess)', () => {
  // 0xc3 inside a float64 (1.5 + 2^-44) and a bignum tag 2 of 5: both in one frame.
  const frame = cborSerializer.encode([1.5 + 2 ** -44, 'Ã', 1764979200000]);
  assert.ok(frame.includes(0xc3));
  assert.deepEqual(cborSerializer.decode(frame), [1.5 + 2 ** -44, 'Ã', 1764979200000]);
  assert.deepEqual(cborSerializer.decode(Buffer.from('83c24105fb3ff8000000000001c24b0100000000000000000000', 'hex')), [5, 1.5 + 2 ** -52, 2n ** 80n]);
});

test('cbor: an unknown tag survives decode/encode byte for byte', () => {
  const bytes = Buffer.from('81d903e81864', 'hex'); // [1000(100)]
  assert.equal(cborSerializer.encode(cborSerializer.decode(bytes) as unknown[]).toString('hex'), bytes.toString('hex'));
});

test('json: parseJson agrees with JSON.parse on any JSON text without big integers, and rejects what it rejects', () => {
  fc.assert(
    fc.property(fc.json(), (text) => {
      const big = JSON.stringify(JSON.parse(text)).match(/\d{16,}/);
      if (big) return;
      assert.deepStrictEqual(parseJson(text), JSON.parse(text));
    }),
    { numRuns: 1000 },
  );
  // The exact parser (taken when a 16-digit integer is present) is as strict as JSON.parse.
  for (const bad of [
    '[12345678901234567,]',
    '[12345678901234567',
    '{"a":12345678901234567',
    '[1234567890123456789 1]',
    '["\u0001",12345678901234567]',
    '[01234567890123456789]',
  ]) {
    assert.throws(() => parseJson(bad), SyntaxError, bad);
  }
  assert.deepEqual(parseJson(' [ 12345678901234567890 , "a\\"b" , {"k": [ -9223372036854775808 ]} ] '), [
    12345678901234567890n,
    'a"b',
    { k: [-9223372036854775808n] },
  ]);
  assert.deepEqual(parseJson('[9007199254740993, 1.5, 1e400, "\\u0000AQID"]'), [9007199254740993n, 1.5, Infinity, Buffer.from([1, 2, 3])]);
  const proto = parseJson('{"__proto__": {"x": 1}, "n": 12345678901234567890}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.keys(proto), ['__proto__', 'n']);
});

test('json: BigInt is written as an integer literal and byte strings as "\\0" + base64', () => {
  assert.equal(
    stringifyJson([2n ** 64n - 1n, -(2n ** 63n), Buffer.from([1, 2, 3]), { a: undefined, b: 1 }]),
    '[18446744073709551615,-9223372036854775808,"\\u0000AQID",{"b":1}]',
  );
  assert.equal(jsonSerializer.encode([1, 2 ** 53]).toString(), '[1,9007199254740992]');
});

test('values a serializer cannot carry throw NotRepresentable, naming the value and the serializer', () => {
  const cases: Array<[typeof jsonSerializer, unknown, RegExp]> = [
    [jsonSerializer, NaN, /NaN cannot be represented in json/],
    [jsonSerializer, Infinity, /Infinity cannot be represented in json/],
    [jsonSerializer, cborSerializer.decode(Buffer.from('d903e81864', 'hex')), /CBOR tag 1000 value cannot be represented in json/],
    [jsonSerializer, new Date(0), /a Date cannot be represented in json/],
    [jsonSerializer, new Float32Array(2), /a Float32Array cannot be represented in json/],
    [msgpackSerializer, 2n ** 64n, /the integer 18446744073709551616 \(beyond 64 bits\) cannot be represented in msgpack/],
    [msgpackSerializer, -(2n ** 63n) - 1n, /beyond 64 bits/],
    [msgpackSerializer, cborSerializer.decode(Buffer.from('d903e81864', 'hex')), /CBOR tag 1000 value cannot be represented in msgpack/],
  ];
  for (const [s, value, message] of cases) {
    assert.throws(
      () => s.encode([36, 1, 2, {}, [value]]),
      (err: unknown) => err instanceof NotRepresentable && message.test(err.message),
      `${s.name}: ${String(value)}`,
    );
  }
  // CBOR carries all of them.
  for (const [, value] of cases) assert.ok(cborSerializer.encode([36, 1, 2, {}, [value]]).length > 0);
});
