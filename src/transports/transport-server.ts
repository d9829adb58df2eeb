// What every network listener returns (address, stats, close) and how a remote end is described
// in TransportInfo. Shared by the WebSocket and RawSocket servers; knows nothing of framing.

import type { Peer } from '../protocol/peer';
import type { Logger } from '../util/logger';

export type ListenAddress = { host: string; port: number } | { path: string };

export interface TransportServerStats {
  /** Connections that completed the transport handshake and were handed to onPeer. */
  accepted: number;
  /** Of those, the ones still open. */
  active: number;
  /** Failed handshakes, oversized or malformed frames, keepalive timeouts, resets. */
  transportErrors: number;
}

export interface TransportServer {
  address(): ListenAddress;
  readonly stats: Readonly<TransportServerStats>;
  /** Stops accepting, closes every connection, resolves once the listener is closed. */
  close(): Promise<void>;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** "ip:port", with IPv6 addresses bracketed so the port stays unambiguous. */
export function describeRemote(address: string | undefined, port: number | undefined): string {
  const host = address ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`;
}

/** Connections we close wait this long for the peer to finish the close, then are destroyed. */
export const CLOSE_GRACE_MS = 2_000;

/**
 * Counts a connection whose transport handshake is done, tracks it until its socket closes (so
 * close() can wait for it), starts it and hands its peer to the router. Returns false when
 * onPeer threw: the connection is closed then, and the listener goes on.
 */
export function adoptConnection(options: {
  stats: TransportServerStats;
  /** peer -> resolves when its socket has closed */
  open: Map<Peer, Promise<void>>;
  peer: Peer;
  /** Registers the callback for the underlying socket's close. */
  onSocketClose(callback: () => void): void;
  start(): void;
  onPeer(peer: Peer): void;
  logger: Logger;
  remote: string;
}): boolean {
  const { stats, open, peer } = options;
  stats.accepted++;
  stats.active++;
  open.set(
    peer,
    new Promise<void>((resolve) => {
      options.onSocketClose(() => {
        stats.active--;
        open.delete(peer);
        resolve();
      });
    }),
  );
  options.start();
  try {
    options.onPeer(peer);
  } catch (err) {
    options.logger.error('onPeer threw; closing connection', { peer: options.remote, error: err });
    peer.close('internal error');
    return false;
  }
  return true;
}
