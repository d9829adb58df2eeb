// DecodeFacts (issue 9, cross-serializer CPU): a decoder says when a frame held only plain
// values, and an encoder told so skips its per-value checks for the payload. These tests hold
// the fast path to the same results as the checked one: "plain" is never claimed for a value
// some encoder would refuse or write differently, and the head is still checked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classify, HUGE, NOT_PLAIN } from '../../../src/serializers/binary-values';
import { cborSerializer } from '../../../src/serializers/cbor';
import { jsonSerializer } from '../../../src/serializers/json';
import { msgpackSerializer } from '../../../src/serializers/msgpack';
import { NotRepresentable } from '../../../src/serializers/not-representable';
import { serializers, type DecodeFacts, type Serializer } from '../../../src/serializers/index';

function decodeWithFacts(s: Serializer, frame: Buffer): { value: unknown; plain: boolean } {
  // Starts true: a decoder must say false itself where it does not know.
  const facts: DecodeFacts = { plain: true };
  const value = s.decode(frame, facts);
  return { value, plain: facts.plain };
}

/** A float whose bytes hold 0x1b then 0xff…: CBOR's decoder cannot rule out a 2^53 integer
 * from the bytes and walks the tree, as it does for most 64 KiB payloads with floats. */
const cborWalkFloat = Buffer.from('401bffffffffffff', 'hex').readDoubleBE(0);

/** A record payload as gateways send it. A decoder learns plainness only when it walks the
 * tree: msgpack when the frame holds an 8-byte integer (the ms timestamp), CBOR when a 0x1b
 * byte may start one at 2^53 (the float above); JSON always. */
const records = [{ id: 4000, t: 1764979200000, v: 21.5, w: cborWalkFloat, s: 'sensor-1', ok: true, none: null }, [1, -2, 2 ** 53 - 1, -(2 ** 53 - 1)]];

test('classify: HUGE at ±2^53 and beyond (and ±Infinity), NOT_PLAIN for anything but JSON-native values', () => {
  assert.equal(classify([1, 'a', null, true, { a: [2 ** 53 - 1, -(2 ** 53 - 1)] }, undefined]), 0);
  for (const v of [2 ** 53, -(2 ** 53), 2 ** 64, -1e300, Infinity, -Infinity]) {
    assert.equal(classify([{ a: [v] }]) & HUGE, HUGE, String(v));
    assert.equal(classify({ k: v }) & HUGE, HUGE, String(v));
  }
  for (const v of [NaN, 5n, Buffer.from([1]), new Float32Array(1), new Date(0), new Map(), () => 1, Symbol('s')]) {
    assert.equal(classify([1, [v]]), NOT_PLAIN, String(v));
    assert.equal(classify({ a: { b: v } }), NOT_PLAIN, String(v));
  }
  // A huge number inside a non-plain object (a class instance, a tag's content) is still found.
  class Reading {
    n = 2 ** 60;
  }
  assert.equal(classify([new Reading()]), HUGE | NOT_PLAIN);
  let deep: unknown = 1;
  for (let i = 0; i < 600; i++) deep = [deep];
  assert.equal(classify(deep), NOT_PLAIN);
  assert.equal(classify(Object.create(null) as object), 0);
});

for (const s of serializers) {
  test(`${s.name}: a frame of plain values decodes as plain, and the values are exact`, () => {
    const frame = s.encode([16, 1, {}, 'a.b', records, { n: 2 ** 40, list: records }]);
    const { value, plain } = decodeWithFacts(s, frame);
    assert.equal(plain, true);
    assert.deepEqual(value, [16, 1, {}, 'a.b', records, { n: 2 ** 40, list: records }]);
  });

  test(`${s.name}: a frame holding a BigInt beyond 2^53 or a byte string is not plain`, () => {
    for (const extra of [2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n - 1n, Buffer.from([0, 1, 2])]) {
      const { value, plain } = decodeWithFacts(s, s.encode([16, 1, {}, 'a.b', [1764979200000, cborWalkFloat, { deep: [extra] }]]));
      assert.equal(plain, false, `${s.name}: ${String(extra)}`);
      assert.deepEqual(((value as unknown[])[4] as unknown[])[2], { deep: [extra] });
    }
  });
}

test('json: a 16-digit run inside a string is a string, and the frame stays plain', () => {
  const { value, plain } = decodeWithFacts(jsonSerializer, Buffer.from('[16,1,{},"a.b",["9007199254740993",1764979200000]]'));
  assert.deepEqual(value, [16, 1, {}, 'a.b', ['9007199254740993', 1764979200000]]);
  assert.equal(plain, true);
});

test('json: 2^53+1 read exactly wherever it stands (kwargs, nested, negative, beside exponent forms); such a frame is not plain', () => {
  const text = '[16,1,{},"a.b",[1e16,-9007199254740993,2.5E3],{"k":{"n":[9007199254740993]},"e":-1.5e-7}]';
  const { value, plain } = decodeWithFacts(jsonSerializer, Buffer.from(text));
  assert.equal(plain, false);
  assert.deepEqual(value, [16, 1, {}, 'a.b', [1e16, -(2n ** 53n) - 1n, 2500], { k: { n: [2n ** 53n + 1n] }, e: -1.5e-7 }]);
  // An exponent form alone is a float, read by JSON.parse as any JSON peer reads it.
  assert.deepEqual(decodeWithFacts(jsonSerializer, Buffer.from('[1e300,-1E+16]')).value, [1e300, -1e16]);
});

test('json: a frame with byte strings ("\\0" + base64) is not plain', () => {
  const { value, plain } = decodeWithFacts(jsonSerializer, Buffer.from('[16,1,{},"a.b",["\\u0000AQID"]]'));
  assert.equal(plain, false);
  assert.deepEqual(((value as unknown[])[4] as unknown[])[0], Buffer.from([1, 2, 3]));
});

test('msgpack and cbor: NaN, ±Infinity, a Date or a CBOR tag make a frame not plain, also where the decoder walks for 8-byte integers', () => {
  const nonPlain: Array<[Serializer, unknown]> = [
    [msgpackSerializer, NaN],
    [msgpackSerializer, Infinity],
    [cborSerializer, NaN],
    [cborSerializer, -Infinity],
    [cborSerializer, new Date(0)],
    [cborSerializer, cborSerializer.decode(Buffer.from('d903e81864', 'hex'))],
  ];
  for (const [s, v] of nonPlain) {
    const { plain } = decodeWithFacts(s, s.encode([16, 1, {}, 'a.b', [1764979200000, cborWalkFloat, { v }]]));
    assert.equal(plain, false, `${s.name}: ${String(v)}`);
  }
});

test('plainFrom: the head before it is still checked, the payload after it is written as the checked path writes it', () => {
  const badHeads: Array<[Serializer, unknown]> = [
    [jsonSerializer, NaN],
    [jsonSerializer, new Date(0)],
    [msgpackSerializer, 2n ** 64n],
    [msgpackSerializer, new Date(0)],
  ];
  for (const [s, bad] of badHeads) {
    assert.throws(() => s.encode([36, 1, 2, { bad }, records], 4), NotRepresentable, `${s.name}: ${String(bad)}`);
  }
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      for (const s of serializers) {
        const wire = [36, 1, 2, {}, [v], { v }];
        assert.deepEqual(s.encode(wire, 4), s.encode(wire), s.name);
      }
    }),
  );
});

test('every serializer pair: a plain payload re-encoded with plainFrom reads back exactly as the checked encode does', () => {
  for (const from of serializers) {
    for (const to of serializers) {
      const facts: DecodeFacts = { plain: false };
      const wire = from.decode(from.encode([16, 1, {}, 'a.b', records, { r: records }]), facts) as unknown[];
      assert.equal(facts.plain, true, `${from.name}`);
      const out = [36, 1, 2, {}, wire[4], wire[5]];
      assert.deepEqual(to.encode(out, 4), to.encode(out), `${from.name}→${to.name}`);
      assert.deepEqual(to.decode(to.encode(out, 4)), out, `${from.name}→${to.name}`);
    }
  }
});

test('msgpack and cbor: a frame the decoder does not walk is not called plain (the encoders check it)', () => {
  // Over the frame scan's 512 bytes and without an 8-byte integer: no scan, no walk.
  for (const s of [msgpackSerializer, cborSerializer]) {
    const { plain } = decodeWithFacts(s, s.encode([16, 1, {}, 'a.b', [1, 'x'.repeat(600), { v: 2.5 }]]));
    assert.equal(plain, false, s.name);
  }
});

test('cbor: a small frame with an 8-byte integer is called plain; a large one is searched for 8-byte integers first, and 2^53+1 stays exact either way', () => {
  // ~100 bytes: the frame scan decides, so a JSON receiver learns the payload is plain.
  assert.equal(decodeWithFacts(cborSerializer, cborSerializer.encode([16, 1, {}, 'a.b', [1764979200000, 'x']])).plain, true);
  // Over the frame scan's size (512 bytes): the bytes of the only 8-byte integer rule out 2^53,
  // so no walk, and the frame is not called plain.
  const long = 'x'.repeat(8000);
  assert.equal(decodeWithFacts(cborSerializer, cborSerializer.encode([16, 1, {}, 'a.b', [1764979200000, long]])).plain, false);
  for (const payload of [
    [2n ** 53n + 1n, 'x'],
    [2n ** 53n + 1n, long],
    [-(2n ** 63n), long],
  ]) {
    const { value } = decodeWithFacts(cborSerializer, cborSerializer.encode([16, 1, {}, 'a.b', payload]));
    assert.deepEqual((value as unknown[])[4], payload);
  }
});
