// The client side of WebSocket (used by the uplink to reach a cloud router): connect, insist on
// the one WAMP subprotocol we asked for, and hand back a Peer. Reconnecting and sessions are the
// caller's business.

import type { IncomingMessage } from 'node:http';
import * as tls from 'node:tls';
import WebSocket from 'ws';
import type { Peer, TransportInfo } from '../../protocol/peer';
import type { Serializer } from '../../serializers/serializer';
import { quietLogger, type Logger } from '../../util/logger';
import { resolveTransportLimits, type TransportLimits } from '../limits';
import { loadClientTlsOptions, tlsInfoFromSocket, type ClientTlsOptions } from '../tls';
import { describeRemote, isLoopbackAddress } from '../transport-server';
import { WebSocketConnection } from './connection';

export interface WebSocketClientOptions {
  /** ws:// or wss:// */
  url: string;
  serializer: Serializer;
  limits?: Partial<TransportLimits>;
  /** For wss:// URLs: CA, client certificate, server name. */
  tls?: ClientTlsOptions;
  logger?: Logger;
  /** Reported as TransportInfo.listener, e.g. the uplink's name. */
  name?: string;
}

export function connectWebSocket(options: WebSocketClientOptions): Promise<Peer> {
  const limits = resolveTransportLimits(options.limits);
  const logger = (options.logger ?? quietLogger).child('websocket-client');
  const { serializer } = options;
  return new Promise<Peer>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(options.url, [serializer.subprotocol], {
        maxPayload: limits.maxMessageBytes,
        handshakeTimeout: limits.handshakeTimeoutMs,
        perMessageDeflate: false,
        ...(options.tls ? loadClientTlsOptions(options.tls) : {}),
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    let response: IncomingMessage | undefined;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      ws.off('error', onError);
      ws.off('close', onClose);
      ws.on('error', () => undefined);
      ws.terminate();
      reject(error);
    };
    const onError = (err: Error): void => fail(err);
    const onClose = (code: number): void => fail(new Error(`WebSocket closed during the handshake (${code})`));
    ws.on('upgrade', (res: IncomingMessage) => {
      response = res;
    });
    ws.on('error', onError);
    ws.on('close', onClose);
    ws.once('open', () => {
      if (settled) return;
      if (ws.protocol !== serializer.subprotocol) {
        fail(new Error(`server chose subprotocol ${JSON.stringify(ws.protocol)}, we asked for ${serializer.subprotocol}`));
        return;
      }
      settled = true;
      ws.off('error', onError);
      ws.off('close', onClose);
      const socket = response?.socket;
      const info: TransportInfo = {
        type: 'websocket',
        serializer: serializer.name,
        peer: socket ? describeRemote(socket.remoteAddress, socket.remotePort) : new URL(options.url).host,
        loopback: isLoopbackAddress(socket?.remoteAddress),
        listener: options.name ?? 'client',
      };
      if (socket instanceof tls.TLSSocket) info.tls = tlsInfoFromSocket(socket);
      const connection = new WebSocketConnection({
        ws,
        serializer,
        info,
        limits,
        logger,
        onTransportError: (reason) => logger.warn('transport error', { peer: info.peer, reason }),
      });
      connection.start();
      resolve(connection.peer);
    });
  });
}
