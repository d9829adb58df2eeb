// Prepares a value tree for msgpackr / cbor-x so every integer is written as an integer: both
// libraries write a JS number above 2^32 as float64, which typed peers (Autobahn|Python) reject
// where an ID belongs and which turns an exact 2^53-range counter into a float. Such numbers go
// to the encoder as BigInt. For MessagePack the walk also refuses what the format cannot carry
// (an integer beyond 64 bits, a CBOR tag, a Date…) with NotRepresentable instead of letting
// msgpackr pick a lossy or private encoding. Copy-on-write: the input (often shared by a
// fan-out) is never mutated, and nothing is allocated when there is nothing to convert.

import { describeValue, NotRepresentable } from './not-representable';

const minInt64 = -(2n ** 63n);
const maxUint64 = 2n ** 64n - 1n;

function isLargeInteger(v: number): boolean {
  // Up to 2^53 inclusive: the largest WAMP ID, and still exact as a double.
  return (v >= 0x100000000 || v < -0x80000000) && Number.isInteger(v) && Math.abs(v) <= 2 ** 53;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function convert(value: unknown, depth: number, strict: boolean): unknown {
  switch (typeof value) {
    case 'number':
      return isLargeInteger(value) ? BigInt(value) : value;
    case 'bigint':
      if (strict && (value < minInt64 || value > maxUint64)) throw new NotRepresentable('msgpack', `${describeValue(value)} (beyond 64 bits)`);
      return value;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null || depth > 512) return value;
  if (ArrayBuffer.isView(value)) {
    if (strict && !(value instanceof Uint8Array)) throw new NotRepresentable('msgpack', describeValue(value));
    return value;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      const c = convert(v, depth + 1, strict);
      if (c !== v) {
        out ??= value.slice();
        out[i] = c;
      }
    }
    return out ?? value;
  }
  if (strict && !isPlainObject(value)) throw new NotRepresentable('msgpack', describeValue(value));
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in obj) {
    const v = obj[k];
    const c = convert(v, depth + 1, strict);
    if (c !== v) {
      out ??= { ...obj };
      out[k] = c;
    }
  }
  return out ?? value;
}

/** For cbor-x: large integers as BigInt. CBOR carries every value a peer can send us (bignums,
 * tags, undefined), so nothing is refused. */
export function forCbor<T>(value: T): T {
  return convert(value, 0, false) as T;
}

/** For msgpackr: large integers as BigInt; throws NotRepresentable for what MessagePack lacks. */
export function forMsgpack<T>(value: T): T {
  return convert(value, 0, true) as T;
}

const maxExact = 2n ** 53n;

/** In place, on a freshly decoded tree: BigInts that a double holds exactly (|v| <= 2^53) become
 * numbers, as msgpackr's int64AsType 'auto' does. cbor-x decodes every 8-byte integer (any ID
 * above 2^32) and every bignum (node-cbor, hence AutobahnJS, writes even 5n as one) as BigInt. */
export function smallBigIntsAsNumbers(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value <= maxExact && value >= -maxExact ? Number(value) : value;
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
