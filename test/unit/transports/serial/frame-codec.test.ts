import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder, encodeFrame, maxFrameLength } from '../../../../src/transports/serial/frame-codec';
import { crc32 } from '../../../../src/transports/serial/crc32';
import { cobsEncode } from '../../../../src/transports/serial/cobs';

const payload = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a));
const payloads = fc.array(payload, { minLength: 1, maxLength: 12 });
const lead = fc.boolean();

/** Splits `data` at the given (sorted, deduplicated) cut points. */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

/** A stream as a receiver that was listening before the first frame sees it. */
function stream(list: Buffer[], leadingDelimiter: boolean): Buffer {
  return Buffer.concat([Buffer.from([0]), ...list.map((p) => encodeFrame(p, { leadingDelimiter }))]);
}

test('frame layout is COBS(payload ‖ crc32 little-endian) then 0x00', () => {
  const p = Buffer.from([0x83, 0x01, 0x00, 0x02]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(p));
  const expected = Buffer.concat([cobsEncode(Buffer.concat([p, crc])), Buffer.from([0])]);
  assert.deepEqual(encodeFrame(p), expected);
  assert.deepEqual(encodeFrame(p, { leadingDelimiter: true }), Buffer.concat([Buffer.from([0]), expected]));
  assert.ok(expected.length <= maxFrameLength(p.length));
});

test('frames round-trip through the decoder fed in one piece', () => {
  fc.assert(
    fc.property(payloads, lead, (list, ld) => {
      const d = new FrameDecoder();
      assert.deepEqual(d.push(stream(list, ld)), list);
      assert.equal(d.stats.frames, list.length);
    }),
  );
});

test('byte-by-byte and random splits yield the same frames', () => {
  fc.assert(
    fc.property(payloads, lead, fc.array(fc.nat(), { maxLength: 40 }), (list, ld, cuts) => {
      const data = stream(list, ld);
      const bytewise = new FrameDecoder();
      const got1: Buffer[] = [];
      for (const b of data) got1.push(...bytewise.push(Buffer.from([b])));
      const pieces = new FrameDecoder();
      const got2: Buffer[] = [];
      for (const c of split(data, cuts)) got2.push(...pieces.push(c));
      assert.deepEqual(got1, list);
      assert.deepEqual(got2, list);
      assert.deepEqual(bytewise.stats, pieces.stats);
    }),
  );
});

test('a corrupted byte drops that frame, is counted, and the next frame still decodes', () => {
  fc.assert(
    fc.property(payload, payload, payload, fc.nat(), fc.integer({ min: 1, max: 255 }), (a, b, c, pos, flip) => {
      const fb = encodeFrame(b);
      const at = pos % (fb.length - 1); // never the delimiter itself
      const bad = Buffer.from(fb);
      bad[at] = bad[at]! ^ flip;
      const d = new FrameDecoder({ startSynced: true });
      const got = d.push(Buffer.concat([encodeFrame(a), bad, Buffer.from([0]), encodeFrame(c)]));
      // A flip to 0x00 splits b into two bad pieces; otherwise b is one bad frame. Either way
      // only a and c come out (a CRC-32 catches every burst of up to 32 bits).
      assert.deepEqual(got, [a, c]);
      const s = d.stats;
      assert.ok(s.crcErrors + s.cobsErrors >= 1);
      assert.equal(s.frames, 2);
    }),
  );
});

test('garbage between frames and before the first delimiter is skipped', () => {
  const garbage = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a));
  fc.assert(
    fc.property(fc.array(fc.tuple(garbage, payload), { minLength: 1, maxLength: 8 }), garbage, (items, head) => {
      const d = new FrameDecoder();
      const parts: Buffer[] = [head];
      for (const [g, p] of items) parts.push(g, Buffer.from([0]), encodeFrame(p));
      const got = d.push(Buffer.concat(parts));
      assert.deepEqual(
        got,
        items.map(([, p]) => p),
      );
    }),
  );
});

test('leading bytes before the first delimiter are dropped as a partial frame, not errors', () => {
  const d = new FrameDecoder();
  const f = encodeFrame(Buffer.from('hello'));
  assert.deepEqual(d.push(f.subarray(3)), []);
  assert.equal(d.stats.droppedBytes, f.length - 4);
  assert.equal(d.stats.crcErrors + d.stats.cobsErrors, 0);
  assert.deepEqual(d.push(f), [Buffer.from('hello')]);
});

test('an oversized frame is counted and skipped to the next delimiter, in any split', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 200 }),
      payload,
      fc.array(fc.nat(), { maxLength: 10 }),
      (max, extra, after, cuts) => {
        const small = after.subarray(0, max);
        const big = Buffer.alloc(max + extra, 7);
        const data = Buffer.concat([encodeFrame(big, { leadingDelimiter: true }), encodeFrame(small, { leadingDelimiter: true })]);
        const d = new FrameDecoder({ maxPayload: max });
        const got: Buffer[] = [];
        for (const c of split(data, cuts)) got.push(...d.push(c));
        assert.deepEqual(got, [small]);
        assert.equal(d.stats.oversized, 1);
      },
    ),
  );
});

test('a payload of exactly maxPayload bytes is accepted', () => {
  const d = new FrameDecoder({ maxPayload: 1024, startSynced: true });
  const p = Buffer.alloc(1024, 0xab);
  assert.deepEqual(d.push(encodeFrame(p)), [p]);
});

test('runs of delimiters (idle line, leading zeros) are not errors', () => {
  const d = new FrameDecoder({ startSynced: true });
  assert.deepEqual(d.push(Buffer.alloc(50)), []);
  assert.deepEqual(d.stats, { frames: 0, crcErrors: 0, cobsErrors: 0, oversized: 0, droppedBytes: 0 });
});

test('the example frame in docs/serial-frame-protocol.md', () => {
  const frame = encodeFrame(Buffer.from('8318210105', 'hex'), { leadingDelimiter: true });
  assert.equal(frame.toString('hex'), '000a831821010536ab37f500');
});
