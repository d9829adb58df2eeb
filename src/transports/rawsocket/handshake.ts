// The RawSocket opening handshake (spec: "RawSocket Transport", Handshake): parsing and building
// the 4-octet request, the success reply and the error reply, and negotiating limits. Pure: no
// I/O and no timers; the server and client own the sockets.

export const RAWSOCKET_MAGIC = 0x7f;
export const HANDSHAKE_BYTES = 4;

/** Error codes carried in the upper nibble of an error reply's second octet. */
export const RawSocketHandshakeError = {
  serializerUnsupported: 1,
  maxLengthUnacceptable: 2,
  reservedBitsUsed: 3,
  maxConnectionCount: 4,
} as const;
export type RawSocketHandshakeErrorCode = (typeof RawSocketHandshakeError)[keyof typeof RawSocketHandshakeError];

const errorText: Record<number, string> = {
  1: 'serializer unsupported',
  2: 'maximum message length unacceptable',
  3: 'use of reserved bits',
  4: 'maximum connection count reached',
};

export function describeHandshakeError(code: number): string {
  return errorText[code] ?? `unknown error ${code}`;
}

/** LLLL encodes a maximum message length of 2^(9+LLLL): 512 octets up to 16 MiB. */
export function maxLengthFromExponent(exponent: number): number {
  return 2 ** (9 + exponent);
}

/**
 * The largest LLLL whose length does not exceed `maxBytes`, so what we announce is never more
 * than we are configured to accept. Below 512 octets the spec has nothing smaller to offer.
 */
export function exponentForMaxLength(maxBytes: number): number {
  let exponent = 0;
  while (exponent < 15 && maxLengthFromExponent(exponent + 1) <= maxBytes) exponent++;
  return exponent;
}

function octets(second: number): Buffer {
  return Buffer.from([RAWSOCKET_MAGIC, second & 0xff, 0, 0]);
}

/** Client request, also the shape of the router's success reply. */
export function buildHandshake(options: { serializerId: number; maxLength: number }): Buffer {
  return octets((exponentForMaxLength(options.maxLength) << 4) | (options.serializerId & 0x0f));
}

export function buildErrorReply(code: RawSocketHandshakeErrorCode): Buffer {
  return octets(code << 4);
}

export type ParsedHandshake =
  | { kind: 'ok'; serializerId: number; lengthExponent: number; maxLength: number }
  | { kind: 'bad-magic' }
  | { kind: 'reserved-bits' }
  | { kind: 'error-reply'; code: number };

/**
 * Reads 4 octets from either side. A zero serializer nibble is an error reply when the router
 * sends it and an illegal request when a client does; callers tell the two apart.
 */
export function parseHandshake(bytes: Uint8Array): ParsedHandshake {
  if (bytes.length < HANDSHAKE_BYTES) throw new RangeError(`handshake needs ${HANDSHAKE_BYTES} octets, got ${bytes.length}`);
  if (bytes[0] !== RAWSOCKET_MAGIC) return { kind: 'bad-magic' };
  if (bytes[2] !== 0 || bytes[3] !== 0) return { kind: 'reserved-bits' };
  const second = bytes[1] ?? 0;
  const serializerId = second & 0x0f;
  const high = second >> 4;
  if (serializerId === 0) return { kind: 'error-reply', code: high };
  return { kind: 'ok', serializerId, lengthExponent: high, maxLength: maxLengthFromExponent(high) };
}

export interface RouterNegotiation {
  /** RawSocket ids of the serializers this listener speaks. */
  supportedSerializerIds: readonly number[];
  /** Our inbound limit (TransportLimits.maxMessageBytes). */
  maxMessageBytes: number;
  /** Set when the listener is full: the client gets error 4 (spec) instead of a session. */
  refuseConnectionCount?: boolean;
}

export type RouterHandshakeResult =
  | {
      ok: true;
      serializerId: number;
      /** The client may not send more than this: what we announced, which is what we enforce. */
      receiveLimit: number;
      /** We may not send more than this: the client's announced maximum. */
      sendLimit: number;
      reply: Buffer;
    }
  /** `reply` is absent when the spec says to drop the connection without one (not RawSocket). */
  | { ok: false; reason: string; reply?: Buffer };

/** Decides the router's answer to a client request. */
export function negotiateAsRouter(request: Uint8Array, options: RouterNegotiation): RouterHandshakeResult {
  const parsed = parseHandshake(request);
  switch (parsed.kind) {
    case 'bad-magic':
      return { ok: false, reason: 'not a RawSocket handshake (bad magic octet)' };
    case 'reserved-bits':
      return { ok: false, reason: 'handshake uses reserved bits', reply: buildErrorReply(RawSocketHandshakeError.reservedBitsUsed) };
    case 'error-reply':
      // From a client, serializer 0 is "illegal" (spec), the same answer as an unknown one.
      return { ok: false, reason: 'illegal serializer 0', reply: buildErrorReply(RawSocketHandshakeError.serializerUnsupported) };
    case 'ok':
      break;
  }
  if (!options.supportedSerializerIds.includes(parsed.serializerId)) {
    return {
      ok: false,
      reason: `serializer ${parsed.serializerId} unsupported`,
      reply: buildErrorReply(RawSocketHandshakeError.serializerUnsupported),
    };
  }
  if (options.refuseConnectionCount) {
    return { ok: false, reason: 'maximum connection count reached', reply: buildErrorReply(RawSocketHandshakeError.maxConnectionCount) };
  }
  const exponent = exponentForMaxLength(options.maxMessageBytes);
  return {
    ok: true,
    serializerId: parsed.serializerId,
    receiveLimit: maxLengthFromExponent(exponent),
    sendLimit: parsed.maxLength,
    reply: octets((exponent << 4) | parsed.serializerId),
  };
}

export type ClientHandshakeResult = { ok: true; sendLimit: number } | { ok: false; reason: string; errorCode?: number };

/** Checks the router's reply to the request we sent with `serializerId`. */
export function parseRouterReply(reply: Uint8Array, serializerId: number): ClientHandshakeResult {
  const parsed = parseHandshake(reply);
  switch (parsed.kind) {
    case 'bad-magic':
      return { ok: false, reason: 'router reply is not RawSocket (bad magic octet)' };
    case 'reserved-bits':
      return { ok: false, reason: 'router reply uses reserved bits' };
    case 'error-reply':
      return { ok: false, reason: `router refused: ${describeHandshakeError(parsed.code)}`, errorCode: parsed.code };
    case 'ok':
      if (parsed.serializerId !== serializerId) {
        return { ok: false, reason: `router answered serializer ${parsed.serializerId}, we asked for ${serializerId}` };
      }
      return { ok: true, sendLimit: parsed.maxLength };
  }
}
