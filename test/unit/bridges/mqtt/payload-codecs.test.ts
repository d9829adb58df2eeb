import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { codecNames, payloadCodecs, PayloadCodecError } from '../../../../src/bridges/mqtt/payload-codecs';

// JSON-safe values: what every structured codec carries unchanged (no -0, no undefined).
// The device side: plain library encoders, not the codec under test.

const cborX = require('cbor-x') as { encode(v: unknown): Buffer };
const packr = new Packr({ useRecords: false });
const deviceEncode = { json: (v: unknown) => Buffer.from(JSON.stringify(v)), cbor: (v: unknown) => cborX.encode(v), msgpack: (v: unknown) => packr.pack(v) };

// "__proto__" keys are left out: msgpackr drops them on decode (prototype-pollution guard).
const jsonValue = fc
  .jsonValue()
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'));
const dict = fc
  .dictionary(
    fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
    jsonValue,
    { minKeys: 1, maxKeys: 5 },
  )
  .map((d) => ({ ...d }));

for (const name of ['json', 'cbor', 'msgpack'] as const) {
  const codec = payloadCodecs[name];

  test(`${name}: WAMP -> MQTT -> WAMP round-trips args-only and kwargs-only payloads`, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(jsonValue, { maxLength: 5 }).map((args) => ({ args, kwargs: {} })),
          dict.map((kwargs) => ({ args: [], kwargs })),
        ),
        (p) => {
          assert.deepEqual(codec.decode(codec.encode(p.args, p.kwargs)), p);
        },
      ),
      { numRuns: 500 },
    );
  });

  test(`${name}: MQTT -> WAMP -> MQTT gives the same value back`, () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const bytes = codec.encode([v], {});
        const decoded = codec.decode(bytes);
        assert.deepEqual(codec.decode(codec.encode(decoded.args, decoded.kwargs)), decoded);
      }),
      { numRuns: 500 },
    );
  });

  test(`${name}: where a payload lands`, () => {
    const enc = deviceEncode[name];
    assert.deepEqual(codec.decode(enc([1, 'a'])), { args: [1, 'a'], kwargs: {} });
    assert.deepEqual(codec.decode(enc({ t: 21.5 })), { args: [], kwargs: { t: 21.5 } });
    assert.deepEqual(codec.decode(enc(21.5)), { args: [21.5], kwargs: {} });
    assert.deepEqual(codec.decode(enc(null)), { args: [null], kwargs: {} });
    assert.deepEqual(codec.decode(Buffer.alloc(0)), { args: [], kwargs: {} });
    assert.equal(codec.encode([], {}).length, 0);
    assert.deepEqual(codec.decode(codec.encode([1], { k: 2 })), { args: [1, { k: 2 }], kwargs: {} }, 'both: kwargs appended to args');
  });
}

test('json: invalid input is a PayloadCodecError', () => {
  assert.throws(() => payloadCodecs.json.decode(Buffer.from('{"a":')), PayloadCodecError);
  assert.throws(() => payloadCodecs.json.decode(Buffer.from([0xff, 0xfe])), PayloadCodecError);
  assert.throws(() => payloadCodecs.json.encode([1n], {}), PayloadCodecError);
});

test('cbor and msgpack: trailing garbage and truncation are PayloadCodecErrors', () => {
  for (const name of ['cbor', 'msgpack'] as const) {
    const ok = payloadCodecs[name].encode([{ a: [1, 2, 3] }, 'x'], {});
    assert.throws(() => payloadCodecs[name].decode(ok.subarray(0, ok.length - 2)), PayloadCodecError, name);
  }
});

test('cbor and msgpack carry bytes', () => {
  for (const name of ['cbor', 'msgpack'] as const) {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const out = payloadCodecs[name].decode(payloadCodecs[name].encode([bytes], {}));
    assert.deepEqual(Buffer.from(out.args[0] as Uint8Array), bytes, name);
  }
});

test('text: a string both ways; invalid UTF-8 is an error; non-strings go out as JSON', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      const text = payloadCodecs.text;
      const p = text.decode(Buffer.from(s, 'utf8'));
      assert.deepEqual(p, { args: [s], kwargs: {} });
      assert.equal(text.encode(p.args, p.kwargs).toString('utf8'), s);
    }),
  );
  assert.throws(() => payloadCodecs.text.decode(Buffer.from([0xc3])), PayloadCodecError);
  assert.equal(payloadCodecs.text.encode([], { a: 1 }).toString(), '{"a":1}');
});

test('raw: bytes both ways; anything but one bytes/string arg is an encode error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const p = payloadCodecs.raw.decode(b);
      assert.ok(Buffer.isBuffer(p.args[0]));
      assert.deepEqual(Uint8Array.from(payloadCodecs.raw.encode(p.args, p.kwargs)), b);
    }),
  );
  assert.throws(() => payloadCodecs.raw.encode([1, 2], {}), PayloadCodecError);
  assert.throws(() => payloadCodecs.raw.encode([], { a: 1 }), PayloadCodecError);
});

test('every codec name has a codec', () => {
  for (const n of codecNames) assert.equal(payloadCodecs[n].name, n);
});
