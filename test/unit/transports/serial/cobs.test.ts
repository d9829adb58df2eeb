import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from '../../../../src/transports/serial/cobs';

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 1200 }),
  // Zero-heavy and zero-free inputs exercise the short-block and 0xFF-block paths.
  fc.array(fc.constantFrom(0, 0, 1, 0xff), { maxLength: 600 }).map((a) => Uint8Array.from(a)),
  fc.uint8Array({ minLength: 250, maxLength: 1100, min: 1 }),
);

test('COBS round-trips any bytes and never emits 0x00', () => {
  fc.assert(
    fc.property(bytes, (data) => {
      const enc = cobsEncode(data);
      assert.equal(enc.includes(0), false);
      assert.ok(enc.length <= cobsMaxEncodedLength(data.length));
      assert.deepEqual(cobsDecode(enc), Buffer.from(data));
    }),
    { numRuns: 500 },
  );
});

test('COBS matches the published examples', () => {
  const cases: Array<[number[], number[]]> = [
    [[], [0x01]],
    [[0x00], [0x01, 0x01]],
    [
      [0x00, 0x00],
      [0x01, 0x01, 0x01],
    ],
    [
      [0x11, 0x22, 0x00, 0x33],
      [0x03, 0x11, 0x22, 0x02, 0x33],
    ],
    [
      [0x11, 0x00, 0x00, 0x00],
      [0x02, 0x11, 0x01, 0x01, 0x01],
    ],
  ];
  for (const [raw, enc] of cases) {
    assert.deepEqual([...cobsEncode(Uint8Array.from(raw))], enc);
    assert.deepEqual([...cobsDecode(Uint8Array.from(enc))!], raw);
  }
  // 254 non-zero bytes: a full 0xFF block then an empty final block (the simple variant).
  const full = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
  const enc = cobsEncode(full);
  assert.equal(enc[0], 0xff);
  assert.equal(enc.length, 256);
  assert.equal(enc[255], 0x01);
  // The other common variant (no trailing 01) decodes the same.
  assert.deepEqual(cobsDecode(enc.subarray(0, 255)), Buffer.from(full));
});

test('COBS decode rejects a code byte that points past the end, and embedded zeros', () => {
  assert.equal(cobsDecode(Uint8Array.from([0x05, 0x11, 0x22])), undefined);
  assert.equal(cobsDecode(Uint8Array.from([0x03, 0x11, 0x00])), undefined);
  assert.equal(cobsDecode(Uint8Array.from([])), undefined);
});
