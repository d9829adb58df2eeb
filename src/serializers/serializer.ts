// The one interface every serializer implements (DESIGN §1). A serializer turns the array form
// of a message into bytes and back; it knows nothing of message semantics.

export type SerializerName = 'json' | 'msgpack' | 'cbor';

export interface Serializer {
  readonly name: SerializerName;
  /** WebSocket subprotocol, e.g. wamp.2.json. */
  readonly subprotocol: string;
  /** RawSocket serializer id (spec: RawSocket handshake): 1 JSON, 2 MessagePack, 3 CBOR. */
  readonly rawSocketId: number;
  /** WebSocket frames: binary for msgpack/cbor, text for JSON. */
  readonly binary: boolean;
  encode(value: unknown[]): Buffer;
  /** Throws on malformed input; callers turn that into a protocol violation. */
  decode(data: Buffer): unknown;
}
