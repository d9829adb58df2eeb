// Binds a byte-frame channel (a WebSocket, a RawSocket, a serial frame link) to a serializer,
// giving the Peer that sessions use. The one place where frames become messages: decode, then
// codec.fromWire; any failure becomes onProtocolViolation, never an exception.

import { fromWire, toWire } from '../protocol/codec';
import type { Message } from '../protocol/messages';
import type { Peer, PeerListener, TransportInfo } from '../protocol/peer';
import type { Serializer } from '../serializers/serializer';

/** What a transport provides underneath: send one frame, close, report unflushed bytes. */
export interface FrameChannel {
  /** Returns false when the frame is over the limit of the other end and was not sent. */
  writeFrame(frame: Buffer): boolean | void;
  close(reason: string): void;
  bufferedBytes(): number;
}

/** Fan-out sends one message object to many peers; each serializer encodes it only once. */
const wireCache = Symbol('wireCache');
type Cached = Message & { [wireCache]?: Partial<Record<string, Buffer>> };

export function encodeCached(msg: Message, serializer: Serializer): Buffer {
  const cached = msg as Cached;
  const hit = cached[wireCache]?.[serializer.name];
  if (hit) return hit;
  const frame = serializer.encode(toWire(msg));
  (cached[wireCache] ??= {})[serializer.name] = frame;
  return frame;
}

export class SerializedPeer implements Peer {
  private listener: PeerListener | undefined;
  private pending: Array<(l: PeerListener) => void> = [];
  private isClosed = false;

  constructor(
    readonly transport: TransportInfo,
    private readonly serializer: Serializer,
    private readonly channel: FrameChannel,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  bufferedBytes(): number {
    return this.channel.bufferedBytes();
  }

  send(msg: Message): boolean {
    if (this.isClosed) return true;
    let frame: Buffer;
    try {
      frame = encodeCached(msg, this.serializer);
    } catch {
      // A payload this serializer cannot carry is the sender's fault, not this connection's:
      // report it to the router, which answers the sender, and keep the connection.
      return false;
    }
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
      msg = fromWire(this.serializer.decode(frame));
    } catch (err) {
      const reason = `malformed ${this.serializer.name} message: ${(err as Error).message}`;
      this.deliver((l) => l.onProtocolViolation(reason));
      return;
    }
    this.deliver((l) => l.onMessage(msg));
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
