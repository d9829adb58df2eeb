// JSON without going through a double: integer literals beyond ±2^53 are read as BigInt and
// BigInt is written as an integer literal, so a 64-bit serial number or nanosecond timestamp
// keeps every digit. Byte strings follow the spec's convention ("\0" + base64). Plain JSON takes
// the native JSON.parse / JSON.stringify; only text or values that need it take the slow path.

import { hasHugeNumber } from './binary-values';
import { describeValue, NotRepresentable } from './not-representable';
import type { DecodeFacts } from './serializer';

const maxExact = 2n ** 53n;

/** With `facts`, says whether the result is plain (see DecodeFacts): JSON.parse makes nothing
 * else, so it is unless big integers or byte strings were read. */
export function parseJson(text: string, facts?: DecodeFacts): unknown {
  const value: unknown = JSON.parse(text);
  if (facts) facts.plain = false;
  // Only a number at or beyond ±2^53 can be a rounded integer literal (or a float in exponent
  // form: a false positive costs only the exact parse). Walking the parsed tree for one is
  // ~4x cheaper than scanning the text for 16-digit literals with a regular expression, which
  // took ~40% of JSON.parse's own time on a 64 KiB payload.
  if (hasHugeNumber(value)) return new ExactParser(text).parseDocument();
  // "\0" is escaped as \u0000 in JSON text, so its absence proves there is nothing to revive.
  if (text.includes('\\u0000')) return reviveBytes(value, 0);
  if (facts) facts.plain = true;
  return value;
}

function reviveBytes(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.charCodeAt(0) === 0 ? bytesFromJson(value) : value;
  if (value === null || typeof value !== 'object' || depth > 512) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveBytes(value[i], depth + 1);
  } else {
    const obj = value as Record<string, unknown>;
    for (const k in obj) obj[k] = reviveBytes(obj[k], depth + 1);
  }
  return value;
}

function bytesFromJson(s: string): Buffer {
  return Buffer.from(s.slice(1), 'base64');
}

const numberToken = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const controlChar = /[\u0000-\u001f]/;

/** A strict recursive-descent JSON parser (RFC 8259) for the texts that carry big integers.
 * Strings are decoded by JSON.parse on their own slice, so escapes are exactly the native ones. */
class ExactParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseDocument(): unknown {
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected data after the JSON value');
    return v;
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.i}`);
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  private value(depth: number): unknown {
    if (depth > 512) this.fail('nesting too deep');
    this.ws();
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b /* { */:
        return this.object(depth);
      case 0x5b /* [ */:
        return this.array(depth);
      case 0x22 /* " */: {
        const str = this.string();
        return str.charCodeAt(0) === 0 ? bytesFromJson(str) : str;
      }
      case 0x74 /* t */:
        return this.literal('true', true);
      case 0x66 /* f */:
        return this.literal('false', false);
      case 0x6e /* n */:
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail('unexpected token');
    this.i += word.length;
    return value;
  }

  private number(): number | bigint {
    numberToken.lastIndex = this.i;
    const m = numberToken.exec(this.s);
    if (!m) this.fail('unexpected token');
    const token = m[0];
    this.i += token.length;
    // Up to 2^53 a double holds an integer exactly; beyond it only a BigInt does. Fewer than 16
    // digits is always below 2^53; at 16+ the comparison must not go through a double.
    if (m[1] === undefined && m[2] === undefined && token.length >= 16) {
      const big = BigInt(token);
      if (big > maxExact || big < -maxExact) return big;
    }
    return Number(token);
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      const q = s.indexOf('"', j);
      if (q < 0) this.fail('unterminated string');
      let backslashes = 0;
      for (let k = q - 1; k > start && s.charCodeAt(k) === 0x5c; k--) backslashes++;
      if (backslashes > 0) escaped = true;
      if (backslashes % 2 === 0) {
        this.i = q + 1;
        const body = s.slice(start + 1, q);
        if (escaped || body.includes('\\')) return JSON.parse(s.slice(start, q + 1)) as string;
        if (controlChar.test(body)) this.fail('control character in string');
        return body;
      }
      j = q + 1;
    }
  }

  private array(depth: number): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail('expected , or ]');
    }
  }

  private object(depth: number): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x22) this.fail('expected a string key');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.i++) !== 0x3a) this.fail('expected :');
      const v = this.value(depth + 1);
      // An own "__proto__" key, as JSON.parse makes it, never the object's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.fail('expected , or }');
    }
  }
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True when JSON.stringify writes `value` exactly: only strings, finite numbers, booleans,
 * null/undefined, arrays and plain objects. Most messages are; the walk is cheaper than a
 * replacer. Leaves are checked inline (no call per number or string: a 64 KiB payload has
 * thousands), only containers recurse. */
function isNativeJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'object':
      return value === null || isNativeContainer(value, depth);
    case 'number':
      return value - value === 0; // false for NaN and ±Infinity
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    default:
      return false;
  }
}

function isNativeMember(v: unknown, depth: number): boolean {
  const t = typeof v;
  if (t === 'string' || t === 'boolean' || t === 'undefined') return true;
  if (t === 'number') return (v as number) - (v as number) === 0;
  return t === 'object' && (v === null || isNativeContainer(v as object, depth));
}

function isNativeContainer(value: object, depth: number): boolean {
  if (depth > 512) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      if (typeof v !== 'string' && !isNativeMember(v, depth + 1)) return false;
    }
    return true;
  }
  if (!isPlainObject(value)) return false;
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (typeof v !== 'string' && !isNativeMember(v, depth + 1)) return false;
  }
  return true;
}

/** With `plainFrom` (value a list), its elements from that index on are known plain
 * (DecodeFacts), so only those before it are checked. */
export function stringifyJson(value: unknown, plainFrom?: number): string {
  if (plainFrom === undefined ? isNativeJson(value, 0) : isNativeHead(value as unknown[], plainFrom)) return JSON.stringify(value);
  return write(value, 0);
}

function isNativeHead(list: unknown[], plainFrom: number): boolean {
  for (let i = 0; i < plainFrom && i < list.length; i++) if (!isNativeJson(list[i], 1)) return false;
  return true;
}

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new NotRepresentable('json', describeValue(value));
      return JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
      return 'null';
    case 'object': {
      if (value === null) return 'null';
      if (depth > 512) throw new NotRepresentable('json', 'a value nested deeper than 512 levels');
      if (value instanceof Uint8Array) {
        return JSON.stringify('\0' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
      }
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + write(value[i], depth + 1);
        return out + ']';
      }
      if (!isPlainObject(value)) throw new NotRepresentable('json', describeValue(value));
      const obj = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const k in obj) {
        const v = obj[k];
        if (v === undefined) continue; // as JSON.stringify: an undefined member is left out
        out += (first ? '' : ',') + JSON.stringify(k) + ':' + write(v, depth + 1);
        first = false;
      }
      return out + '}';
    }
    default:
      throw new NotRepresentable('json', describeValue(value));
  }
}
