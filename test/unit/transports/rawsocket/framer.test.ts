import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  encodeFrame,
  encodeFrameHeader,
  MAX_FRAME_PAYLOAD,
  RawSocketFramer,
  retainable,
  type Frame,
  type FrameKindName,
} from '../../../../src/transports/rawsocket/framer';

const kindArb = fc.constantFrom<FrameKindName>('regular', 'ping', 'pong');
const frameArb = fc.record({ kind: kindArb, payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) });
const framesArb = fc.array(frameArb, { maxLength: 20 });

function plain(frames: Frame[]): Array<{ kind: string; payload: number[] }> {
  return frames.map((f) => ({ kind: f.kind, payload: [...f.payload] }));
}

/** Cuts `stream` at the given fractional positions. */
function split(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * stream.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(stream.subarray(last, p));
    last = p;
  }
  parts.push(stream.subarray(last));
  return parts;
}

function feedAll(parts: Buffer[], maxLength = 1024): Frame[] {
  const framer = new RawSocketFramer({ maxLength });
  const out: Frame[] = [];
  for (const part of parts) {
    const result = framer.push(part);
    assert.equal(result.error, undefined);
    out.push(...result.frames);
  }
  assert.equal(framer.bufferedBytes, 0, 'nothing left over after whole frames');
  return out;
}

test('framer round-trips any sequence of frames fed as one chunk', () => {
  fc.assert(
    fc.property(framesArb, (frames) => {
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.kind, f.payload)));
      assert.deepEqual(plain(feedAll([stream])), plain(frames));
    }),
  );
});

test('framer yields the same frames when fed byte by byte', () => {
  fc.assert(
    fc.property(framesArb, (frames) => {
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.kind, f.payload)));
      const bytes = [...stream].map((b) => Buffer.from([b]));
      assert.deepEqual(plain(feedAll(bytes)), plain(frames));
    }),
    { numRuns: 50 },
  );
});

test('framer yields the same frames for random splits of the stream', () => {
  fc.assert(
    fc.property(framesArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }), (frames, cuts) => {
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.kind, f.payload)));
      assert.deepEqual(plain(feedAll(split(stream, cuts))), plain(frames));
    }),
  );
});

test('framer rejects a frame over the limit from its header alone, before buffering the payload', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 4096 }), kindArb, (limit, extra, kind) => {
      const framer = new RawSocketFramer({ maxLength: limit });
      const result = framer.push(encodeFrameHeader(kind, limit + extra));
      assert.equal(result.error?.code, 'oversized');
      assert.equal(framer.bufferedBytes, 0);
      // A failed stream stays failed.
      assert.equal(framer.push(Buffer.from([0, 0, 0, 0])).error?.code, 'oversized');
    }),
  );
});

test('framer accepts a frame exactly at the limit', () => {
  const framer = new RawSocketFramer({ maxLength: 10 });
  const result = framer.push(encodeFrame('regular', Buffer.alloc(10, 7)));
  assert.equal(result.error, undefined);
  assert.equal(result.frames[0]?.payload.length, 10);
});

test('frames before an error in the same chunk are still delivered', () => {
  const framer = new RawSocketFramer({ maxLength: 16 });
  const result = framer.push(Buffer.concat([encodeFrame('regular', Buffer.from('ok')), encodeFrameHeader('regular', 17)]));
  assert.deepEqual(plain(result.frames), [{ kind: 'regular', payload: [...Buffer.from('ok')] }]);
  assert.equal(result.error?.code, 'oversized');
});

test('framer rejects reserved frame types 3-7 and reserved high bits', () => {
  for (let type = 3; type <= 7; type++) {
    assert.equal(new RawSocketFramer({ maxLength: 64 }).push(Buffer.from([type, 0, 0, 1, 0])).error?.code, 'reserved-type');
  }
  for (const first of [0x10, 0x80, 0xf0]) {
    assert.equal(new RawSocketFramer({ maxLength: 64 }).push(Buffer.from([first, 0, 0, 0])).error?.code, 'reserved-bits');
  }
  // X is legal only with the 24 length bits clear.
  assert.equal(new RawSocketFramer({ maxLength: 64 }).push(Buffer.from([0x08, 0, 0, 1])).error?.code, 'reserved-bits');
});

test('encodeFrameHeader uses the X bit for exactly 2^24 octets and the 24 bits below it', () => {
  assert.deepEqual([...encodeFrameHeader('regular', MAX_FRAME_PAYLOAD)], [0x08, 0, 0, 0]);
  assert.deepEqual([...encodeFrameHeader('regular', MAX_FRAME_PAYLOAD - 1)], [0x00, 0xff, 0xff, 0xff]);
  assert.deepEqual([...encodeFrameHeader('ping', 5)], [0x01, 0, 0, 5]);
  assert.deepEqual([...encodeFrameHeader('pong', 0)], [0x02, 0, 0, 0]);
  assert.throws(() => encodeFrameHeader('regular', MAX_FRAME_PAYLOAD + 1), RangeError);
});

test('framer decodes an X-bit header as 2^24 when the limit allows it', () => {
  const framer = new RawSocketFramer({ maxLength: MAX_FRAME_PAYLOAD });
  const result = framer.push(Buffer.from([0x08, 0, 0, 0, 1, 2, 3]));
  assert.equal(result.error, undefined);
  assert.equal(result.frames.length, 0);
  assert.equal(framer.bufferedBytes, 3);
});

test('zero-length frames are yielded, including back to back', () => {
  const stream = Buffer.concat([encodeFrame('ping', Buffer.alloc(0)), encodeFrame('regular', Buffer.alloc(0))]);
  assert.deepEqual(plain(feedAll([stream])), [
    { kind: 'ping', payload: [] },
    { kind: 'regular', payload: [] },
  ]);
});

test('regression: a partial payload keeps no large read buffer alive for a small piece of it', () => {
  // A 64 KiB socket read whose last 10 bytes start a frame: the 10 bytes are copied, so the stalled
  // connection pins 10 bytes, not the whole read.
  const framer = new RawSocketFramer({ maxLength: 1024 });
  const read = Buffer.alloc(65536);
  read.set(encodeFrame('regular', Buffer.alloc(65536 - 14 - 4)), 0);
  read.set(encodeFrameHeader('regular', 100), 65536 - 14);
  const big = new RawSocketFramer({ maxLength: 65536 });
  assert.equal(big.push(read).frames.length, 1);
  assert.equal(big.bufferedBytes, 10);
  const held = (big as unknown as { parts: Buffer[] }).parts;
  assert.equal(held.length, 1);
  assert.notEqual(held[0]?.buffer, read.buffer, 'the 10-byte tail is a copy');
  assert.ok((held[0]?.buffer.byteLength ?? Infinity) < 1024, 'the copy holds no more than a small buffer');
  // Most of a read is kept by reference: copying it would only double the bytes until GC.
  // (A buffer of its own, as a socket read is: a small Buffer.concat would sit in the pool.)
  const chunk = Buffer.allocUnsafeSlow(804).fill(0);
  encodeFrameHeader('regular', 900).copy(chunk);
  assert.equal(framer.push(chunk).frames.length, 0);
  const parts = (framer as unknown as { parts: Buffer[] }).parts;
  assert.equal(parts[0]?.buffer, chunk.buffer, 'a slice that is most of its buffer is not copied');
  assert.equal(retainable(chunk.subarray(4)), true);
  assert.equal(retainable(read.subarray(65526)), false);
});
