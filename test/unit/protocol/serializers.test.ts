import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cborSerializer } from '../../../src/serializers/cbor';
import { jsonSerializer } from '../../../src/serializers/json';
import { msgpackSerializer } from '../../../src/serializers/msgpack';
import { serializerByName, serializerByRawSocketId, serializerBySubprotocol, serializers } from '../../../src/serializers/index';
import { MAX_ID } from '../../../src/protocol/ids';

/** JSON-like values (no -0, no undefined) plus byte strings anywhere. */
const valueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string(),
    fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 4, noNullPrototype: true },
    ),
  ),
})).value;

/** Strings starting with "\0" are JSON's binary marker; a plain string must not start with it. */
function noNulStrings(v: unknown): boolean {
  if (typeof v === 'string') return !v.startsWith('\0');
  if (Array.isArray(v)) return v.every(noNulStrings);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.values(v).every(noNulStrings) && Object.keys(v).every(noNulStrings);
  return true;
}

/** JSON has one kind of number: an integral double beyond 2^53 is written as an integer literal
 * and read back exactly, as a BigInt of the same value. */
function bigIntsAsDoubles(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(bigIntsAsDoubles);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bigIntsAsDoubles(x)]));
  return v;
}

for (const s of serializers) {
  test(`${s.name}: decode(encode(message)) gives back JSON-like values and byte strings`, () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 6 }).filter(noNulStrings), (value) => {
        const decoded = s.decode(s.encode(value));
        assert.deepStrictEqual(s.name === 'json' ? bigIntsAsDoubles(decoded) : decoded, value);
      }),
      { numRuns: 500 },
    );
  });

  test(`${s.name}: IDs up to 2^53 survive encode/decode as exact integers`, () => {
    for (const id of [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 3, MAX_ID - 1, MAX_ID]) {
      const decoded = s.decode(s.encode([48, id, {}, 'a.b'])) as unknown[];
      assert.equal(decoded[1], id, `id ${id}`);
      assert.ok(Number.isInteger(decoded[1]));
    }
  });

  test(`${s.name}: decode of truncated or over-long input throws (callers turn that into a protocol violation)`, () => {
    const encoded = s.encode([1, 'realm1', { roles: {} }]);
    assert.throws(() => s.decode(encoded.subarray(0, encoded.length - 1)));
    assert.throws(() => s.decode(Buffer.alloc(0)));
    if (s.binary) assert.throws(() => s.decode(Buffer.concat([encoded, Buffer.from([1])])));
    else assert.throws(() => s.decode(Buffer.concat([encoded, Buffer.from('x')])));
  });
}

// Wire-level integer encoding: strict peers (Autobahn-Python's check_or_raise_id requires an
// int, the firmware bridge reads a CBOR unsigned integer) refuse an ID sent as a float.
test('msgpack encodes IDs above 2^32 as 64-bit integers (uint64 or int64), not float64', () => {
  const bytes = msgpackSerializer.encode([MAX_ID]);
  assert.ok(bytes[1] === 0xcf || bytes[1] === 0xd3, `got ${bytes.toString('hex')}`);
  assert.deepEqual(msgpackSerializer.decode(bytes), [MAX_ID]);
});

test('cbor encodes IDs above 2^32 as unsigned integers (major type 0), not float64', () => {
  const bytes = cborSerializer.encode([MAX_ID]);
  assert.equal(bytes[1], 0x1b, `got ${bytes.toString('hex')}`);
});

test('cbor and msgpack encode IDs up to 2^32 - 1 as integers', () => {
  assert.equal(msgpackSerializer.encode([2 ** 32 - 1])[1], 0xce);
  assert.equal(cborSerializer.encode([2 ** 32 - 1])[1], 0x1a);
});

test('cbor output carries no cbor-x records or typed-array tags (other peers must decode it)', () => {
  const bytes = cborSerializer.encode([36, 1, 2, { a: 1 }, [Buffer.from([1, 2])], { b: { c: 1 } }]);
  // Every byte here is a small head or content byte; 0xc0-0xdb would be a tag (cbor-x records
  // use tag 105, typed arrays tags 64+). The byte string must be major type 2 (0x42 = 2 bytes).
  assert.ok(!bytes.some((b) => b >= 0xc0 && b <= 0xdb), bytes.toString('hex'));
  assert.ok(bytes.includes(Buffer.from([0x42, 0x01, 0x02])), bytes.toString('hex'));
});

// ---- JSON binary convention (spec: "Binary conversion of JSON Strings") -----------------------

test('json encodes a byte string as "\\0" + base64', () => {
  const text = jsonSerializer.encode([16, 1, {}, 'a.b', [Buffer.from([1, 2, 3]), new Uint8Array([255])]]).toString('utf8');
  assert.equal(text, '[16,1,{},"a.b",["\\u0000AQID","\\u0000/w=="]]');
});

test('json decodes "\\0" + base64 strings into byte strings, at any depth', () => {
  const decoded = jsonSerializer.decode(Buffer.from('[36,1,2,{},["\\u0000AQID"],{"k":{"deep":["\\u0000/w=="]}}]'));
  assert.deepStrictEqual(decoded, [36, 1, 2, {}, [Buffer.from([1, 2, 3])], { k: { deep: [Buffer.from([255])] } }]);
});

test('json leaves plain strings and messages without binary untouched', () => {
  const msg = [36, 1, 2, { topic: 'a.b' }, ['text', 1.5, null, true], { k: 'v' }];
  assert.deepStrictEqual(jsonSerializer.decode(jsonSerializer.encode(msg)), msg);
  assert.equal(jsonSerializer.encode(msg).toString(), JSON.stringify(msg));
});

test('byte strings cross between serializers: JSON "\\0"+base64 equals CBOR and msgpack bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
      const bytes = Buffer.from(raw);
      const viaJson = jsonSerializer.decode(jsonSerializer.encode([bytes])) as unknown[];
      const viaCbor = cborSerializer.decode(cborSerializer.encode(viaJson)) as unknown[];
      const viaMsgpack = msgpackSerializer.decode(msgpackSerializer.encode(viaCbor)) as unknown[];
      assert.deepStrictEqual(viaMsgpack, [bytes]);
    }),
  );
});

test('serializers are found by name, WebSocket subprotocol and RawSocket id', () => {
  assert.equal(serializerByName('json'), jsonSerializer);
  assert.equal(serializerBySubprotocol('wamp.2.msgpack'), msgpackSerializer);
  assert.equal(serializerByRawSocketId(3), cborSerializer);
  assert.deepEqual(
    serializers.map((s) => [s.name, s.subprotocol, s.rawSocketId, s.binary]),
    [
      ['json', 'wamp.2.json', 1, false],
      ['msgpack', 'wamp.2.msgpack', 2, true],
      ['cbor', 'wamp.2.cbor', 3, true],
    ],
  );
  assert.equal(serializerByName('xml'), undefined);
});
