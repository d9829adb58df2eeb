// Payload codecs of the MQTT bridge: an MQTT payload (bytes) to WAMP args/kwargs and back, per
// rule. Pure; owns where a payload lands in args/kwargs (docs/mqtt-bridge.md "Codecs"), not
// which rule applies nor what happens to a payload that fails (mqtt-bridge.ts counts it).
//
// MQTT -> WAMP (decode):
//   json/cbor/msgpack: an array -> args = the array; an object (map) -> kwargs = the object;
//                      any other value -> args = [value]; zero bytes -> no args, no kwargs.
//   text:              args = [the UTF-8 string] (invalid UTF-8 is a decode error).
//   raw:               args = [the bytes as a Buffer].
// WAMP -> MQTT (encode), the mirror image so that WAMP -> MQTT -> WAMP gives back the same
// args/kwargs whenever only one of them is non-empty:
//   json/cbor/msgpack: kwargs only -> the object; exactly one arg that is neither an array nor
//                      an object -> that value; no args, no kwargs -> zero bytes; otherwise
//                      the args array, with non-empty kwargs appended as its last element.
//   text:              one string arg -> its UTF-8 bytes; nothing -> zero bytes; else as json.
//   raw:               one Buffer/Uint8Array arg -> its bytes; one string -> UTF-8; nothing ->
//                      zero bytes; anything else is an encode error.

import type { Encoder as CborEncoderClass } from 'cbor-x' with { 'resolution-mode': 'import' };
import { Packr } from 'msgpackr';
import type { Dict } from '../../protocol/messages';

export const codecNames = ['json', 'text', 'raw', 'cbor', 'msgpack'] as const;
export type CodecName = (typeof codecNames)[number];

export interface WampPayload {
  args: unknown[];
  kwargs: Dict;
}

export interface PayloadCodec {
  readonly name: CodecName;
  /** Throws PayloadCodecError when the bytes are not a valid payload for this codec. */
  decode(payload: Uint8Array): WampPayload;
  /** Throws PayloadCodecError when args/kwargs cannot be represented. */
  encode(args: readonly unknown[], kwargs: Dict): Buffer;
}

export class PayloadCodecError extends Error {
  override readonly name = 'PayloadCodecError';
}

// cbor-x ships CommonJS at runtime but its types resolve as ESM under Node16 resolution (the
// same reason as src/serializers/cbor.ts). Same options as the WAMP serializer: no records, no
// Uint8Array tag, so any CBOR device can read what the bridge sends.

const { Encoder: CborEncoder } = require('cbor-x') as { Encoder: typeof CborEncoderClass };
const cbor = new CborEncoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, int64AsNumber: true } as ConstructorParameters<
  typeof CborEncoder
>[0]);
const packr = new Packr({ useRecords: false, mapsAsObjects: true, encodeUndefinedAsNil: true, int64AsType: 'number' });
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const EMPTY = Buffer.alloc(0);

function isPlainObject(v: unknown): v is Dict {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function hasKeys(d: Dict): boolean {
  for (const _ in d) return true;
  return false;
}

/** The structured-value rule shared by json, cbor and msgpack (see the header). */
function fromValue(value: unknown): WampPayload {
  if (Array.isArray(value)) return { args: value, kwargs: {} };
  if (isPlainObject(value)) return { args: [], kwargs: value };
  return { args: [value], kwargs: {} };
}

/** The one value a structured codec encodes, or `EMPTY` for no payload at all. */
function toValue(args: readonly unknown[], kwargs: Dict): unknown {
  const withKwargs = hasKeys(kwargs);
  if (args.length === 0) return withKwargs ? kwargs : EMPTY;
  if (!withKwargs) {
    const only = args[0];
    if (args.length === 1 && !Array.isArray(only) && !isPlainObject(only)) return only;
    return args;
  }
  return [...args, kwargs];
}

function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PayloadCodecError) throw err;
    throw new PayloadCodecError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const jsonCodec: PayloadCodec = {
  name: 'json',
  decode(payload) {
    if (payload.length === 0) return { args: [], kwargs: {} };
    return wrap('invalid JSON', () => fromValue(JSON.parse(utf8.decode(payload)) as unknown));
  },
  encode(args, kwargs) {
    const value = toValue(args, kwargs);
    if (value === EMPTY) return EMPTY;
    return wrap('not representable as JSON', () => {
      const text = JSON.stringify(value);
      if (text === undefined) throw new PayloadCodecError('not representable as JSON');
      return Buffer.from(text, 'utf8');
    });
  },
};

const textCodec: PayloadCodec = {
  name: 'text',
  decode(payload) {
    return wrap('invalid UTF-8', () => ({ args: [utf8.decode(payload)], kwargs: {} }));
  },
  encode(args, kwargs) {
    if (args.length === 0 && !hasKeys(kwargs)) return EMPTY;
    const only = args[0];
    if (args.length === 1 && typeof only === 'string' && !hasKeys(kwargs)) return Buffer.from(only, 'utf8');
    return jsonCodec.encode(args, kwargs);
  },
};

const rawCodec: PayloadCodec = {
  name: 'raw',
  decode(payload) {
    // A copy: mqtt.js may reuse the packet's memory, and WAMP subscribers keep what they get.
    return { args: [Buffer.from(payload)], kwargs: {} };
  },
  encode(args, kwargs) {
    if (args.length === 0 && !hasKeys(kwargs)) return EMPTY;
    const only = args[0];
    if (args.length === 1 && !hasKeys(kwargs)) {
      if (only instanceof Uint8Array) return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
      if (typeof only === 'string') return Buffer.from(only, 'utf8');
    }
    throw new PayloadCodecError('the raw codec sends exactly one bytes or string argument and no kwargs');
  },
};

const cborCodec: PayloadCodec = {
  name: 'cbor',
  decode(payload) {
    if (payload.length === 0) return { args: [], kwargs: {} };
    return wrap('invalid CBOR', () => fromValue(cbor.decode(payload) as unknown));
  },
  encode(args, kwargs) {
    const value = toValue(args, kwargs);
    if (value === EMPTY) return EMPTY;
    return wrap('not representable as CBOR', () => Buffer.from(cbor.encode(value)));
  },
};

const msgpackCodec: PayloadCodec = {
  name: 'msgpack',
  decode(payload) {
    if (payload.length === 0) return { args: [], kwargs: {} };
    return wrap('invalid MessagePack', () => fromValue(packr.unpack(payload) as unknown));
  },
  encode(args, kwargs) {
    const value = toValue(args, kwargs);
    if (value === EMPTY) return EMPTY;
    return wrap('not representable as MessagePack', () => Buffer.from(packr.pack(value)));
  },
};

export const payloadCodecs: Readonly<Record<CodecName, PayloadCodec>> = {
  json: jsonCodec,
  text: textCodec,
  raw: rawCodec,
  cbor: cborCodec,
  msgpack: msgpackCodec,
};

export function isCodecName(value: unknown): value is CodecName {
  return typeof value === 'string' && (codecNames as readonly string[]).includes(value);
}
