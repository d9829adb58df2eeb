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

export interface WebSocketConnectionOptions {
  ws: WebSocket;
  serializer: Serializer;
  info: TransportInfo;
  limits: TransportLimits;
  logger: Logger;
  /** Called at most once, when the connection fails for a transport reason. */
  onTransportError(reason: string): void;
}

/** RFC 6455 close codes we send. */
export const WsCloseCode = { normal: 1000, internalError: 1011 } as const;

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
      onTimeout: () => this.fail('keepalive timeout: no pong'),
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
    });
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
      if (!this.ending) this.fail(`websocket error: ${err.code ?? err.message}`);
    });
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
