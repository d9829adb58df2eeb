// One RawSocket connection after its handshake: frames in via the framer, PING answered with
// PONG, keepalive (RawSocket PINGs only to peers known to answer them, TCP keepalive otherwise),
// and the SerializedPeer on top. Shared by the server and the client; the handshake and the
// listener's bookkeeping stay with them.

import { WriteBatcher } from '../write-batching';
import type { Socket } from 'node:net';
import type { TransportInfo } from '../../protocol/peer';
import type { Serializer } from '../../serializers/serializer';
import type { Logger } from '../../util/logger';
import { Keepalive } from '../keepalive';
import type { TransportLimits } from '../limits';
import { SerializedPeer } from '../serialized-peer';
import { CLOSE_GRACE_MS } from '../transport-server';
import { encodeFrameHeader, RawSocketFramer, type FrameKindName, type FramerError } from './framer';
import type { AdmissionTicket, CloseReason, ConnectionGuard } from '../connection-guard';
import { sniffMessageType } from '../message-sniff';

/**
 * When this side sends RawSocket PINGs.
 * - `always`: from the start (a client choosing to probe the router it dialled).
 * - `answering`: only once the peer showed that it answers them: it sent a PING itself, or its
 *   HELLO named an agent known to answer (KNOWN_PONG_AGENTS). The RawSocket spec has PING, but
 *   not every client reads it: Autobahn|Python's Twisted RawSocket (Int32StringReceiver) takes
 *   the PING header for a 16 MiB length and closes, its asyncio one raises NotImplementedError on
 *   it, and neither they nor AutobahnJS name an agent in HELLO. Until then a dead peer is found by
 *   TCP keepalive (the socket's, probing after the same idle interval), which every peer answers
 *   in its kernel.
 */
export type PingPolicy = 'always' | 'answering';

/**
 * HELLO `agent`s of clients that answer RawSocket PING with PONG: wampgate's own client
 * ("wampgate-client", also the uplink's) and firmware-bridge devices ("wampdev/…").
 */
export const KNOWN_PONG_AGENTS = /^(wampgate|wampdev)\b/;

export interface RawSocketConnectionOptions {
  socket: Socket;
  serializer: Serializer;
  info: TransportInfo;
  /** What we announced in the handshake: inbound frames over it fail the connection. */
  receiveLimit: number;
  /** What the other side announced: outbound messages over it are dropped. */
  sendLimit: number;
  limits: TransportLimits;
  logger: Logger;
  /** Called at most once, when the connection fails for a transport reason. */
  onTransportError(reason: string): void;
  /** Router side: the process-wide bounds and this connection's share of them. */
  admission?: { guard: ConnectionGuard; ticket: AdmissionTicket };
  /** Default `always`; the listener uses `answering`. */
  pingPolicy?: PingPolicy;
}

export class RawSocketConnection {
  readonly peer: SerializedPeer;
  private readonly socket: Socket;
  private readonly framer: RawSocketFramer;
  private readonly keepalive: Keepalive;
  private pingCounter = 0;
  /** True once we send PINGs (see PingPolicy). */
  private pinging = false;
  /** Set once we decided to end the connection, so later socket errors are not counted again. */
  private ending = false;
  private closeReason: string | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RawSocketConnectionOptions) {
    this.socket = options.socket;
    this.framer = new RawSocketFramer({
      maxLength: options.admission ? Math.min(options.receiveLimit, options.admission.ticket.maxMessageBytes) : options.receiveLimit,
    });
    this.keepalive = new Keepalive({
      intervalMs: options.limits.keepaliveIntervalMs,
      timeoutMs: options.limits.keepaliveTimeoutMs,
      sendPing: () => {
        const payload = Buffer.allocUnsafe(4);
        payload.writeUInt32BE(this.pingCounter++ >>> 0, 0);
        this.write('ping', payload);
      },
      onTimeout: () => {
        this.routerClose('keepalive_timeout', { detail: 'no PONG' });
        this.fail('keepalive timeout: no PONG');
      },
    });
    this.peer = new SerializedPeer(options.info, options.serializer, {
      writeFrame: (frame) => this.writeMessage(frame),
      close: (reason) => this.end(reason),
      bufferedBytes: () => this.socket.writableLength,
      sendLimit: options.sendLimit,
      get receiveLimit() {
        const ticket = options.admission?.ticket;
        return ticket?.authenticated ? ticket.maxMessageBytes : undefined;
      },
      onWelcome: (session) => {
        const admission = this.options.admission;
        if (!admission) return;
        admission.ticket.authenticate(session);
        this.framer.setMaxLength(Math.min(this.options.receiveLimit, admission.ticket.hardMaxMessageBytes));
      },
      onHello: (details) => {
        if (typeof details.agent === 'string' && KNOWN_PONG_AGENTS.test(details.agent)) this.startPinging();
      },
    });
  }

  /** Counts and logs (rate-limited) a close the router decided on its own. */
  private routerClose(reason: CloseReason, detail: { bytes?: number; limit?: number; messageType?: string; detail?: string }): void {
    const admission = this.options.admission;
    if (!admission || this.ending) return;
    const session = admission.ticket.session;
    admission.guard.closed(reason, {
      peer: this.options.info.peer,
      listener: this.options.info.listener,
      ...(session !== undefined ? { session } : {}),
      ...detail,
    });
  }

  private framerFailed(error: FramerError): void {
    if (error.code === 'oversized') {
      const ticket = this.options.admission?.ticket;
      const messageType = error.head ? sniffMessageType(this.options.serializer.name, error.head) : undefined;
      this.routerClose(
        ticket?.authenticated === false && (error.length ?? 0) <= this.options.receiveLimit ? 'pre_auth_message_too_large' : 'message_too_large',
        {
          ...(messageType ? { messageType } : {}),
          ...(error.length !== undefined ? { bytes: error.length } : {}),
          ...(error.limit !== undefined ? { limit: error.limit } : {}),
        },
      );
    } else {
      this.routerClose('bad_frame', { detail: error.message });
    }
    this.fail(error.message);
  }

  /** Attaches to the socket and starts keepalive. */
  start(): void {
    this.socket.on('data', (chunk: Buffer) => this.feed(chunk));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after we decided to close is expected, not a new failure.
      if (!this.ending) this.fail(`socket error: ${err.code ?? err.message}`);
    });
    this.socket.on('close', () => {
      this.options.admission?.ticket.release();
      this.keepalive.stop();
      if (this.graceTimer) clearTimeout(this.graceTimer);
      this.notifyClosed(this.closeReason ?? 'connection closed by peer');
    });
    if ((this.options.pingPolicy ?? 'always') === 'always') this.startPinging();
    else if (this.options.limits.keepaliveIntervalMs > 0) {
      // Until the peer shows it answers PINGs: the kernel probes an idle connection after the same
      // interval and resets it when the peer's host stops answering.
      this.socket.setKeepAlive(true, this.options.limits.keepaliveIntervalMs);
    }
  }

  /** Whether this side sends RawSocket PINGs now (see PingPolicy). */
  get sendsPings(): boolean {
    return this.pinging;
  }

  private startPinging(): void {
    if (this.pinging || this.ending) return;
    this.pinging = true;
    this.keepalive.start();
  }

  /** Inbound bytes; also used for the bytes that arrived right behind the handshake. */
  feed(chunk: Buffer): void {
    if (this.ending) return;
    try {
      this.keepalive.alive();
      const { frames, error } = this.framer.push(chunk);
      for (const frame of frames) {
        if (this.peer.closed) return;
        if (frame.kind === 'regular') this.peer.receiveFrame(frame.payload);
        // Spec: reply to each PING with exactly one PONG echoing its payload. A peer that pings
        // knows PING frames, so it is probed too from now on.
        else if (frame.kind === 'ping') {
          this.write('pong', frame.payload);
          this.startPinging();
        }
      }
      if (error) return this.framerFailed(error);
      const admission = this.options.admission;
      if (admission && !admission.ticket.hold(this.framer.bufferedBytes)) {
        this.routerClose('buffer_budget_full', { bytes: this.framer.bufferedBytes, limit: admission.guard.limits.inboundBufferBytes });
        this.fail('inbound buffer budget full');
      }
    } catch (err) {
      // A bug above us (a listener that threw) must cost this connection, not the process.
      this.options.logger.error('rawsocket: handler threw; closing connection', { peer: this.options.info.peer, error: err });
      this.end('internal error');
    }
  }

  private writeMessage(frame: Buffer): boolean {
    // SerializedPeer refuses a message over sendLimit before it gets here, and the session
    // answers, counts and logs it (core/session-outbound.ts); this is the last guard.
    if (frame.length > this.options.sendLimit) return false;
    this.write('regular', frame);
    return true;
  }

  private readonly batcher = new WriteBatcher(() => this.socket);

  private write(kind: FrameKindName, payload: Buffer): void {
    if (this.ending || this.socket.destroyed || !this.socket.writable) return;
    this.batcher.hold();
    // cork/uncork turns the two writes into one writev: no copy of the payload.
    this.socket.cork();
    this.socket.write(encodeFrameHeader(kind, payload.length));
    this.socket.write(payload);
    this.socket.uncork();
  }

  /** Orderly close: queued frames (an ABORT, say) are flushed before FIN. */
  private end(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.closeReason = reason;
    this.keepalive.stop();
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Transport failure: counted, and the socket dropped at once (spec: "fail the connection"). */
  private fail(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.closeReason = reason;
    this.keepalive.stop();
    this.options.logger.debug('rawsocket: transport error', { peer: this.options.info.peer, reason });
    this.options.onTransportError(reason);
    this.socket.destroy();
    // The 'close' event follows, but the session should learn the reason now.
    this.notifyClosed(reason);
  }

  private notifyClosed(reason: string): void {
    try {
      this.peer.transportClosed(reason);
    } catch (err) {
      this.options.logger.error('rawsocket: onClose handler threw', { peer: this.options.info.peer, error: err });
    }
  }
}
