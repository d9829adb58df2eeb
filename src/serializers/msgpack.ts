// MessagePack via msgpackr. useRecords off: records are a msgpackr extension other WAMP peers
// cannot read. Maps decode to plain objects because WAMP dicts have string keys. 64-bit
// integers beyond ±2^53 decode as BigInt (int64AsType 'auto'), so they are never rounded, and
// integers are written as integers (integersAsIntegers).

import { Packr } from 'msgpackr';
import { checkMsgpack, classify, HUGE, msgpackFloatToInt, NOT_PLAIN } from './binary-values';
import { SCAN_MAX, scanMsgpack, UNKNOWN } from './frame-scan';
import { encodePlainMsgpack } from './plain-writer';
import type { Serializer } from './serializer';

// 'auto' (numbers up to 2^53, BigInt beyond) is in msgpackr's runtime but not its type declarations.
const options = { useRecords: false, mapsAsObjects: true, variableMapSize: true, encodeUndefinedAsNil: true };
const packr = new Packr({ ...options, int64AsType: 'auto' as 'bigint' });
/** Reads 64-bit integers as doubles: 'auto' makes a BigInt of every one (and two more to
 * compare it), which a payload of millisecond timestamps pays thousands of times. Its result
 * stands unless the frame has a 64-bit integer (0xcf, 0xd3) and the tree a number at 2^53. */
const numberPackr = new Packr({ ...options, int64AsType: 'number' });

/** Index after `items` items at `i` of a well-formed MessagePack buffer; with `rewrite`, each
 * integral float64 and non-negative int64 on the way is rewritten (see integersAsIntegers). */
function skipItems(b: Buffer, i: number, items: number, rewrite = false): number {
  while (items > 0) {
    items--;
    const c = b[i] as number;
    if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) i += 1;
    else if (c <= 0x8f) {
      i += 1;
      items += 2 * (c & 0x0f);
    } else if (c <= 0x9f) {
      i += 1;
      items += c & 0x0f;
    } else if (c <= 0xbf) i += 1 + (c & 0x1f);
    else
      switch (c) {
        case 0xc4: // bin 8, str 8
        case 0xd9:
          i += 2 + b.readUInt8(i + 1);
          break;
        case 0xc5:
        case 0xda:
          i += 3 + b.readUInt16BE(i + 1);
          break;
        case 0xc6:
        case 0xdb:
          i += 5 + b.readUInt32BE(i + 1);
          break;
        case 0xc7: // ext 8/16/32: length, type, data
          i += 3 + b.readUInt8(i + 1);
          break;
        case 0xc8:
          i += 4 + b.readUInt16BE(i + 1);
          break;
        case 0xc9:
          i += 6 + b.readUInt32BE(i + 1);
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          i += 5;
          break;
        case 0xd3:
          if (rewrite && (b[i + 1] as number) < 0x80) b[i] = 0xcf;
          i += 9;
          break;
        case 0xcb:
          if (rewrite) msgpackFloatToInt(b, i);
          i += 9;
          break;
        case 0xcf:
          i += 9;
          break;
        case 0xcc:
        case 0xd0:
          i += 2;
          break;
        case 0xcd:
        case 0xd1:
          i += 3;
          break;
        case 0xd4: // fixext 1/2/4/8/16
          i += 3;
          break;
        case 0xd5:
          i += 4;
          break;
        case 0xd6:
          i += 6;
          break;
        case 0xd7:
          i += 10;
          break;
        case 0xd8:
          i += 18;
          break;
        case 0xdc:
          items += b.readUInt16BE(i + 1);
          i += 3;
          break;
        case 0xdd:
          items += b.readUInt32BE(i + 1);
          i += 5;
          break;
        case 0xde:
          items += 2 * b.readUInt16BE(i + 1);
          i += 3;
          break;
        case 0xdf:
          items += 2 * b.readUInt32BE(i + 1);
          i += 5;
          break;
        default:
          throw new Error(`unexpected MessagePack byte 0x${c.toString(16)}`);
      }
  }
  return i;
}

function arrayHeaderLength(c: number): number {
  return c <= 0x9f ? 1 : c === 0xdc ? 3 : 5;
}

/** msgpackr writes a number beyond 32 bits as float64 and every BigInt below 2^63 as int64
 * (0xd3). MessagePack's own preference, and what Autobahn|Python, msgpack-python and the spec's
 * test vectors write, is an integer type, uint64 (0xcf) when non-negative. Each form is 9
 * bytes, so the type byte and the 8 bytes are rewritten in place: an ID in the head, and a
 * large integer in a payload that crossed from JSON or CBOR or was re-encoded (a testament, a
 * retained copy), so a MessagePack receiver sees what a MessagePack sender would have written.
 * Same-serializer payload bytes never come through here. No such byte, nothing to walk. */
function integersAsIntegers(b: Buffer): Buffer {
  if (b.includes(0xcb) || b.includes(0xd3)) skipItems(b, 0, 1, true);
  return b;
}

/** msgpackr and the rewrite: every value MessagePack can hold (the reference for msgpack-plain.ts). */
export function encodeGeneralMsgpack(value: unknown): Buffer {
  checkMsgpack(value);
  return integersAsIntegers(packr.pack(value));
}

export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  subprotocol: 'wamp.2.msgpack',
  rawSocketId: 2,
  binary: true,
  encode(value, plainFrom) {
    // Plain values (most messages) are written directly; the rest take msgpackr and the rewrite.
    const plain = encodePlainMsgpack(value);
    if (plain) return plain;
    if (plainFrom === undefined) checkMsgpack(value);
    else for (let i = 0; i < plainFrom && i < value.length; i++) checkMsgpack(value[i], 1);
    return integersAsIntegers(packr.pack(value));
  },
  decode(data, facts) {
    const fast: unknown = numberPackr.unpack(data);
    // A small frame: one pass over its bytes answers both questions (frame-scan.ts).
    const scanned = data.length <= SCAN_MAX ? scanMsgpack(data) : UNKNOWN;
    if (scanned !== UNKNOWN) {
      if (facts) facts.plain = scanned === 0;
      return scanned & HUGE ? packr.unpack(data) : fast;
    }
    if (!data.includes(0xcf) && !data.includes(0xd3)) {
      // No walk here: a receiver of another serializer checks the values as it encodes them.
      if (facts) facts.plain = false;
      return fast;
    }
    const flags = classify(fast);
    if (facts) facts.plain = (flags & NOT_PLAIN) === 0;
    return flags & HUGE ? packr.unpack(data) : fast;
  },
  tail(frame, index) {
    return frame.subarray(skipItems(frame, arrayHeaderLength(frame[0] as number), index));
  },
  encodeWithTail(head, tail, count) {
    let h = encodePlainMsgpack(head);
    if (!h) {
      checkMsgpack(head);
      h = integersAsIntegers(packr.pack(head));
    }
    // A message has at most 7 elements: always a one-byte fixarray header.
    h[0] = 0x90 | (head.length + count);
    return Buffer.concat([h, tail]);
  },
};
