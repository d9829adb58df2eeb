// The client side of RawSocket (used by the uplink to reach a cloud router): connect over TCP,
// TLS or a Unix socket, send our handshake, check the router's reply, and hand back a Peer.
// Reconnecting and sessions are the caller's business.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Peer, TransportInfo } from '../../protocol/peer';
import type { Serializer } from '../../serializers/serializer';
import { quietLogger, type Logger } from '../../util/logger';
import { resolveTransportLimits, type TransportLimits } from '../limits';
import { loadClientTlsOptions, tlsInfoFromSocket, type ClientTlsOptions } from '../tls';
import { describeRemote, isLoopbackAddress } from '../transport-server';
import { RawSocketConnection } from './connection';
import { buildHandshake, exponentForMaxLength, HANDSHAKE_BYTES, maxLengthFromExponent, parseRouterReply } from './handshake';

export type RawSocketTarget = { host: string; port: number } | { path: string };

export interface RawSocketClientExtras {
  logger?: Logger;
  /** Reported as TransportInfo.listener, e.g. the uplink's name. */
  name?: string;
}

/** Rejection from a router that answered the handshake with an error reply (spec codes 1–4). */
export class RawSocketHandshakeRefused extends Error {
  constructor(
    message: string,
    readonly errorCode: number | undefined,
  ) {
    super(message);
    this.name = 'RawSocketHandshakeRefused';
  }
}

export function connectRawSocket(
  target: RawSocketTarget,
  serializer: Serializer,
  limitsIn: Partial<TransportLimits> = {},
  tlsOptions?: ClientTlsOptions,
  extras: RawSocketClientExtras = {},
): Promise<Peer> {
  const limits = resolveTransportLimits(limitsIn);
  const logger = (extras.logger ?? quietLogger).child('rawsocket-client');
  return new Promise<Peer>((resolve, reject) => {
    let socket: net.Socket;
    if ('path' in target) {
      if (tlsOptions) {
        reject(new Error('TLS over a Unix socket is not supported'));
        return;
      }
      socket = net.connect({ path: target.path });
    } else if (tlsOptions) {
      socket = tls.connect({ host: target.host, port: target.port, ...loadClientTlsOptions(tlsOptions) });
    } else {
      socket = net.connect({ host: target.host, port: target.port });
    }
    const remote = (): string =>
      'path' in target ? `unix:${target.path}` : describeRemote(socket.remoteAddress ?? target.host, socket.remotePort ?? target.port);
    const receiveLimit = maxLengthFromExponent(exponentForMaxLength(limits.maxMessageBytes));
    let received: Buffer = Buffer.alloc(0);
    let settled = false;

    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      finish();
      socket.on('error', () => undefined);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`RawSocket handshake timeout after ${limits.handshakeTimeoutMs} ms`)), limits.handshakeTimeoutMs).unref();
    const onError = (err: Error): void => fail(err);
    const onClose = (): void => fail(new Error('connection closed during the RawSocket handshake'));
    const onData = (chunk: Buffer): void => {
      try {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        if (received.length < HANDSHAKE_BYTES) return;
        const reply = parseRouterReply(received.subarray(0, HANDSHAKE_BYTES), serializer.rawSocketId);
        if (!reply.ok) {
          fail(new RawSocketHandshakeRefused(reply.reason, reply.errorCode));
          return;
        }
        finish();
        const address = 'path' in target ? undefined : socket.remoteAddress;
        const info: TransportInfo = {
          type: 'rawsocket',
          serializer: serializer.name,
          peer: remote(),
          loopback: 'path' in target || isLoopbackAddress(address),
          listener: extras.name ?? 'client',
        };
        if (socket instanceof tls.TLSSocket) info.tls = tlsInfoFromSocket(socket);
        const connection = new RawSocketConnection({
          socket,
          serializer,
          info,
          receiveLimit,
          sendLimit: reply.sendLimit,
          limits,
          logger,
          onTransportError: (reason) => logger.warn('transport error', { peer: info.peer, reason }),
        });
        connection.start();
        resolve(connection.peer);
        const rest = received.subarray(HANDSHAKE_BYTES);
        if (rest.length > 0) connection.feed(rest);
      } catch (err) {
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      if (!('path' in target)) socket.setNoDelay(true);
      socket.write(buildHandshake({ serializerId: serializer.rawSocketId, maxLength: limits.maxMessageBytes }));
    });
  });
}
