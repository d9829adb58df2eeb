// JSON with the spec's binary convention ("Binary conversion of JSON Strings"): a byte string
// travels as a string of "\0" followed by its base64, so JSON and CBOR peers exchange bytes.

import type { Serializer } from './serializer';

function hasBinary(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (hasBinary(v, depth + 1)) return true;
    return false;
  }
  for (const k in value) if (hasBinary((value as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // Buffer.toJSON has already run on `value`; the original is still on the holder.
  const original = this[key];
  if (original instanceof Uint8Array) {
    return '\0' + Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
  }
  return value;
}

function revive(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return value.charCodeAt(0) === 0 ? Buffer.from(value.slice(1), 'base64') : value;
  }
  if (value === null || typeof value !== 'object' || depth > 256) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], depth + 1);
  } else {
    const obj = value as Record<string, unknown>;
    for (const k in obj) obj[k] = revive(obj[k], depth + 1);
  }
  return value;
}

export const jsonSerializer: Serializer = {
  name: 'json',
  subprotocol: 'wamp.2.json',
  rawSocketId: 1,
  binary: false,
  encode(value) {
    // The scan is cheaper than a replacer on every key, and most messages carry no bytes.
    const text = hasBinary(value) ? JSON.stringify(value, replacer) : JSON.stringify(value);
    return Buffer.from(text, 'utf8');
  },
  decode(data) {
    const text = data.toString('utf8');
    const value: unknown = JSON.parse(text);
    // "\0" is escaped as \u0000 in JSON text, so its absence proves there is nothing to revive.
    return text.includes('\\u0000') ? revive(value) : value;
  },
};
