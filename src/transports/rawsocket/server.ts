// The RawSocket listener: TCP (optionally TLS) or a Unix domain socket, the router side of the
// handshake, and the listener's stats. Each accepted connection becomes a Peer handed to onPeer;
// framing and keepalive live in connection.ts, the routing above Peer is not ours.

import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Peer, TransportInfo } from '../../protocol/peer';
import { serializerByRawSocketId, serializers as allSerializers, type Serializer } from '../../serializers';
import { quietLogger, type Logger } from '../../util/logger';
import { resolveTransportLimits, type TransportLimits } from '../limits';
import { loadServerTlsOptions, tlsInfoFromSocket, type TlsOptions } from '../tls';
import {
  CLOSE_GRACE_MS,
  describeRemote,
  isLoopbackAddress,
  type ListenAddress,
  type TransportServer,
  type TransportServerStats,
  adoptConnection,
} from '../transport-server';
import { RawSocketConnection } from './connection';
import { buildErrorReply, HANDSHAKE_BYTES, negotiateAsRouter, RawSocketHandshakeError } from './handshake';
import { ConnectionGuard, type AdmissionTicket } from '../connection-guard';

interface RawSocketServerCommon {
  /** Listener name from config; reported in TransportInfo.listener. */
  name: string;
  onPeer(peer: Peer): void;
  /** Serializers offered; all of them by default. */
  serializers?: readonly Serializer[];
  limits?: Partial<TransportLimits>;
  /** Beyond this many open sessions a client gets handshake error 4 (spec). */
  maxConnections?: number;
  logger?: Logger;
  /** Process-wide admission and buffer bounds (one per gateway); its own one when absent. */
  guard?: ConnectionGuard;
}

export type RawSocketServerOptions = RawSocketServerCommon &
  (
    | {
        /** Port 0 picks a free port; address() tells which. */
        port: number;
        /** Defaults to 127.0.0.1: exposing a listener to the network must be an explicit choice. */
        host?: string;
        tls?: TlsOptions;
      }
    | { path: string }
  );

/** Removes a socket file left by a process that died; refuses to touch anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  let stat;
  try {
    stat = await fs.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to remove it`);
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (inUse) throw new Error(`${path} is in use by another process`);
  await fs.unlink(path);
}

export async function startRawSocketServer(options: RawSocketServerOptions): Promise<TransportServer> {
  const limits = resolveTransportLimits(options.limits);
  const logger = (options.logger ?? quietLogger).child('rawsocket');
  const offered = options.serializers ?? allSerializers;
  const supportedSerializerIds = offered.map((s) => s.rawSocketId);
  const unixPath = 'path' in options ? options.path : undefined;
  const tlsOptions = 'port' in options ? options.tls : undefined;
  const stats: TransportServerStats = { accepted: 0, active: 0, transportErrors: 0 };
  /** Sockets still in the handshake: close() destroys them. */
  const handshaking = new Set<net.Socket>();
  /** peer -> settles when its socket is gone: close() ends these in order (queued frames flush) and waits. */
  const sessions = new Map<Peer, Promise<void>>();
  let closing = false;
  const guard = options.guard ?? new ConnectionGuard(limits, logger);

  // With TLS the RawSocket handshake timer starts once TLS is up; the TLS handshake before it is
  // bounded by the same timeout, so a stalled client is gone within twice handshakeTimeoutMs.
  const server: net.Server = tlsOptions
    ? tls.createServer({ ...loadServerTlsOptions(tlsOptions), handshakeTimeout: limits.handshakeTimeoutMs })
    : // Nothing is read from a socket until it is admitted (resume() below): a refused one is
      // answered and closed without its first bytes (up to a 64 KiB read) ever reaching memory.
      net.createServer({ pauseOnConnect: true });
  /** TCP sockets under TLS, from accept to close: close() destroys those still in the TLS handshake. */
  const tcpUnderTls = new Set<net.Socket>();

  const countError = (reason: string, remote: string): void => {
    stats.transportErrors++;
    logger.debug('transport error', { listener: options.name, peer: remote, reason });
  };

  const accept = (socket: net.Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    const remote = unixPath !== undefined ? `unix:${unixPath}` : describeRemote(socket.remoteAddress, socket.remotePort);
    const admitted = guard.admit(remote, options.name);
    if (typeof admitted === 'string') {
      // The cheapest refusal: the spec's "maximum connection count reached" at once, without
      // reading anything.
      socket.on('error', () => undefined);
      socket.end(buildErrorReply(RawSocketHandshakeError.maxConnectionCount));
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    const ticket: AdmissionTicket = admitted;
    socket.once('close', () => ticket.release());
    if (unixPath === undefined) socket.setNoDelay(true);
    handshaking.add(socket);
    let received: Buffer = Buffer.alloc(0);
    let settled = false;

    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      handshaking.delete(socket);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const reject = (reason: string, reply?: Buffer): void => {
      finish();
      // Handshakes cut short by close() are our doing, not the client's failure.
      if (!closing) countError(reason, remote);
      if (reply) {
        socket.end(reply);
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      } else {
        socket.destroy();
      }
      // Errors after we gave up on the socket (a reset, EPIPE) are not new failures.
      socket.on('error', () => undefined);
    };
    const timer = setTimeout(() => {
      guard.closed('handshake_timeout', { peer: remote, listener: options.name, limit: limits.handshakeTimeoutMs, detail: 'no RawSocket handshake in time' });
      reject(`handshake timeout after ${limits.handshakeTimeoutMs} ms`);
    }, limits.handshakeTimeoutMs).unref();
    const onError = (err: NodeJS.ErrnoException): void => {
      if (!settled) reject(`socket error during handshake: ${err.code ?? err.message}`);
    };
    const onClose = (): void => {
      if (!settled) reject('closed during handshake');
    };
    const onData = (chunk: Buffer): void => {
      try {
        received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
        // Whatever came behind the 4 octets goes to the framer, which enforces the limits; a
        // chunk is at most one socket read (64 KiB), and the handshake completes on the first.
        if (received.length < HANDSHAKE_BYTES) return;
        const result = negotiateAsRouter(received.subarray(0, HANDSHAKE_BYTES), {
          supportedSerializerIds,
          // The hard cap is what the handshake announces (at most 2^24); each connection lowers
          // it until WELCOME, and a message above maxMessageBytes is read to be refused.
          maxMessageBytes: Math.max(limits.hardMaxMessageBytes, limits.maxMessageBytes),
          refuseConnectionCount: options.maxConnections !== undefined && stats.active >= options.maxConnections,
        });
        if (!result.ok) {
          guard.closed('bad_handshake', { peer: remote, listener: options.name, detail: result.reason });
          reject(result.reason, result.reply);
          return;
        }
        const serializer = serializerByRawSocketId(result.serializerId);
        if (!serializer) {
          reject(`serializer ${result.serializerId} has no implementation`);
          return;
        }
        finish();
        socket.write(result.reply);
        startSession(socket, serializer, remote, result, received.subarray(HANDSHAKE_BYTES), ticket);
      } catch (err) {
        logger.error('handshake handler threw; closing connection', { peer: remote, error: err });
        if (!settled) reject('internal error');
        else socket.destroy();
      }
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
  };

  const startSession = (
    socket: net.Socket,
    serializer: Serializer,
    remote: string,
    negotiated: { receiveLimit: number; sendLimit: number },
    rest: Buffer,
    ticket: AdmissionTicket,
  ): void => {
    const info: TransportInfo = {
      type: 'rawsocket',
      serializer: serializer.name,
      peer: remote,
      loopback: unixPath !== undefined || isLoopbackAddress(socket.remoteAddress),
      listener: options.name,
    };
    if (socket instanceof tls.TLSSocket) info.tls = tlsInfoFromSocket(socket);
    const connection = new RawSocketConnection({
      socket,
      serializer,
      info,
      receiveLimit: negotiated.receiveLimit,
      sendLimit: negotiated.sendLimit,
      limits,
      logger,
      onTransportError: (reason) => countError(reason, remote),
      admission: { guard, ticket },
      pingPolicy: 'answering',
    });
    const adopted = adoptConnection({
      stats,
      open: sessions,
      peer: connection.peer,
      onSocketClose: (cb) => socket.once('close', cb),
      start: () => connection.start(),
      onPeer: options.onPeer,
      logger,
      remote,
    });
    if (adopted && rest.length > 0) connection.feed(rest);
  };

  server.on(tlsOptions ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    try {
      accept(socket);
    } catch (err) {
      logger.error('accept threw; closing connection', { error: err });
      socket.destroy();
    }
  });
  if (tlsOptions) {
    server.on('connection', (raw: net.Socket) => {
      tcpUnderTls.add(raw);
      raw.once('close', () => tcpUnderTls.delete(raw));
    });
    // Failed or stalled TLS handshakes never reach secureConnection.
    server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      countError(`TLS handshake failed: ${err.message}`, describeRemote(socket.remoteAddress, socket.remotePort));
      socket.destroy();
    });
  }
  server.on('error', (err) => logger.error('listener error', { listener: options.name, error: err }));

  if (unixPath !== undefined) await removeStaleSocket(unixPath);
  await new Promise<void>((resolve, reject) => {
    const onListenError = (err: Error): void => reject(err);
    server.once('error', onListenError);
    const done = (): void => {
      server.off('error', onListenError);
      resolve();
    };
    if (unixPath !== undefined) server.listen({ path: unixPath }, done);
    else if ('port' in options) server.listen({ host: options.host ?? '127.0.0.1', port: options.port }, done);
  });

  const address = (): ListenAddress => {
    if (unixPath !== undefined) return { path: unixPath };
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('listener is not bound to a TCP address');
    return { host: addr.address, port: addr.port };
  };

  return {
    address,
    stats,
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of handshaking) socket.destroy();
      const gone = [...sessions.values()];
      for (const peer of [...sessions.keys()]) peer.close('listener closing');
      await Promise.all(gone);
      // What is left under TLS never finished its TLS handshake.
      for (const raw of tcpUnderTls) raw.destroy();
      await closed;
      if (unixPath !== undefined) await fs.unlink(unixPath).catch(() => undefined);
    },
  };
}
