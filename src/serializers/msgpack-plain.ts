// MessagePack for plain values (null, booleans, numbers, strings, lists, plain objects), written
// directly in MessagePack's preferred forms: the same bytes as msgpackr followed by the
// integers-as-integers rewrite (msgpack.ts), without that second walk over the encoded message,
// which was most of what a cross-serializer EVENT to a MessagePack peer cost beyond msgpackr.
// Anything else (BigInt, byte strings, non-finite numbers, class instances) is not written here:
// `encodePlainMsgpack` answers undefined and the caller takes the general path.

import { isPlainObject } from './binary-values';

const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;
/** Deeper than this is left to the general path (which has its own limit and error). */
const MAX_DEPTH = 512;
/** The scratch buffer is kept up to this size between messages; a larger message gets its own. */
const KEPT_BYTES = 64 * 1024;

/** Thrown inside the writer at the first value it does not write; never escapes this module. */
const notPlain = new Error('not a plain value');

let buf = Buffer.allocUnsafe(8192);
let pos = 0;

function room(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const grown = Buffer.allocUnsafe(size);
  buf.copy(grown, 0, 0, pos);
  buf = grown;
}

function writeNumber(v: number): void {
  room(9);
  if (v >>> 0 === v) {
    // Non-negative up to 32 bits (and -0, which msgpackr writes as 0 too).
    if (v < 0x80) buf[pos++] = v;
    else if (v < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = v;
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd;
      buf.writeUInt16BE(v, pos);
      pos += 2;
    } else {
      buf[pos++] = 0xce;
      buf.writeUInt32BE(v, pos);
      pos += 4;
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) buf[pos++] = 0x100 + v;
    else if (v >= -0x80) {
      buf[pos++] = 0xd0;
      buf[pos++] = v + 0x100;
    } else if (v >= -0x8000) {
      buf[pos++] = 0xd1;
      buf.writeInt16BE(v, pos);
      pos += 2;
    } else {
      buf[pos++] = 0xd2;
      buf.writeInt32BE(v, pos);
      pos += 4;
    }
  } else if (Number.isInteger(v) && v <= TWO_53 && v >= -TWO_53) {
    // Beyond 32 bits: uint64 when non-negative, int64 otherwise (what the rewrite makes of
    // msgpackr's float64), big-endian, high word signed.
    buf[pos] = v >= 0 ? 0xcf : 0xd3;
    const high = Math.floor(v / TWO_32);
    buf.writeInt32BE(high | 0, pos + 1);
    buf.writeUInt32BE(v - high * TWO_32, pos + 5);
    pos += 9;
  } else if (Number.isFinite(v)) {
    buf[pos++] = 0xcb;
    buf.writeDoubleBE(v, pos);
    pos += 8;
  } else throw notPlain; // NaN and ±Infinity: the general path decides
}

function writeString(s: string): void {
  const n = s.length;
  // The header is sized for the most bytes the text can take, then moved if it took fewer.
  const max = n * 3;
  const header = max < 0x20 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  room(header + max);
  const start = pos + header;
  let end = start;
  if (n < 64) {
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        end = start + buf.write(s, start, 'utf8');
        break;
      }
      buf[end++] = c;
    }
  } else end = start + buf.write(s, start, 'utf8');
  const length = end - start;
  const need = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  if (need < header) buf.copyWithin(pos + need, start, end);
  if (need === 1) buf[pos] = 0xa0 | length;
  else if (need === 2) {
    buf[pos] = 0xd9;
    buf[pos + 1] = length;
  } else if (need === 3) {
    buf[pos] = 0xda;
    buf.writeUInt16BE(length, pos + 1);
  } else {
    buf[pos] = 0xdb;
    buf.writeUInt32BE(length, pos + 1);
  }
  pos += need + length;
}

function writeHeader(n: number, fix: number, sixteen: number, thirtyTwo: number, fixMax: number): void {
  room(5);
  if (n < fixMax) buf[pos++] = fix | n;
  else if (n < 0x10000) {
    buf[pos++] = sixteen;
    buf.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    buf[pos++] = thirtyTwo;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function writeValue(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'number':
      return writeNumber(v);
    case 'boolean':
      room(1);
      buf[pos++] = v ? 0xc3 : 0xc2;
      return;
    case 'undefined':
      room(1);
      buf[pos++] = 0xc0;
      return;
    case 'object':
      break;
    default:
      throw notPlain;
  }
  if (v === null) {
    room(1);
    buf[pos++] = 0xc0;
    return;
  }
  if (depth > MAX_DEPTH) throw notPlain;
  if (Array.isArray(v)) {
    writeHeader(v.length, 0x90, 0xdc, 0xdd, 0x10);
    for (let i = 0; i < v.length; i++) writeValue(v[i], depth + 1);
    return;
  }
  if (!isPlainObject(v)) throw notPlain;
  // Object.keys, as msgpackr's variableMapSize writer: own enumerable string keys, in order.
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  writeHeader(keys.length, 0x80, 0xde, 0xdf, 0x10);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    writeString(k);
    writeValue(obj[k], depth + 1);
  }
}

/** The MessagePack bytes of `value` when it is plain throughout; undefined when it is not (the
 * caller encodes it the general way, which also says what cannot be represented). */
export function encodePlainMsgpack(value: unknown): Buffer | undefined {
  pos = 0;
  let out: Buffer | undefined;
  try {
    writeValue(value, 0);
    out = Buffer.from(buf.subarray(0, pos));
  } catch (err) {
    if (err !== notPlain) throw err;
  }
  // A large message's buffer is not kept for the small ones that follow.
  if (buf.length > KEPT_BYTES) buf = Buffer.allocUnsafe(8192);
  return out;
}
