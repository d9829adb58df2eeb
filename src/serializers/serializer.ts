// The one interface every serializer implements (DESIGN §1). A serializer turns the array form
// of a message into bytes and back; it knows nothing of message semantics. It can also cut the
// trailing elements (the payload) out of a frame and write them again behind a new head, so a
// payload crosses the router between peers of one serializer without being decoded again.

export type SerializerName = 'json' | 'msgpack' | 'cbor';

/** What a decoder learned about a frame while reading it, for the encoders of the other
 * serializers that write the same values again (a cross-serializer receiver). */
export interface DecodeFacts {
  /** True when the decoded list holds only null, undefined, booleans, finite numbers, strings,
   * lists and plain objects, none nested deeper than 512: values every serializer writes
   * exactly as they are, so its encoder need not check them again. False when unknown. */
  plain: boolean;
}

export interface Serializer {
  readonly name: SerializerName;
  /** WebSocket subprotocol, e.g. wamp.2.json. */
  readonly subprotocol: string;
  /** RawSocket serializer id (spec: RawSocket handshake): 1 JSON, 2 MessagePack, 3 CBOR. */
  readonly rawSocketId: number;
  /** WebSocket frames: binary for msgpack/cbor, text for JSON. */
  readonly binary: boolean;
  /** Throws NotRepresentable when a value has no exact form in this format. With `plainFrom`,
   * the elements from that index on are known plain (DecodeFacts) and are not checked again. */
  encode(value: unknown[], plainFrom?: number): Buffer;
  /** Throws on malformed input; callers turn that into a protocol violation. Integers beyond
   * ±2^53 come back as BigInt, never as a rounded double. Fills in `facts` when given. */
  decode(data: Buffer, facts?: DecodeFacts): unknown;
  /** The encoded top-level elements from `index` to the end of `frame`, a frame `decode` has
   * accepted (so it is well-formed and a list of more than `index` elements). */
  tail(frame: Buffer, index: number): Buffer;
  /** Encodes the list `head` followed by `count` elements already encoded in this format. */
  encodeWithTail(head: unknown[], tail: Buffer, count: number): Buffer;
}
