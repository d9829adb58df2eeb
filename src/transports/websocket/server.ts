// The WebSocket listener: HTTP(S) upgrade on one path, WAMP subprotocol negotiation, limits and
// stats. Each upgraded connection becomes a Peer handed to onPeer; message handling lives in
// connection.ts. May share an existing http.Server (a status page beside it) without owning it.
//
// Refusals are HTTP responses to the upgrade request, before any WebSocket exists:
//   400 no supported WAMP subprotocol offered (or a malformed upgrade), 404 wrong path,
//   503 listener full or closing. Plain HTTP requests on an owned server get 426.

import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import type { Peer, TransportInfo } from '../../protocol/peer';
import { serializers as allSerializers, type Serializer } from '../../serializers';
import { describeValue, quietLogger, type Logger } from '../../util/logger';
import { resolveTransportLimits, type TransportLimits } from '../limits';
import { loadServerTlsOptions, tlsInfoFromSocket, type TlsOptions } from '../tls';
import { describeRemote, isLoopbackAddress, type ListenAddress, type TransportServer, type TransportServerStats, adoptConnection } from '../transport-server';
import { WebSocketConnection } from './connection';
import { ConnectionGuard, type AdmissionTicket } from '../connection-guard';

export interface WebSocketServerOptions {
  /** Listener name from config; reported in TransportInfo.listener. */
  name: string;
  onPeer(peer: Peer): void;
  /** Defaults to 127.0.0.1: exposing a listener to the network must be an explicit choice. */
  host?: string;
  /** Port 0 picks a free port; address() tells which. Ignored with `server`. */
  port?: number;
  /** URL path of the WebSocket endpoint. */
  path?: string;
  /**
   * Attach to this server instead of creating one. Its owner keeps listening, closing and timing
   * out HTTP (its headersTimeout applies to our upgrades); `tls` and `port` are ignored.
   */
  server?: http.Server;
  /** Serializers offered; all of them by default. */
  serializers?: readonly Serializer[];
  limits?: Partial<TransportLimits>;
  tls?: TlsOptions;
  /** Beyond this many open sessions the upgrade is refused with 503. */
  maxConnections?: number;
  logger?: Logger;
  /** Process-wide admission and buffer bounds (one per gateway); its own one when absent. */
  guard?: ConnectionGuard;
}

export const DEFAULT_WEBSOCKET_PATH = '/ws';

/** The client's subprotocols, in its order of preference (RFC 6455 §4.1). */
export function parseSubprotocols(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** Sockets refused with an HTTP answer: never read again, never admitted later. */
const refusedSockets = new WeakSet<Duplex>();

function refuse(socket: Duplex, status: number, message: string): void {
  refusedSockets.add(socket);
  // Stop reading: an attacker's request (and a frame behind it) stays in the kernel instead of
  // being read into memory and parsed into an 'upgrade' that would count the refusal twice.
  socket.pause();
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.on('error', () => undefined);
  setTimeout(() => socket.destroy(), 1000).unref();
}

export async function startWebSocketServer(options: WebSocketServerOptions): Promise<TransportServer> {
  const limits = resolveTransportLimits(options.limits);
  const logger = (options.logger ?? quietLogger).child('websocket');
  const offered = options.serializers ?? allSerializers;
  const path = options.path ?? DEFAULT_WEBSOCKET_PATH;
  const stats: TransportServerStats = { accepted: 0, active: 0, transportErrors: 0 };
  const owned = options.server === undefined;
  /** socket -> its handshake timer: sockets of an owned server not yet upgraded, closed on timeout or close(). */
  const handshaking = new Map<Duplex, NodeJS.Timeout>();
  const guard = options.guard ?? new ConnectionGuard(limits, logger);
  /** socket -> its admission, from accept (owned server) or upgrade (shared server) to close. */
  const tickets = new WeakMap<Duplex, AdmissionTicket>();
  const admit = (socket: Duplex, remote: string): AdmissionTicket | undefined => {
    const ticket = guard.admit(remote, options.name);
    if (typeof ticket === 'string') return undefined;
    tickets.set(socket, ticket);
    socket.once('close', () => ticket.release());
    return ticket;
  };
  /** peer -> settles when its socket is gone: close() waits for these. */
  const sessions = new Map<Peer, Promise<void>>();
  let closing = false;

  const countError = (reason: string, remote: string): void => {
    stats.transportErrors++;
    logger.debug('transport error', { listener: options.name, peer: remote, reason });
  };

  const chooseSerializer = (header: string | undefined): Serializer | undefined => {
    const wanted = parseSubprotocols(header);
    for (const name of wanted) {
      const serializer = offered.find((s) => s.subprotocol === name);
      if (serializer) return serializer;
    }
    return undefined;
  };

  const wss = new WebSocketServer({
    noServer: true,
    // The hard cap; each connection lowers it until WELCOME (connection.ts), and a message
    // between maxMessageBytes and this is read to be refused with ERROR, not by a close.
    maxPayload: Math.max(limits.hardMaxMessageBytes, limits.maxMessageBytes),
    perMessageDeflate: false,
    clientTracking: false,
    // Same choice as the upgrade handler made (which refuses when there is none): ws hands the
    // client's list over as a Set, which keeps the client's order.
    handleProtocols: (protocols) => chooseSerializer([...protocols].join(','))?.subprotocol ?? false,
  });
  wss.on('wsClientError', (err, socket, req) => {
    const remote = describeRemote(req.socket.remoteAddress, req.socket.remotePort);
    countError(`bad WebSocket upgrade: ${err.message}`, remote);
    guard.closed('bad_handshake', { peer: remote, listener: options.name, detail: `bad WebSocket upgrade: ${err.message}` });
    refuse(socket, 400, err.message);
  });

  let server: http.Server;
  if (options.server) {
    server = options.server;
  } else if (options.tls) {
    server = https.createServer({ ...loadServerTlsOptions(options.tls), handshakeTimeout: limits.handshakeTimeoutMs });
  } else {
    server = http.createServer();
  }

  const startSession = (ws: WebSocket, req: http.IncomingMessage, serializer: Serializer): void => {
    if (closing) {
      ws.close(1001, 'listener closing');
      return;
    }
    const socket = req.socket;
    const remote = describeRemote(socket.remoteAddress, socket.remotePort);
    const info: TransportInfo = {
      type: 'websocket',
      serializer: serializer.name,
      peer: remote,
      loopback: isLoopbackAddress(socket.remoteAddress),
      listener: options.name,
    };
    if (socket instanceof tls.TLSSocket) info.tls = tlsInfoFromSocket(socket);
    const ticket = tickets.get(socket);
    const connection = new WebSocketConnection({
      ws,
      serializer,
      info,
      limits,
      logger,
      onTransportError: (reason) => countError(reason, remote),
      ...(ticket ? { admission: { guard, ticket } } : {}),
    });
    adoptConnection({
      stats,
      open: sessions,
      peer: connection.peer,
      onSocketClose: (cb) => ws.once('close', cb),
      start: () => connection.start(),
      onPeer: options.onPeer,
      logger,
      remote,
    });
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const remote = describeRemote(req.socket.remoteAddress, req.socket.remotePort);
    if (refusedSockets.has(socket)) return;
    try {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (pathname !== path) {
        // On a shared server another handler may own this path.
        if (!owned) return;
        countError(`upgrade on unknown path ${pathname}`, remote);
        guard.closed('bad_handshake', { peer: remote, listener: options.name, detail: `upgrade on unknown path ${pathname}` });
        refuse(socket, 404, `no WebSocket endpoint at ${pathname}; use ${path}`);
        return;
      }
      const timer = handshaking.get(socket);
      if (timer) clearTimeout(timer);
      handshaking.delete(socket);
      if (closing) {
        refuse(socket, 503, 'listener is closing');
        return;
      }
      const serializer = chooseSerializer(req.headers['sec-websocket-protocol']);
      if (!serializer) {
        const offeredByClient = req.headers['sec-websocket-protocol'] ?? '';
        countError(`no supported subprotocol in ${describeValue(offeredByClient)}`, remote);
        guard.closed('bad_handshake', { peer: remote, listener: options.name, detail: 'no supported WAMP subprotocol' });
        refuse(socket, 400, `no supported WAMP subprotocol; offer one of: ${offered.map((s) => s.subprotocol).join(', ')}`);
        return;
      }
      // A shared server's sockets are admitted here, at the first point we see them.
      if (!tickets.has(socket) && !admit(socket, remote)) {
        refuse(socket, 503, 'too many connections waiting for authentication; try again later');
        return;
      }
      if (options.maxConnections !== undefined && stats.active >= options.maxConnections) {
        countError('maximum connection count reached', remote);
        refuse(socket, 503, 'maximum connection count reached');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        try {
          startSession(ws, req, serializer);
        } catch (err) {
          logger.error('session start threw; closing connection', { peer: remote, error: err });
          ws.terminate();
        }
      });
    } catch (err) {
      logger.error('upgrade handler threw; closing connection', { peer: remote, error: err });
      socket.destroy();
    }
  };

  const onOwnConnection = (socket: Duplex & { remoteAddress?: string; remotePort?: number }): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    const remote = describeRemote(socket.remoteAddress, socket.remotePort);
    if (!admit(socket, remote)) {
      // The cheapest refusal: an answer written at once, without reading the request.
      refuse(socket, 503, 'too many connections waiting for authentication; try again later');
      return;
    }
    const timer = setTimeout(() => {
      handshaking.delete(socket);
      countError(`handshake timeout after ${limits.handshakeTimeoutMs} ms`, remote);
      guard.closed('handshake_timeout', { peer: remote, listener: options.name, limit: limits.handshakeTimeoutMs, detail: 'no WebSocket upgrade in time' });
      socket.destroy();
    }, limits.handshakeTimeoutMs).unref();
    handshaking.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      handshaking.delete(socket);
    });
  };

  const onPlainRequest = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close', Upgrade: 'websocket' });
    res.end(`WAMP WebSocket endpoint at ${path}\n`);
  };

  server.on('upgrade', onUpgrade);
  if (owned) {
    // With TLS the socket the upgrade arrives on is the TLSSocket, so time that one; the TLS
    // handshake itself is bounded by handshakeTimeout.
    server.on(options.tls ? 'secureConnection' : 'connection', onOwnConnection);
    server.on('request', onPlainRequest);
    if (options.tls) {
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        countError(`TLS handshake failed: ${err.message}`, describeRemote(socket.remoteAddress, socket.remotePort));
        socket.destroy();
      });
    }
    server.on('clientError', (err: Error, socket: Duplex) => {
      countError(`bad HTTP request: ${err.message}`, 'unknown');
      socket.destroy();
    });
    server.on('error', (err) => logger.error('listener error', { listener: options.name, error: err }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  return {
    address(): ListenAddress {
      const addr = server.address();
      if (addr === null || typeof addr === 'string') throw new Error('WebSocket listener is not bound to a TCP address');
      return { host: addr.address, port: addr.port };
    },
    stats,
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      server.off('upgrade', onUpgrade);
      const closed = owned ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      for (const [socket, timer] of handshaking) {
        clearTimeout(timer);
        socket.destroy();
      }
      handshaking.clear();
      const gone = [...sessions.values()];
      for (const peer of [...sessions.keys()]) peer.close('listener closing');
      await Promise.all(gone);
      if (owned) server.closeIdleConnections();
      await closed;
      wss.close();
    },
  };
}
