// CBOR via cbor-x. useRecords off and no Uint8Array tag: both are cbor-x conventions that other
// WAMP peers (Autobahn, the firmware bridge) cannot decode. 64-bit integers decode as BigInt
// (int64AsNumber off); bignums (tags 2/3) as BigInt; unknown tags as cbor-x Tag objects, which
// encode back to the same tag.

import type { Encoder as EncoderClass } from 'cbor-x' with { 'resolution-mode': 'import' };
import { forCbor, smallBigIntsAsNumbers } from './binary-values';
import type { Serializer } from './serializer';

// cbor-x ships CommonJS at runtime but its types resolve as ESM under Node16 resolution.
const { Encoder } = require('cbor-x') as { Encoder: typeof EncoderClass };

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
} as ConstructorParameters<typeof Encoder>[0]);

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
    const value: unknown = encoder.decode(data);
    // Only 8-byte integers (0x1b, 0x3b) and bignums (tags 2, 3: 0xc2, 0xc3) decode as BigInt.
    return data.includes(0x1b) || data.includes(0x3b) || data.includes(0xc2) || data.includes(0xc3) ? smallBigIntsAsNumbers(value) : value;
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
