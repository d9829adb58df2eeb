// CBOR via cbor-x. useRecords off and no Uint8Array tag: both are cbor-x conventions that other
// WAMP peers (Autobahn, the firmware bridge) cannot decode. 64-bit integers and bignums (tags
// 2/3) beyond ±2^53 decode as BigInt, within it as numbers; unknown tags as cbor-x Tag objects,
// which encode back to the same tag. Integers are written as integers (integersAsIntegers).

import type { Encoder as EncoderClass, addExtension as addExtensionFn } from 'cbor-x' with { 'resolution-mode': 'import' };
import { cborFloatToInt, classify, exactOrNumber, HUGE, NOT_PLAIN, smallBigIntsAsNumbers } from './binary-values';
import { SCAN_MAX, scanCbor, UNKNOWN } from './frame-scan';
import { encodePlainCbor } from './plain-writer';
import type { Serializer } from './serializer';

// cbor-x ships CommonJS at runtime but its types resolve as ESM under Node16 resolution.
const { Encoder, addExtension } = require('cbor-x') as { Encoder: typeof EncoderClass; addExtension: typeof addExtensionFn };

// Bignums: node-cbor (hence AutobahnJS) writes even 5n as tag 2. Read them as numbers when a
// double holds them exactly, so a frame that merely contains a 0xc2/0xc3 byte (any 64 KiB
// payload does, inside floats and strings) needs no walk of the decoded tree afterwards.
// cbor-x keeps its tag decoders process-wide; every CBOR user in the gateway wants this.
addExtension({ tag: 2, decode: (bytes: Uint8Array) => exactOrNumber(bignum(bytes)) } as Parameters<typeof addExtension>[0]);
addExtension({ tag: 3, decode: (bytes: Uint8Array) => exactOrNumber(-1n - bignum(bytes)) } as Parameters<typeof addExtension>[0]);

function bignum(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

const options = { useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false };
const encoder = new Encoder(options as ConstructorParameters<typeof Encoder>[0]);
/** Decodes 8-byte integers as numbers: exact up to 2^53, and no BigInt to allocate and convert
 * back (a payload of millisecond timestamps is full of them). Its result stands when
 * `scanCbor` (small frames), or `mayNeedBigInt` or after it `classify`, proves no integer in
 * the data reached 2^53. */
const numberDecoder = new Encoder({ ...options, int64AsNumber: true } as ConstructorParameters<typeof Encoder>[0]);

/** False when no 8-byte integer (0x1b, 0x3b) in `data` can hold 2^53 or more. Such a byte
 * inside a float or a string (frequent in 64 KiB) only costs a walk of the decoded tree. */
function mayNeedBigInt(data: Buffer): boolean {
  for (const head of [0x1b, 0x3b]) {
    for (let i = data.indexOf(head); i >= 0; i = data.indexOf(head, i + 1)) {
      // The high 32 bits of the argument: at 0x200000 and above the value is 2^53 or more.
      if (i + 4 < data.length && data.readUInt32BE(i + 1) >= 0x200000) return true;
    }
  }
  return false;
}

/** The argument of the CBOR head at `i` whose additional info is `ai` (0-27; RFC 8949 §3). */
function headArg(b: Buffer, i: number, ai: number): number {
  if (ai < 24) return ai;
  if (ai === 24) return b[i + 1] as number;
  if (ai === 25) return b.readUInt16BE(i + 1);
  if (ai === 26) return b.readUInt32BE(i + 1);
  return b.readUInt32BE(i + 1) * 0x100000000 + b.readUInt32BE(i + 5);
}

/** Bytes of a head whose additional info is `ai` (0-27): 1, plus 1, 2, 4 or 8 for 24-27. */
function headBytes(ai: number): number {
  return ai < 24 ? 1 : 1 + (1 << (ai - 24));
}

/** Index after the data item at `i` of a well-formed CBOR buffer (RFC 8949 §3); with
 * `rewrite`, each integral float64 on the way becomes an integer (see integersAsIntegers). */
function skipItem(b: Buffer, i: number, rewrite = false): number {
  const c = b[i] as number;
  const major = c >> 5;
  const ai = c & 0x1f;
  if (ai === 31) {
    // Indefinite length (major 2-5): items until the break byte.
    if (major === 7) return i + 1;
    // A map's keys and values are items too, so one loop serves lists, maps and chunked strings.
    let next = i + 1;
    while (b[next] !== 0xff) next = skipItem(b, next, rewrite);
    return next + 1;
  }
  if (ai > 27) throw new Error(`unexpected CBOR byte 0x${c.toString(16)}`);
  if (major === 7 && ai === 27) {
    if (rewrite) cborFloatToInt(b, i);
    return i + 9;
  }
  const arg = headArg(b, i, ai);
  let next = i + headBytes(ai);
  switch (major) {
    case 0:
    case 1:
    case 7:
      return next;
    case 2:
    case 3:
      return next + arg;
    case 4:
      for (let n = 0; n < arg; n++) next = skipItem(b, next, rewrite);
      return next;
    case 5:
      for (let n = 0; n < 2 * arg; n++) next = skipItem(b, next, rewrite);
      return next;
    default: // 6: a tag and its one item
      return skipItem(b, next, rewrite);
  }
}

/** cbor-x writes a number beyond ±2^32 as float64; an integer there is written as one (major
 * type 0 or 1 with an 8-byte argument, what a BigInt gets), the same 9 bytes, in place. So an
 * ID or a millisecond timestamp reaches a typed peer as an integer. No 0xfb byte, no walk. The
 * walk counts items instead of recursing (a 64 KiB payload has thousands); cbor-x writes only
 * definite lengths, and anything else goes through skipItem. */
function integersAsIntegers(b: Buffer): Buffer {
  if (!b.includes(0xfb)) return b;
  let i = 0;
  let items = 1;
  while (items > 0) {
    items--;
    const c = b[i] as number;
    const major = c >> 5;
    const ai = c & 0x1f;
    if (c === 0xfb) {
      cborFloatToInt(b, i);
      i += 9;
      continue;
    }
    if (ai > 27) {
      i = skipItem(b, i, true);
      continue;
    }
    const arg = headArg(b, i, ai);
    let next = i + headBytes(ai);
    if (major === 2 || major === 3) next += arg;
    else if (major === 4) items += arg;
    else if (major === 5) items += 2 * arg;
    else if (major === 6) items += 1;
    i = next;
  }
  return b;
}

/** cbor-x and the rewrite: every value CBOR can hold (the reference for plain-writer.ts). */
export function encodeGeneralCbor(value: unknown): Buffer {
  return integersAsIntegers(encoder.encode(value));
}

export const cborSerializer: Serializer = {
  name: 'cbor',
  subprotocol: 'wamp.2.cbor',
  rawSocketId: 3,
  binary: true,
  encode(value) {
    // Plain values (most messages) are written directly; the rest take cbor-x and the rewrite.
    return encodePlainCbor(value) ?? encodeGeneralCbor(value);
  },
  decode(data, facts) {
    const fast: unknown = numberDecoder.decode(data);
    // A small frame: one pass over its bytes answers both questions (frame-scan.ts).
    const scanned = data.length <= SCAN_MAX ? scanCbor(data) : UNKNOWN;
    if (scanned !== UNKNOWN) {
      if (facts) facts.plain = scanned === 0;
      return scanned & HUGE ? smallBigIntsAsNumbers(encoder.decode(data)) : fast;
    }
    if (!mayNeedBigInt(data)) {
      // No walk here: a receiver of another serializer checks the values as it encodes them.
      if (facts) facts.plain = false;
      return fast;
    }
    const flags = classify(fast);
    if (facts) facts.plain = (flags & NOT_PLAIN) === 0;
    if (!(flags & HUGE)) return fast;
    // 8-byte integers (0x1b, 0x3b) decode as BigInt here; those a double holds exactly become
    // numbers again.
    return smallBigIntsAsNumbers(encoder.decode(data));
  },
  tail(frame, index) {
    const first = frame[0] as number;
    let i = first === 0x9f ? 1 : headBytes(first & 0x1f);
    for (let n = 0; n < index; n++) i = skipItem(frame, i);
    // An indefinite-length list ends with a break byte that is not part of its elements.
    return frame.subarray(i, first === 0x9f ? frame.length - 1 : frame.length);
  },
  encodeWithTail(head, tail, count) {
    const h = encodePlainCbor(head) ?? encodeGeneralCbor(head);
    // A message has at most 7 elements: always a one-byte array header.
    h[0] = 0x80 | (head.length + count);
    return Buffer.concat([h, tail]);
  },
};
