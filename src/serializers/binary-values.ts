// Makes msgpackr / cbor-x write every integer as an integer: both libraries write a JS number
// beyond 32 bits as float64, which typed peers (Autobahn|Python) reject where an ID belongs and
// which turns an exact 2^53-range counter into a float. The float64 and the 64-bit integer
// forms are both 9 bytes, so the encoded buffer is fixed in place after encoding (no copy of
// the value tree, no BigInt per timestamp). For MessagePack a walk of the value first refuses
// what the format cannot carry (an integer beyond 64 bits, a CBOR tag, a Date…) with
// NotRepresentable instead of letting msgpackr pick a lossy or private encoding.

import { describeValue, NotRepresentable } from './not-representable';

const minInt64 = -(2n ** 63n);
const maxUint64 = 2n ** 64n - 1n;
const TWO_32 = 0x100000000;
const TWO_53 = 2 ** 53;

export function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Throws NotRepresentable for the first value MessagePack has no exact form for. */
export function checkMsgpack(value: unknown, depth = 0): void {
  switch (typeof value) {
    case 'bigint':
      if (value < minInt64 || value > maxUint64) throw new NotRepresentable('msgpack', `${describeValue(value)} (beyond 64 bits)`);
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value === null || depth > 512) return;
  if (ArrayBuffer.isView(value)) {
    if (!(value instanceof Uint8Array)) throw new NotRepresentable('msgpack', describeValue(value));
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      if (typeof v === 'object' || typeof v === 'bigint') checkMsgpack(v, depth + 1);
    }
    return;
  }
  if (!isPlainObject(value)) throw new NotRepresentable('msgpack', describeValue(value));
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'object' || typeof v === 'bigint') checkMsgpack(v, depth + 1);
  }
}

/** Writes the integer `v` (|v| <= 2^53) as 8 big-endian bytes at `at`, two's complement. */
function writeInt64(b: Buffer, at: number, v: number): void {
  const high = Math.floor(v / TWO_32);
  b.writeInt32BE(high | 0, at);
  b.writeUInt32BE(v - high * TWO_32, at + 4);
}

/** The float64 at `at` (its 8 bytes) when it holds an integer the encoder wrote as a float;
 * undefined for a real float or one beyond 2^53 (no longer an exact integer), left as is. */
function integralDouble(b: Buffer, at: number): number | undefined {
  const v = b.readDoubleBE(at);
  return Number.isInteger(v) && v <= TWO_53 && v >= -TWO_53 ? v : undefined;
}

/** MessagePack, at the float64 type byte `i`: an integer beyond 32 bits becomes uint64 (0xcf)
 * when non-negative, int64 (0xd3) otherwise, as MessagePack's own writers do. */
export function msgpackFloatToInt(b: Buffer, i: number): void {
  const v = integralDouble(b, i + 1);
  if (v === undefined) return;
  if (v >= 0) {
    b[i] = 0xcf;
    writeInt64(b, i + 1, v);
  } else {
    b[i] = 0xd3;
    writeInt64(b, i + 1, v);
  }
}

/** CBOR, at the float64 initial byte `i`: an integer becomes major type 0 (n) or 1 (-1-n) with
 * an 8-byte argument. cbor-x writes integers within ±2^32 as integers already. */
export function cborFloatToInt(b: Buffer, i: number): void {
  const v = integralDouble(b, i + 1);
  if (v === undefined) return;
  if (v >= 0) {
    b[i] = 0x1b;
    writeInt64(b, i + 1, v);
  } else {
    b[i] = 0x3b;
    writeInt64(b, i + 1, -1 - v);
  }
}

/** True when a number at or beyond ±2^53 occurs in a decoded tree: where a decoder that reads
 * 8-byte integers as doubles may have rounded one (a float that large only costs a re-read).
 * Numbers are checked inline, only containers recurse (a 64 KiB payload has thousands). */
export function hasHugeNumber(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return value >= TWO_53 || value <= -TWO_53;
  if (value === null || typeof value !== 'object' || depth > 512 || ArrayBuffer.isView(value)) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      if (typeof v === 'number') {
        if (v >= TWO_53 || v <= -TWO_53) return true;
      } else if (typeof v === 'object' && v !== null && hasHugeNumber(v, depth + 1)) return true;
    }
    return false;
  }
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'number') {
      if (v >= TWO_53 || v <= -TWO_53) return true;
    } else if (typeof v === 'object' && v !== null && hasHugeNumber(v, depth + 1)) return true;
  }
  return false;
}

/** classify: a number at or beyond ±2^53 occurs (a decoder reading 8-byte integers as doubles
 * may have rounded it; a float that large only costs an exact re-read). */
export const HUGE = 1;
/** classify: something other than null, undefined, booleans, finite numbers, strings, lists
 * and plain objects occurs (a byte string, a BigInt, a tag, a Date…), or nesting beyond 512. */
export const NOT_PLAIN = 2;

/** One walk of a freshly decoded tree answering both questions a decoder has: must it re-read
 * exactly (HUGE), and may other serializers' encoders skip their per-value checks (no
 * NOT_PLAIN, see DecodeFacts)? Stops at the first HUGE. As hasHugeNumber, leaves are checked
 * inline and only containers recurse. */
export function classify(value: unknown): number {
  if (typeof value === 'number') return value < TWO_53 && value > -TWO_53 ? 0 : value === value ? HUGE | NOT_PLAIN : NOT_PLAIN;
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return 0;
  return typeof value === 'object' ? classifyContainer(value, 0) : NOT_PLAIN;
}

function classifyContainer(value: object, depth: number): number {
  if (depth > 512) return NOT_PLAIN;
  let flags = 0;
  // Lists and plain objects first: neither is a typed array, so the common case never asks.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      const t = typeof v;
      if (t === 'number') {
        if (!((v as number) < TWO_53 && (v as number) > -TWO_53)) {
          if (v !== v)
            flags |= NOT_PLAIN; // NaN
          else return HUGE | NOT_PLAIN;
        }
      } else if (t === 'object') {
        if (v !== null) {
          const f = classifyContainer(v as object, depth + 1);
          if (f & HUGE) return f;
          flags |= f;
        }
      } else if (t !== 'string' && t !== 'boolean' && t !== 'undefined') flags |= NOT_PLAIN;
    }
    return flags;
  }
  if (!isPlainObject(value)) {
    if (ArrayBuffer.isView(value)) return NOT_PLAIN;
    // Anything else (a cbor-x Tag, a Date) is walked too: a tag's content may hold a huge number.
    flags = NOT_PLAIN;
  }
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    const t = typeof v;
    if (t === 'number') {
      if (!((v as number) < TWO_53 && (v as number) > -TWO_53)) {
        if (v !== v) flags |= NOT_PLAIN;
        else return HUGE | NOT_PLAIN;
      }
    } else if (t === 'object') {
      if (v !== null) {
        const f = classifyContainer(v as object, depth + 1);
        if (f & HUGE) return f;
        flags |= f;
      }
    } else if (t !== 'string' && t !== 'boolean' && t !== 'undefined') flags |= NOT_PLAIN;
  }
  return flags;
}

const maxExact = 2n ** 53n;

/** A CBOR bignum (tags 2/3) or 8-byte integer read as BigInt, as a number when a double holds
 * it exactly (|v| <= 2^53), as msgpackr's int64AsType 'auto' does. */
export function exactOrNumber(value: bigint): bigint | number {
  return value <= maxExact && value >= -maxExact ? Number(value) : value;
}

/** In place, on a freshly decoded tree: BigInts that a double holds exactly become numbers.
 * cbor-x's exact decoder reads every 8-byte integer (any ID above 2^32) as BigInt. */
export function smallBigIntsAsNumbers(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return exactOrNumber(value);
  if (value === null || typeof value !== 'object' || depth > 512 || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      if (typeof v === 'bigint' || (typeof v === 'object' && v !== null)) value[i] = smallBigIntsAsNumbers(v, depth + 1);
    }
  } else if (isPlainObject(value)) {
    const obj = value as Record<string, unknown>;
    for (const k in obj) {
      const v = obj[k];
      if (typeof v === 'bigint' || (typeof v === 'object' && v !== null)) obj[k] = smallBigIntsAsNumbers(v, depth + 1);
    }
  } else {
    // A cbor-x Tag: its content may hold integers too.
    const tagged = value as { value?: unknown };
    if ('value' in tagged && 'tag' in tagged) tagged.value = smallBigIntsAsNumbers(tagged.value, depth + 1);
  }
  return value;
}
