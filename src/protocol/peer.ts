// The Peer seam between transports and sessions: a channel of typed messages with a little
// knowledge of where it leads. Router sessions and client sessions both talk to a Peer, so the
// same transports serve the router, the uplink and the bridges. No I/O here, only the contract.

import type { Message } from './messages';

export type TransportType = 'websocket' | 'rawsocket' | 'local' | 'serial';

export interface TlsInfo {
  /** The client certificate verified against the listener's CA. */
  authorized: boolean;
  subject?: Record<string, string | string[]>;
  fingerprint256?: string;
}

export interface TransportInfo {
  type: TransportType;
  /** Serializer name, or 'none' for the in-process transport. */
  serializer: string;
  /** Human-readable remote end: "127.0.0.1:53122", "unix:/run/wampgate.sock", "serial:/dev/ttyUSB0". */
  peer: string;
  /** Loopback TCP, a Unix socket or in-process: the default anonymous policy trusts only these. */
  loopback: boolean;
  /** Name of the listener (from config) the connection arrived on. */
  listener: string;
  tls?: TlsInfo;
}

/** A message the transport read whole although it is over the receiver's message limit: the
 * receiver refuses it (ERROR wamp.error.payload_size_exceeded where the protocol has one). */
export interface OverLimit {
  /** The message's size on the wire, and the limit it broke. */
  bytes: number;
  limit: number;
}

export interface PeerListener {
  /** `overLimit`: the message is over the receiver's limit and must not be routed. */
  onMessage(msg: Message, overLimit?: OverLimit): void;
  /** The peer sent something undecodable or malformed; the receiver ABORTs and closes. */
  onProtocolViolation(reason: string): void;
  /** The transport is gone (closed by either side, reset, or keepalive timeout). */
  onClose(reason: string): void;
}

/** Why a peer could not carry a message, in words for the sender's ERROR and the log. */
export type PeerRefusal =
  | {
      reason: 'not-representable';
      /** e.g. "the integer 18446744073709551616 (beyond 64 bits) cannot be represented in msgpack" */
      message: string;
    }
  | {
      /** The encoded message is over the maximum length the other end announced. */
      reason: 'too-large';
      bytes: number;
      limit: number;
    };

export interface Peer {
  readonly transport: TransportInfo;
  /** Bytes handed to the transport but not yet written to the OS: the outbound queue depth. */
  bufferedBytes(): number;
  /** Encodes and writes; never throws. A closed peer drops the message silently. Returns a
   * PeerRefusal when the message was not sent: `too-large` when it is larger than the limit the
   * other end announced (RawSocket) or than a frame may be (serial), with both sizes;
   * `not-representable` when its payload has no exact form in this peer's serializer. `false`
   * is a `too-large` whose sizes the peer does not know. */
  send(msg: Message): boolean | PeerRefusal;
  /** Closes the transport; onClose follows. Idempotent. */
  close(reason?: string): void;
  /** Exactly one listener; messages that arrive before it is set wait for it. */
  setListener(listener: PeerListener): void;
  readonly closed: boolean;
  /** The largest message the other end accepts, when it announced one (RawSocket's handshake,
   * a serial link's frame size); the session trims WELCOME to fit it. */
  readonly sendLimit?: number | undefined;
}
