// MessagePack and CBOR for plain values (null, undefined, booleans, finite numbers, strings,
// lists, plain objects), written directly in each format's preferred forms: the same bytes as
// msgpackr / cbor-x followed by their integers-as-integers rewrite (msgpack.ts, cbor.ts), without
// that second walk over the encoded message, which was most of what a cross-serializer EVENT to
// such a peer cost beyond the library. Anything else (BigInt, byte strings, non-finite numbers,
// tags, class instances) is not written here: the encoder answers undefined and the caller takes
// the general path, which also refuses what the format cannot carry. Each format has its own
// walk (one generic walk over a format table was slower than the libraries themselves); the
// scratch buffer, the UTF-8 text and the 8-byte integers are shared.

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
    put64(v, pos + 1);
    pos += 9;
  } else if (Number.isFinite(v)) {
    buf[pos++] = 0xcb;
    buf.writeDoubleBE(v, pos);
    pos += 8;
  } else throw notPlain; // NaN and ±Infinity: the general path decides
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Writes `s` as UTF-8 at `start` (room made by the caller); returns the end. A lone surrogate
 * becomes U+FFFD as msgpackr writes it; cbor-x writes its three raw bytes instead, so without
 * `loneSurrogates` such a string is declined. */
function writeText(s: string, start: number, loneSurrogates: boolean): number {
  const n = s.length;
  if (n < 64) {
    let end = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return writeUtf8(s, start, loneSurrogates);
      buf[end++] = c;
    }
    return end;
  }
  return writeUtf8(s, start, loneSurrogates);
}

function writeUtf8(s: string, start: number, loneSurrogates: boolean): number {
  if (!loneSurrogates && LONE_SURROGATE.test(s)) throw notPlain;
  return start + buf.write(s, start, 'utf8');
}

/** A big-endian 8-byte integer (|v| ≤ 2^53; two's complement when negative) at `at`. */
function put64(v: number, at: number): void {
  const high = Math.floor(v / TWO_32);
  buf.writeInt32BE(high | 0, at);
  buf.writeUInt32BE(v - high * TWO_32, at + 4);
}

// ---- MessagePack (msgpackr's forms) -----------------------------------------------------------

function writeString(s: string): void {
  const n = s.length;
  // The header is sized for the most bytes the text can take, then moved if it took fewer.
  const max = n * 3;
  const header = max < 0x20 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  room(header + max);
  const start = pos + header;
  const end = writeText(s, start, true);
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

function encodePlain(write: (v: unknown, depth: number) => void, value: unknown): Buffer | undefined {
  pos = 0;
  let out: Buffer | undefined;
  try {
    write(value, 0);
    out = Buffer.from(buf.subarray(0, pos));
  } catch (err) {
    if (err !== notPlain) throw err;
  }
  // A large message's buffer is not kept for the small ones that follow.
  if (buf.length > KEPT_BYTES) buf = Buffer.allocUnsafe(8192);
  return out;
}

/** The MessagePack bytes of `value` when it is plain throughout; undefined when it is not (the
 * caller encodes it the general way, which also says what cannot be represented). */
export function encodePlainMsgpack(value: unknown): Buffer | undefined {
  return encodePlain(writeValue, value);
}

// ---- CBOR (RFC 8949 §3: a major type and the shortest argument; cbor-x's choices) ----------

function cborHead(major: number, n: number): void {
  if (n < 24) buf[pos++] = major | n;
  else if (n < 0x100) {
    buf[pos++] = major | 24;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = major | 25;
    buf.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    buf[pos++] = major | 26;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function cborNumber(v: number): void {
  room(9);
  if (v >>> 0 === v) cborHead(0x00, v);
  else if (v < 0 && v >= -TWO_32 && Number.isInteger(v)) cborHead(0x20, -1 - v);
  else if (Number.isInteger(v) && v <= TWO_53 && v >= -TWO_53) {
    // Beyond 32 bits: major type 0 (n) or 1 (-1-n) with an 8-byte argument.
    buf[pos] = v >= 0 ? 0x1b : 0x3b;
    put64(v >= 0 ? v : -1 - v, pos + 1);
    pos += 9;
  } else if (Number.isFinite(v)) {
    buf[pos++] = 0xfb;
    buf.writeDoubleBE(v, pos);
    pos += 8;
  } else throw notPlain;
}

function cborString(s: string): void {
  const n = s.length;
  const max = n * 3;
  const header = max < 24 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
  room(header + max);
  const start = pos + header;
  const end = writeText(s, start, false);
  const length = end - start;
  const need = length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  if (need < header) buf.copyWithin(pos + need, start, end);
  cborHead(0x60, length);
  pos += length;
}

function cborValue(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      return cborString(v);
    case 'number':
      return cborNumber(v);
    case 'boolean':
      room(1);
      buf[pos++] = v ? 0xf5 : 0xf4;
      return;
    case 'undefined':
      room(1);
      buf[pos++] = 0xf7;
      return;
    case 'object':
      break;
    default:
      throw notPlain;
  }
  if (v === null) {
    room(1);
    buf[pos++] = 0xf6;
    return;
  }
  if (depth > MAX_DEPTH) throw notPlain;
  room(5);
  if (Array.isArray(v)) {
    cborHead(0x80, v.length);
    for (let i = 0; i < v.length; i++) cborValue(v[i], depth + 1);
    return;
  }
  if (!isPlainObject(v)) throw notPlain;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  cborHead(0xa0, keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    cborString(k);
    cborValue(obj[k], depth + 1);
  }
}

/** The CBOR bytes of `value` when it is plain throughout; undefined when it is not. */
export function encodePlainCbor(value: unknown): Buffer | undefined {
  return encodePlain(cborValue, value);
}
