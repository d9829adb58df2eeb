// One open WebSocket bound to a SerializedPeer: messages in and out (text frames for JSON,
// binary for the others), keepalive by ws ping/pong, close with a grace period. Shared by the
// server and the client; the HTTP upgrade and subprotocol choice stay with them.

import type { Socket } from 'node:net';
import { WriteBatcher } from '../write-batching';
import WebSocket from 'ws';
import type { TransportInfo } from '../../protocol/peer';
import type { Serializer } from '../../serializers/serializer';
import type { Logger } from '../../util/logger';
import { Keepalive } from '../keepalive';
import type { TransportLimits } from '../limits';
import { SerializedPeer } from '../serialized-peer';
import { CLOSE_GRACE_MS } from '../transport-server';
import type { AdmissionTicket, CloseReason, ConnectionGuard } from '../connection-guard';

export interface WebSocketConnectionOptions {
  ws: WebSocket;
  serializer: Serializer;
  info: TransportInfo;
  limits: TransportLimits;
  logger: Logger;
  /** Called at most once, when the connection fails for a transport reason. */
  onTransportError(reason: string): void;
  /** Router side: the process-wide bounds and this connection's share of them. */
  admission?: { guard: ConnectionGuard; ticket: AdmissionTicket };
}

/** RFC 6455 close codes we send (1013: IANA registry, "Try Again Later"). */
export const WsCloseCode = { normal: 1000, internalError: 1011, tooBig: 1009, tryAgainLater: 1013 } as const;

/**
 * The parts of ws's Receiver that per-connection limits need: ws takes maxPayload once per
 * server, but a connection before WELCOME must get a smaller one, and the bytes it buffers for an
 * unfinished message must be charged to the process budget. The pre-auth-limits integration test
 * checks these fields exist, so a ws upgrade that renames them fails a test, not production.
 * ws (8.23) has no public way to do either: maxPayload is read from the server's options when
 * handleUpgrade hands the socket to the Receiver, verifyClient only admits or refuses the
 * upgrade, and nothing reports the bytes a Receiver buffers. The public alternative would be a
 * frame-header parser of our own on the socket's 'data' ahead of ws.
 */
export interface WsReceiverInternals {
  _maxPayload: number;
  _bufferedBytes: number;
  _totalPayloadLength: number;
  _fragments: Buffer[];
  /** Socket chunks not yet parsed (a partial frame's payload sits here until it completes). */
  _buffers: Buffer[];
}

export function wsReceiver(ws: WebSocket): WsReceiverInternals | undefined {
  const r = (ws as unknown as { _receiver?: Partial<WsReceiverInternals> })._receiver;
  if (!r || typeof r._maxPayload !== 'number' || typeof r._bufferedBytes !== 'number' || !Array.isArray(r._fragments) || !Array.isArray(r._buffers))
    return undefined;
  return r as WsReceiverInternals;
}

/** Bytes ws holds for messages not yet complete: unparsed input plus fragments so far. */
function heldBytes(r: WsReceiverInternals): number {
  let n = r._bufferedBytes;
  for (const f of r._fragments) n += f.length;
  return n;
}

/**
 * Lets go of what ws buffered for a message the router refused. ws keeps the chunks of an
 * unfinished frame (and, after a header it refused, the chunk that carried it) until its
 * Receiver is collected, which is after the close handshake or our grace timer: seconds in which
 * a flood of refused connections would each pin a socket read (up to 64 KiB). The connection is
 * ending, so nothing will parse them.
 */
function dropBuffered(r: WsReceiverInternals): void {
  r._buffers.length = 0;
  r._bufferedBytes = 0;
  r._fragments.length = 0;
}

/** A close reason is limited to 123 UTF-8 bytes (RFC 6455 §5.5); cut on a character boundary. */
function closeReasonText(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text) > 123) text = text.slice(0, -1);
  return text;
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class WebSocketConnection {
  readonly peer: SerializedPeer;
  private readonly ws: WebSocket;
  private readonly keepalive: Keepalive;
  private ending = false;
  private closeReason: string | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WebSocketConnectionOptions) {
    this.ws = options.ws;
    this.keepalive = new Keepalive({
      intervalMs: options.limits.keepaliveIntervalMs,
      timeoutMs: options.limits.keepaliveTimeoutMs,
      sendPing: () => {
        if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
      },
      onTimeout: () => {
        this.routerClose('keepalive_timeout', undefined, { detail: 'no pong' });
        this.fail('keepalive timeout: no pong');
      },
    });
    const sendOptions = { binary: options.serializer.binary };
    // ws keeps its net.Socket private; batching needs it (see write-batching.ts).
    const batcher = new WriteBatcher(() => (this.ws as unknown as { _socket?: Socket })._socket);
    this.peer = new SerializedPeer(options.info, options.serializer, {
      writeFrame: (frame) => {
        if (this.ending || this.ws.readyState !== WebSocket.OPEN) return;
        batcher.hold();
        this.ws.send(frame, sendOptions);
      },
      close: (reason) => this.end(reason, WsCloseCode.normal),
      bufferedBytes: () => this.ws.bufferedAmount,
      get receiveLimit() {
        const ticket = options.admission?.ticket;
        return ticket?.authenticated ? ticket.maxMessageBytes : undefined;
      },
      onWelcome: (session) => {
        const admission = this.options.admission;
        if (!admission) return;
        admission.ticket.authenticate(session);
        if (this.receiver) this.receiver._maxPayload = admission.ticket.hardMaxMessageBytes;
      },
    });
    this.receiver = wsReceiver(this.ws);
    if (options.admission) {
      if (this.receiver) this.receiver._maxPayload = options.admission.ticket.maxMessageBytes;
      // Fails loudly in tests (see WsReceiverInternals); in production the connection keeps
      // ws's server-wide maxPayload rather than failing.
      else options.logger.error('websocket: ws internals changed; pre-authentication limits are off');
    }
  }

  private readonly receiver: WsReceiverInternals | undefined;
  /** Set when the router closes the connection on its own, so it is counted once. */
  private routerClosed = false;

  private routerClose(reason: CloseReason, code: number | undefined, detail: { bytes?: number; limit?: number; detail?: string }): void {
    const admission = this.options.admission;
    if (!admission || this.routerClosed) return;
    this.routerClosed = true;
    if (this.receiver) {
      dropBuffered(this.receiver);
      admission.ticket.hold(0);
    }
    const session = admission.ticket.session;
    admission.guard.closed(reason, {
      peer: this.options.info.peer,
      listener: this.options.info.listener,
      ...(session !== undefined ? { session } : {}),
      ...detail,
      detail: code === undefined ? (detail.detail ?? reason) : `${detail.detail ?? reason}; websocket close ${code}`,
    });
  }

  /** After ws consumed a chunk: charge what it still holds, close when the budget is full. */
  private checkHeld(): void {
    const admission = this.options.admission;
    if (!admission || !this.receiver || this.ending) return;
    const held = heldBytes(this.receiver);
    if (admission.ticket.hold(held)) return;
    this.routerClose('buffer_budget_full', WsCloseCode.tryAgainLater, { bytes: held, limit: admission.guard.limits.inboundBufferBytes });
    this.ending = true;
    this.closeReason = 'inbound buffer budget full';
    this.keepalive.stop();
    this.options.onTransportError(this.closeReason);
    try {
      this.ws.close(WsCloseCode.tryAgainLater, 'server busy: inbound buffer budget full');
    } catch {
      // Not open yet or already closing: terminate below does it.
    }
    this.endUnauthenticated();
    this.graceTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    // Read no more: the rest of the refused frame stays in the kernel until the socket goes
    // (ws would otherwise buffer it again while the close handshake runs).
    this.receiver._maxPayload = 1;
    (this.ws as unknown as { _socket?: Socket })._socket?.pause();
    this.notifyClosed(this.closeReason);
  }

  /**
   * Before WELCOME the router does not wait for the peer's close frame: FIN follows ours as soon
   * as it is written, so a flood of refused connections does not keep a connection's objects for
   * the grace period each (the grace timer still ends a peer that never closes its side).
   */
  private endUnauthenticated(): void {
    if (this.options.admission?.ticket.authenticated !== false) return;
    (this.ws as unknown as { _socket?: Socket })._socket?.end();
  }

  start(): void {
    // Text or binary alike: a JSON client may use either, and the serializer decides validity.
    this.ws.on('message', (data: WebSocket.RawData) => {
      if (this.ending) return;
      try {
        this.keepalive.alive();
        this.peer.receiveFrame(toBuffer(data));
      } catch (err) {
        this.options.logger.error('websocket: handler threw; closing connection', { peer: this.options.info.peer, error: err });
        this.end('internal error', WsCloseCode.internalError);
      }
    });
    this.ws.on('pong', () => this.keepalive.alive());
    this.ws.on('ping', () => this.keepalive.alive());
    // ws reports protocol errors (oversized message, bad frame, invalid UTF-8) here and then
    // closes the connection with the matching close code itself.
    this.ws.on('error', (err: Error & { code?: string }) => {
      if (this.ending) return;
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        const ticket = this.options.admission?.ticket;
        this.routerClose(ticket?.authenticated === false ? 'pre_auth_message_too_large' : 'message_too_large', WsCloseCode.tooBig, {
          ...(this.receiver ? { bytes: this.receiver._totalPayloadLength } : {}),
          ...(ticket ? { limit: ticket.hardMaxMessageBytes } : {}),
          detail: 'message over the limit (type not read: refused at its frame header)',
        });
      } else {
        this.routerClose('bad_frame', undefined, { detail: `${err.code ?? 'error'}: ${err.message}` });
      }
      this.fail(`websocket error: ${err.code ?? err.message}`);
    });
    if (this.options.admission) {
      // Registered after ws's own 'data' listener, so ws has parsed the chunk by now.
      (this.ws as unknown as { _socket?: Socket })._socket?.on('data', () => this.checkHeld());
      this.ws.once('close', () => this.options.admission?.ticket.release());
    }
    this.ws.on('close', (code: number, reason: Buffer) => {
      this.keepalive.stop();
      if (this.graceTimer) clearTimeout(this.graceTimer);
      const text = reason.length > 0 ? ` ${reason.toString('utf8')}` : '';
      this.notifyClosed(this.closeReason ?? `websocket closed by peer (${code}${text})`);
    });
    this.keepalive.start();
  }

  private end(reason: string, code: number): void {
    if (this.ending) return;
    this.ending = true;
    this.closeReason = reason;
    this.keepalive.stop();
    try {
      this.ws.close(code, closeReasonText(reason));
    } catch {
      this.ws.terminate();
    }
    // ws waits 30 s for the closing handshake by default; a dead peer should not hold a slot.
    this.graceTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private fail(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.closeReason = reason;
    this.keepalive.stop();
    this.options.logger.debug('websocket: transport error', { peer: this.options.info.peer, reason });
    this.options.onTransportError(reason);
    if (this.ws.readyState === WebSocket.CLOSING) {
      // ws has already queued the close frame carrying the reason code (1009 for an oversized
      // message); give it a moment to leave so the client learns why.
      this.endUnauthenticated();
      this.graceTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    } else {
      this.ws.terminate();
    }
    this.notifyClosed(reason);
  }

  private notifyClosed(reason: string): void {
    try {
      this.peer.transportClosed(reason);
    } catch (err) {
      this.options.logger.error('websocket: onClose handler threw', { peer: this.options.info.peer, error: err });
    }
  }
}
