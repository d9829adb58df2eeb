// What a small MessagePack or CBOR frame holds, read from its bytes instead of from the decoded
// tree. A decoder needs two answers for every frame: whether an 8-byte integer may reach 2^53
// (so the frame must be read again exactly), and DecodeFacts. Native searches for 8-byte
// integers and then a walk of the decoded tree (classify) cost more than one pass over the
// bytes: with the pass, relaying a 100-byte PUBLISH costs 4 % to 11 % less CPU
// (bench/README.md, "The frame scan"). Only for frames up to SCAN_MAX bytes: nesting cannot
// pass 512 levels there, which the tree walk would otherwise have to count.
//
// The item lengths repeat what msgpack.ts (skipItems) and cbor.ts (headArg, headBytes) know,
// on purpose: stepping over each scalar with skipItems, or reading heads with headArg, made a
// scan of the 100-byte PUBLISH cost 107 ns instead of 62 (MessagePack) and 102 instead of 73
// (CBOR) on Node 20, which is most of what the scan saves.

import { HUGE, NOT_PLAIN } from './binary-values';

/** The frame holds something the scan does not vouch for (an indefinite length, a reserved
 * byte, a truncated item): the caller falls back to the tree walk. */
export const UNKNOWN = 4;

/** Frames up to this size are scanned: each nesting level takes at least one byte. */
export const SCAN_MAX = 512;

/** HUGE | NOT_PLAIN, NOT_PLAIN, 0, or UNKNOWN for a well-formed MessagePack frame (one that
 * msgpackr decoded). HUGE where an 8-byte integer (0xcf, 0xd3) is at or beyond ±2^53, as the
 * tree walk would find it.
 * NOT_PLAIN for a byte string, an extension type or a NaN/±Infinity float. */
export function scanMsgpack(b: Buffer): number {
  let flags = 0;
  let i = 0;
  let items = 1;
  const end = b.length;
  while (items > 0) {
    if (i >= end) return UNKNOWN;
    items--;
    const c = b[i] as number;
    if (c <= 0x7f || c >= 0xe0) {
      i += 1; // positive / negative fixint
    } else if (c <= 0x8f) {
      items += 2 * (c & 0x0f); // fixmap
      i += 1;
    } else if (c <= 0x9f) {
      items += c & 0x0f; // fixarray
      i += 1;
    } else if (c <= 0xbf) {
      i += 1 + (c & 0x1f); // fixstr
    } else {
      switch (c) {
        case 0xc0: // nil, false, true
        case 0xc2:
        case 0xc3:
          i += 1;
          break;
        case 0xcc: // uint8, int8
        case 0xd0:
          i += 2;
          break;
        case 0xcd:
        case 0xd1:
          i += 3;
          break;
        case 0xce:
        case 0xd2:
          i += 5;
          break;
        case 0xca: // float32: NaN and ±Infinity have every exponent bit set
          if (((b[i + 1] as number) & 0x7f) === 0x7f && ((b[i + 2] as number) & 0x80) === 0x80) flags |= NOT_PLAIN;
          i += 5;
          break;
        case 0xcb: // float64
          if (((b[i + 1] as number) & 0x7f) === 0x7f && ((b[i + 2] as number) & 0xf0) === 0xf0) flags |= NOT_PLAIN;
          i += 9;
          break;
        case 0xcf: // uint64: 2^53 and more have a bit set in the top 11
          if (b[i + 1] !== 0 || (b[i + 2] as number) >= 0x20) return HUGE | NOT_PLAIN;
          i += 9;
          break;
        case 0xd3: {
          // int64, two's complement: top 16 bits from 0x0020 to 0x7fff are 2^53 and more, from
          // 0x8000 to 0xffdf below -2^53; 0xffe0 followed by zeros is -2^53 itself.
          const top = ((b[i + 1] as number) << 8) | (b[i + 2] as number);
          if ((top >= 0x0020 && top < 0xffe0) || (top === 0xffe0 && isZero(b, i + 3, 6))) return HUGE | NOT_PLAIN;
          i += 9;
          break;
        }
        case 0xd9: // str 8/16/32
          i += 2 + (b[i + 1] as number);
          break;
        case 0xda:
          i += 3 + (((b[i + 1] as number) << 8) | (b[i + 2] as number));
          break;
        case 0xdb:
          if (i + 5 > end) return UNKNOWN;
          i += 5 + b.readUInt32BE(i + 1);
          break;
        case 0xc4: // bin 8/16/32: a byte string
          flags |= NOT_PLAIN;
          i += 2 + (b[i + 1] as number);
          break;
        case 0xc5:
          flags |= NOT_PLAIN;
          i += 3 + (((b[i + 1] as number) << 8) | (b[i + 2] as number));
          break;
        case 0xc6:
          if (i + 5 > end) return UNKNOWN;
          flags |= NOT_PLAIN;
          i += 5 + b.readUInt32BE(i + 1);
          break;
        case 0xd4: // fixext 1/2/4/8/16: type byte and data
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          flags |= NOT_PLAIN;
          i += 2 + (1 << (c - 0xd4));
          break;
        case 0xc7: // ext 8/16/32: length, type byte, data
          flags |= NOT_PLAIN;
          i += 3 + (b[i + 1] as number);
          break;
        case 0xc8:
          flags |= NOT_PLAIN;
          i += 4 + (((b[i + 1] as number) << 8) | (b[i + 2] as number));
          break;
        case 0xdc: // array 16, map 16
          items += ((b[i + 1] as number) << 8) | (b[i + 2] as number);
          i += 3;
          break;
        case 0xde:
          items += 2 * (((b[i + 1] as number) << 8) | (b[i + 2] as number));
          i += 3;
          break;
        default:
          // ext 32, array 32, map 32 (not in a frame this small) and the reserved 0xc1.
          return UNKNOWN;
      }
    }
  }
  return i === end ? flags : UNKNOWN;
}

/** The same for a well-formed CBOR frame (one that cbor-x decoded), RFC 8949 §3. HUGE where an
 * 8-byte integer (major type 0 or 1, additional information 27) is at or beyond ±2^53.
 * NOT_PLAIN for a byte string, a tag, a simple value other than false/true/null/undefined, or
 * a NaN/±Infinity float. Indefinite lengths are left to the tree walk (UNKNOWN). */
export function scanCbor(b: Buffer): number {
  let flags = 0;
  let i = 0;
  let items = 1;
  const end = b.length;
  while (items > 0) {
    if (i >= end) return UNKNOWN;
    items--;
    const c = b[i] as number;
    const major = c >> 5;
    const ai = c & 0x1f;
    if (ai >= 28) return UNKNOWN; // indefinite length (31) or reserved (28-30)
    if (major === 7) {
      if (ai < 20 || ai === 24)
        flags |= NOT_PLAIN; // a simple value cbor-x returns as an object
      else if (ai === 25) {
        if (((b[i + 1] as number) & 0x7c) === 0x7c) flags |= NOT_PLAIN; // half float NaN/±Infinity
      } else if (ai === 26) {
        if (((b[i + 1] as number) & 0x7f) === 0x7f && ((b[i + 2] as number) & 0x80) === 0x80) flags |= NOT_PLAIN;
      } else if (ai === 27) {
        if (((b[i + 1] as number) & 0x7f) === 0x7f && ((b[i + 2] as number) & 0xf0) === 0xf0) flags |= NOT_PLAIN;
      }
      i += ai < 24 ? 1 : 1 + (1 << (ai - 24));
      continue;
    }
    if (ai === 27 && major <= 1) {
      // 0: n, at 2^53 and beyond when a bit of the top 11 is set; 1: -1-n, at -2^53 and beyond
      // from n = 2^53 - 1 (0x001fffffffffffff) on.
      if (b[i + 1] !== 0 || (b[i + 2] as number) >= 0x20) return HUGE | NOT_PLAIN;
      if (major === 1 && b[i + 2] === 0x1f && isOnes(b, i + 3, 6)) return HUGE | NOT_PLAIN;
      i += 9;
      continue;
    }
    let arg: number;
    let head: number;
    if (ai < 24) {
      arg = ai;
      head = 1;
    } else if (ai === 24) {
      arg = b[i + 1] as number;
      head = 2;
    } else if (ai === 25) {
      arg = ((b[i + 1] as number) << 8) | (b[i + 2] as number);
      head = 3;
    } else if (ai === 26) {
      if (i + 5 > end) return UNKNOWN;
      arg = b.readUInt32BE(i + 1);
      head = 5;
    } else {
      return UNKNOWN; // an 8-byte length or tag number: not in a frame this small
    }
    switch (major) {
      case 0: // unsigned and negative integers
      case 1:
        i += head;
        break;
      case 2: // byte string
        flags |= NOT_PLAIN;
        i += head + arg;
        break;
      case 3: // text string
        i += head + arg;
        break;
      case 4: // array
        items += arg;
        i += head;
        break;
      case 5: // map
        items += 2 * arg;
        i += head;
        break;
      default: // 6: a tag and its item
        flags |= NOT_PLAIN;
        items += 1;
        i += head;
    }
  }
  return i === end ? flags : UNKNOWN;
}

function isZero(b: Buffer, from: number, count: number): boolean {
  for (let k = from; k < from + count; k++) if (b[k] !== 0) return false;
  return true;
}

function isOnes(b: Buffer, from: number, count: number): boolean {
  for (let k = from; k < from + count; k++) if (b[k] !== 0xff) return false;
  return true;
}
