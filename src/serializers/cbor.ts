// CBOR via cbor-x. useRecords off and no Uint8Array tag: both are cbor-x conventions that other
// WAMP peers (Autobahn, the firmware bridge) cannot decode. 64-bit integers decode as BigInt
// (int64AsNumber off); bignums (tags 2/3) as BigInt; unknown tags as cbor-x Tag objects, which
// encode back to the same tag.

import type { Encoder as EncoderClass } from 'cbor-x' with { 'resolution-mode': 'import' };
import { forCbor, smallBigIntsAsNumbers } from './binary-values';
import type { Serializer } from './serializer';

// cbor-x ships CommonJS at runtime but its types resolve as ESM under Node16 resolution.
const { Encoder } = require('cbor-x') as { Encoder: typeof EncoderClass };

const options = { useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false };
const encoder = new Encoder(options as ConstructorParameters<typeof Encoder>[0]);
/** Decodes 8-byte integers as numbers: exact below 2^53, and no BigInt to allocate and convert
 * back (a payload of millisecond timestamps is full of them). Used only when `mayNeedBigInt`
 * proves no integer in the data can reach 2^53. */
const numberDecoder = new Encoder({ ...options, int64AsNumber: true } as ConstructorParameters<typeof Encoder>[0]);

/** True unless no 8-byte integer (0x1b, 0x3b) in `data` holds 2^53 or more and no bignum tag
 * (0xc2, 0xc3) occurs. Any such byte inside a string or another value only costs the exact path. */
function mayNeedBigInt(data: Buffer): boolean {
  if (data.includes(0xc2) || data.includes(0xc3)) return true;
  for (const head of [0x1b, 0x3b]) {
    for (let i = data.indexOf(head); i >= 0; i = data.indexOf(head, i + 1)) {
      // The high 32 bits of the argument: at 0x200000 and above the value is 2^53 or more.
      if (i + 4 < data.length && data.readUInt32BE(i + 1) >= 0x200000) return true;
    }
  }
  return false;
}

/** Index after the data item at `i` of a well-formed CBOR buffer (RFC 8949 §3). */
function skipItem(b: Buffer, i: number): number {
  const c = b[i] as number;
  const major = c >> 5;
  const ai = c & 0x1f;
  let arg = ai;
  let next = i + 1;
  if (ai === 24) {
    arg = b.readUInt8(i + 1);
    next = i + 2;
  } else if (ai === 25) {
    arg = b.readUInt16BE(i + 1);
    next = i + 3;
  } else if (ai === 26) {
    arg = b.readUInt32BE(i + 1);
    next = i + 5;
  } else if (ai === 27) {
    arg = Number(b.readBigUInt64BE(i + 1));
    next = i + 9;
  } else if (ai === 31) {
    // Indefinite length (major 2-5): items until the break byte.
    if (major === 7) return next;
    // A map's keys and values are items too, so one loop serves lists, maps and chunked strings.
    while (b[next] !== 0xff) next = skipItem(b, next);
    return next + 1;
  } else if (ai > 24) throw new Error(`unexpected CBOR byte 0x${c.toString(16)}`);
  switch (major) {
    case 0:
    case 1:
    case 7:
      return next;
    case 2:
    case 3:
      return next + arg;
    case 4:
      for (let n = 0; n < arg; n++) next = skipItem(b, next);
      return next;
    case 5:
      for (let n = 0; n < 2 * arg; n++) next = skipItem(b, next);
      return next;
    default: // 6: a tag and its one item
      return skipItem(b, next);
  }
}

export const cborSerializer: Serializer = {
  name: 'cbor',
  subprotocol: 'wamp.2.cbor',
  rawSocketId: 3,
  binary: true,
  encode(value) {
    return encoder.encode(forCbor(value));
  },
  decode(data) {
    if (!mayNeedBigInt(data)) return numberDecoder.decode(data);
    // 8-byte integers (0x1b, 0x3b) and bignums (tags 2, 3) decode as BigInt here; those a
    // double holds exactly become numbers again.
    return smallBigIntsAsNumbers(encoder.decode(data));
  },
  tail(frame, index) {
    const first = frame[0] as number;
    let i = (first & 0x1f) < 24 || first === 0x9f ? 1 : 1 + (1 << ((first & 0x1f) - 24));
    for (let n = 0; n < index; n++) i = skipItem(frame, i);
    // An indefinite-length list ends with a break byte that is not part of its elements.
    return frame.subarray(i, first === 0x9f ? frame.length - 1 : frame.length);
  },
  encodeWithTail(head, tail, count) {
    const h = encoder.encode(forCbor(head));
    // A message has at most 7 elements: always a one-byte array header.
    h[0] = 0x80 | (head.length + count);
    return Buffer.concat([h, tail]);
  },
};
