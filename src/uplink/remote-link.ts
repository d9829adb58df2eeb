// The uplink's WAMP client session to the cloud router: opens the transport (WebSocket or
// RawSocket, TLS), authenticates, lets the uplink restore its subscriptions and registrations on
// every new session, reconnects with backoff, and keeps the link's state. What flows over the
// session (rules, the outbox) is the uplink's and the forwarder's business.

import { WampClient } from '../client/wamp-client';
import { errorText } from '../client/wamp-error';
import type { Peer } from '../protocol/peer';
import { serializerByName, type Serializer } from '../serializers';
import { connectRawSocket } from '../transports/rawsocket/client';
import { defaultTransportLimits, type TransportLimits } from '../transports/limits';
import { connectWebSocket } from '../transports/websocket/client';
import { Backoff } from '../util/backoff';
import type { Logger } from '../util/logger';
import { buildClientAuth } from './client-auth';
import type { ResolvedUplinkConfig } from './uplink-config';
import { parseUplinkUrl } from './uplink-url';

export const UplinkStates = ['connecting', 'online', 'offline', 'stopped'] as const;
export type UplinkState = (typeof UplinkStates)[number];

export interface LinkState {
  state: UplinkState;
  /** Epoch ms of the last state change (wall clock: for people, not for ordering). */
  since: number;
  lastError: string | null;
  url: string;
  realm: string;
  /** Session id at the cloud router while online. */
  remoteSession: number | null;
  /** Successful joins since start. */
  connects: number;
  /** Failed attempts since the last successful join. */
  failedAttempts: number;
  /** Epoch ms of the next attempt while waiting to reconnect. */
  nextAttemptAt: number | null;
}

export type RemoteLinkConfig = Pick<
  ResolvedUplinkConfig,
  'url' | 'realm' | 'serializer' | 'auth' | 'tls' | 'reconnect' | 'keepalive' | 'connectTimeoutMs' | 'maxMessageBytes'
>;

/** What the uplink does at each step of a remote session's life. */
export interface RemoteLinkHooks {
  /** Subscriptions and registrations of a fresh session; a rejection closes it and counts as a failed attempt. */
  restore(client: WampClient): Promise<void>;
  /** The session is up and restored (called after the state change to `online`). */
  online(client: WampClient): void;
  /** The session that was online closed (also while stopping, before the state changes). */
  offline(reason: string): void;
  /** Every state change. */
  stateChanged(link: Readonly<LinkState>): void;
}

export interface RemoteLinkDeps {
  logger: Logger;
  /** Test seam: how the transport to the cloud is opened. */
  connect?: (() => Promise<Peer>) | undefined;
  /** Test seam for backoff jitter. */
  random?: (() => number) | undefined;
}

export class RemoteLink {
  private readonly log: Logger;
  private readonly serializer: Serializer;
  private readonly backoff: Backoff;
  private readonly link: LinkState;
  private remote: WampClient | undefined;
  private stopping = false;
  private loopTask: Promise<void> | undefined;
  /** Wake-ups of pending reconnect sleeps: stop() ends them early. */
  private readonly wakers = new Set<() => void>();
  /** Resets the backoff once a session stayed online for reconnect.healthyAfterMs. */
  private healthyTimer: NodeJS.Timeout | undefined;
  /** Waiting downward calls: resolved when the link comes online. */
  private readonly onlineWaiters = new Set<(client: WampClient) => void>();

  constructor(
    private readonly config: RemoteLinkConfig,
    private readonly hooks: RemoteLinkHooks,
    private readonly deps: RemoteLinkDeps,
  ) {
    this.log = deps.logger;
    const serializer = serializerByName(config.serializer);
    if (!serializer) throw new Error(`uplink: unknown serializer ${config.serializer}`);
    this.serializer = serializer;
    this.backoff = new Backoff(config.reconnect, deps.random);
    this.link = {
      state: 'offline',
      since: Date.now(),
      lastError: null,
      url: config.url,
      realm: config.realm,
      remoteSession: null,
      connects: 0,
      failedAttempts: 0,
      nextAttemptAt: null,
    };
  }

  /** Links up in the background, reconnecting until stop(). */
  start(): void {
    this.loopTask = this.loop().catch((err: unknown) => this.log.error('uplink link loop failed (bug)', { error: errorText(err) }));
  }

  /** Closes the session (if any), stops reconnecting, and ends in `stopped`. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.wakers]) wake();
    const remote = this.remote;
    if (remote && !remote.closed) await remote.close().catch(() => undefined);
    // A connect attempt in progress may take up to connectTimeoutMs; do not hold shutdown for it
    // (runSession closes what it gets once it sees `stopping`).
    await Promise.race([this.loopTask, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.setState('stopped', null);
  }

  get state(): UplinkState {
    return this.link.state;
  }

  snapshot(): LinkState {
    return { ...this.link };
  }

  /** The remote session when online now, or once it comes online within timeoutMs; else undefined. */
  waitOnline(timeoutMs: number, signal: AbortSignal): Promise<WampClient | undefined> {
    if (this.link.state === 'online' && this.remote) return Promise.resolve(this.remote);
    if (timeoutMs <= 0 || this.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (client: WampClient | undefined): void => {
        clearTimeout(timer);
        this.onlineWaiters.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve(client);
      };
      const onAbort = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      signal.addEventListener('abort', onAbort);
      this.onlineWaiters.add(done);
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      await this.runSession();
      if (this.stopping) return;
      const delay = this.backoff.next();
      this.link.nextAttemptAt = Date.now() + delay;
      this.log.info('uplink reconnecting', { inMs: delay, attempt: this.link.failedAttempts });
      await this.sleep(delay);
      this.link.nextAttemptAt = null;
    }
  }

  private openTransport(): Promise<Peer> {
    if (this.deps.connect) return this.deps.connect();
    const target = parseUplinkUrl(this.config.url);
    if (!target) return Promise.reject(new Error(`bad uplink url ${this.config.url}`));
    const limits: TransportLimits = {
      ...defaultTransportLimits,
      maxMessageBytes: this.config.maxMessageBytes,
      handshakeTimeoutMs: this.config.connectTimeoutMs,
      // No transport pings: Crossbar.io (Autobahn|Python's RawSocket) reads a RawSocket PING header
      // as a 16 MiB length and closes. Liveness runs at the WAMP level instead (see runSession),
      // the same on every transport and every router, and it proves the router alive end to end.
      keepaliveIntervalMs: 0,
      keepaliveTimeoutMs: this.config.keepalive.timeoutMs,
    };
    const extras = { logger: this.deps.logger, name: 'uplink' };
    switch (target.kind) {
      case 'websocket':
        return connectWebSocket({ url: target.url, serializer: this.serializer, limits, ...(this.config.tls ? { tls: this.config.tls } : {}), ...extras });
      case 'rawsocket':
        return connectRawSocket({ host: target.host, port: target.port }, this.serializer, limits, target.secure ? (this.config.tls ?? {}) : undefined, extras);
      case 'rawsocket-unix':
        return connectRawSocket({ path: target.path }, this.serializer, limits, undefined, extras);
    }
  }

  /** One remote session from connect to close; returns when it is over (or never started). */
  private async runSession(): Promise<void> {
    this.setState('connecting', this.link.lastError);
    let client: WampClient;
    try {
      const peer = await this.openTransport();
      if (this.stopping) {
        peer.close('uplink stopping');
        return;
      }
      const auth = buildClientAuth(this.config.auth);
      client = await WampClient.connect(peer, {
        realm: this.config.realm,
        timeoutMs: this.config.connectTimeoutMs,
        liveness: this.config.keepalive,
        ...auth,
      });
    } catch (err) {
      this.link.failedAttempts++;
      this.setState('offline', errorText(err));
      this.log.warn('uplink could not connect', { url: this.config.url, error: errorText(err), attempt: this.link.failedAttempts });
      return;
    }
    const closed = new Promise<string>((resolve) => {
      client.onClose(resolve);
      if (client.closed) resolve(client.closeReason);
    });
    try {
      await this.hooks.restore(client);
    } catch (err) {
      this.link.failedAttempts++;
      const text = `restoring subscriptions/registrations failed: ${errorText(err)}`;
      this.log.error('uplink ' + text, { url: this.config.url });
      client.peer.close('restore failed');
      await closed;
      this.setState('offline', text);
      return;
    }
    if (this.stopping) {
      await client.close().catch(() => undefined);
      return;
    }
    this.remote = client;
    this.link.connects++;
    this.link.failedAttempts = 0;
    this.link.remoteSession = client.sessionId;
    // Not reset at the join: a cloud that accepts the session and drops it at once (a message it
    // refuses, a crash loop) would otherwise be hammered at the initial delay forever.
    if (this.config.reconnect.healthyAfterMs <= 0) this.backoff.reset();
    else {
      this.healthyTimer = setTimeout(() => {
        this.healthyTimer = undefined;
        this.backoff.reset();
      }, this.config.reconnect.healthyAfterMs);
      this.healthyTimer.unref();
    }
    this.setState('online', null);
    for (const w of [...this.onlineWaiters]) w(client);
    this.hooks.online(client);
    const reason = await closed;
    clearTimeout(this.healthyTimer);
    this.healthyTimer = undefined;
    this.remote = undefined;
    this.link.remoteSession = null;
    this.hooks.offline(reason);
    if (this.stopping) return;
    this.setState('offline', `link closed: ${reason}`);
  }

  private setState(state: UplinkState, lastError: string | null): void {
    const changed = state !== this.link.state;
    this.link.lastError = lastError;
    if (!changed) return;
    this.link.state = state;
    this.link.since = Date.now();
    this.hooks.stateChanged(this.link);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
