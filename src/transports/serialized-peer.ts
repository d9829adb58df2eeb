// Binds a byte-frame channel (a WebSocket, a RawSocket, a serial frame link) to a serializer,
// giving the Peer that sessions use. The one place where frames become messages: decode, then
// codec.fromWire; any failure becomes onProtocolViolation, never an exception.

import { fromWire, payloadIndex, toWire, toWireHead } from '../protocol/codec';
import { getEncoded, setEncoded, type EncodedPayload, type Message, type Payload } from '../protocol/messages';
import type { OverLimit, Peer, PeerListener, PeerRefusal, TransportInfo } from '../protocol/peer';
import { NotRepresentable } from '../serializers/not-representable';
import { MessageType } from '../protocol/message-types';
import type { DecodeFacts, Serializer } from '../serializers/serializer';

/** What a transport provides underneath: send one frame, close, report unflushed bytes. */
export interface FrameChannel {
  /** Returns false when the frame is over the limit of the other end and was not sent. */
  writeFrame(frame: Buffer): boolean | void;
  close(reason: string): void;
  bufferedBytes(): number;
  /** Called with the session ID just before WELCOME is written: the transport lifts its
   * pre-authentication limits (connection-guard.ts). */
  onWelcome?(session: number): void;
  /** Called with the details of an inbound HELLO (before the session sees it): what the peer
   * says about itself, e.g. its `agent` (rawsocket/connection.ts decides on PINGs from it). */
  onHello?(details: Readonly<Record<string, unknown>>): void;
  /** The largest frame the other end accepts, when it announced one (RawSocket, serial). */
  readonly sendLimit?: number;
  /** The router's message limit for this connection (limits.maxMessageBytes, once
   * authenticated): a larger frame the transport still read is decoded only to be refused. */
  readonly receiveLimit?: number | undefined;
}

/** Fan-out sends one message object to many peers; each serializer encodes it only once. */
const wireCache = Symbol('wireCache');
type Cached = Message & { [wireCache]?: Partial<Record<string, Buffer>> };

export function encodeCached(msg: Message, serializer: Serializer): Buffer {
  const cached = msg as Cached;
  const hit = cached[wireCache]?.[serializer.name];
  if (hit) return hit;
  const frame = encode(msg, serializer);
  (cached[wireCache] ??= {})[serializer.name] = frame;
  return frame;
}

/** A payload encoded by a peer of this same serializer is written back byte for byte behind
 * the new head: no re-encoding (faster), and nothing the decoded form could lose on the way.
 * One another serializer's decoder found plain is not checked value by value again. */
function encode(msg: Message, serializer: Serializer): Buffer {
  const encoded = getEncoded(msg as Payload);
  if (encoded === undefined) return serializer.encode(toWire(msg));
  if (encoded.serializer === serializer.name) return serializer.encodeWithTail(toWireHead(msg), encoded.bytes as Buffer, encoded.count);
  return serializer.encode(toWire(msg), encoded.plain === true ? payloadIndex(msg.type) : undefined);
}

/** The payload's own bytes, cut out of the frame only when a receiver of the same serializer
 * asks for them: a message that only crosses serializers never pays for the cut. */
class FramePayload implements EncodedPayload {
  private cut: Buffer | undefined;
  /** A field, not a getter: every receiver's encode reads it. */
  readonly serializer: string;
  constructor(
    private readonly s: Serializer,
    private readonly frame: Buffer,
    private readonly index: number,
    readonly count: number,
    readonly plain: boolean,
  ) {
    this.serializer = s.name;
  }
  get bytes(): Buffer {
    return (this.cut ??= this.s.tail(this.frame, this.index));
  }
}

export class SerializedPeer implements Peer {
  private listener: PeerListener | undefined;
  private pending: Array<(l: PeerListener) => void> = [];
  private isClosed = false;
  private readonly facts: DecodeFacts = { plain: false };
  /** The channel's sendLimit, fixed for its life (RawSocket: from the handshake), read once
   * here rather than once per message sent. */
  readonly sendLimit: number | undefined;

  constructor(
    readonly transport: TransportInfo,
    private readonly serializer: Serializer,
    private readonly channel: FrameChannel,
  ) {
    this.sendLimit = channel.sendLimit;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  bufferedBytes(): number {
    return this.channel.bufferedBytes();
  }

  send(msg: Message): boolean | PeerRefusal {
    if (this.isClosed) return true;
    let frame: Buffer;
    try {
      frame = encodeCached(msg, this.serializer);
    } catch (err) {
      // A payload this serializer cannot carry is the sender's fault, not this connection's:
      // report it to the router, which answers the sender, and keep the connection.
      const message = err instanceof NotRepresentable ? err.message : `the payload cannot be encoded in ${this.serializer.name}: ${(err as Error).message}`;
      return { reason: 'not-representable', message };
    }
    const limit = this.sendLimit;
    // Over the other end's announced length: not written (it would have to fail the connection
    // on receipt); the session answers for it (core/session-outbound.ts).
    if (limit !== undefined && frame.length > limit) return { reason: 'too-large', bytes: frame.length, limit };
    // Only once it fits: a WELCOME the peer cannot receive authenticates nothing.
    if (msg.type === MessageType.WELCOME) this.channel.onWelcome?.(msg.session);
    return this.channel.writeFrame(frame) !== false;
  }

  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.channel.close(reason);
    this.transportClosed(reason);
  }

  setListener(listener: PeerListener): void {
    this.listener = listener;
    const pending = this.pending;
    this.pending = [];
    for (const fn of pending) fn(listener);
  }

  /** Called by the transport for every complete inbound frame. */
  receiveFrame(frame: Buffer): void {
    if (this.isClosed) return;
    let msg: Message;
    try {
      const wire = this.serializer.decode(frame, this.facts);
      msg = fromWire(wire);
      // Keep the payload's own bytes beside the decoded form (see encode above). The frame is
      // the transport's own buffer for this message only, so a view of it is safe to keep.
      const limit = this.channel.receiveLimit;
      if (limit !== undefined && frame.length > limit) {
        this.deliverMessage(msg, { bytes: frame.length, limit });
        return;
      }
      const index = payloadIndex(msg.type);
      if (index !== undefined && (wire as unknown[]).length > index) {
        setEncoded(msg as Payload, new FramePayload(this.serializer, frame, index, (wire as unknown[]).length - index, this.facts.plain));
      }
    } catch (err) {
      const reason = `malformed ${this.serializer.name} message: ${(err as Error).message}`;
      this.deliver((l) => l.onProtocolViolation(reason));
      return;
    }
    if (msg.type === MessageType.HELLO) this.channel.onHello?.(msg.details);
    this.deliverMessage(msg);
  }

  /** Hands a message to the listener. No closure on this path (one per inbound message cost
   * an allocation each): only a message that arrives before the listener is set is queued. */
  private deliverMessage(msg: Message, overLimit?: OverLimit): void {
    const listener = this.listener;
    if (listener) listener.onMessage(msg, overLimit);
    else this.queueMessage(msg, overLimit);
  }

  private queueMessage(msg: Message, overLimit: OverLimit | undefined): void {
    this.pending.push((l) => l.onMessage(msg, overLimit));
  }

  /** Called by the transport when the underlying connection is gone. */
  transportClosed(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.deliver((l) => l.onClose(reason));
  }

  private deliver(fn: (l: PeerListener) => void): void {
    if (this.listener) fn(this.listener);
    else this.pending.push(fn);
  }
}
