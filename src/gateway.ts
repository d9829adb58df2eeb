// The composition root: config in, router + listeners (+ bridges, uplink, ops as they are
// configured) wired, one start and one stop. Nothing else creates long-lived parts, so what a
// config file says is everything that runs.

import { GatewayAuth } from './auth/gateway-auth';
import { localSessions, type GatewayPart, type GatewayView, type PartContext, type PartFactory, type PartStatus } from './gateway-part';
import { resolve as resolvePath } from 'node:path';
import type { GatewayConfig, ListenerConfig } from './config/types';
import { Router } from './core/router';
import { routerView } from './core/router-view';
import { startMetaApi, type MetaApis } from './meta/meta-api';
import type { Peer, TransportInfo } from './protocol/peer';
import { serializerByName, serializers as allSerializers, type Serializer } from './serializers';
import type { ListenAddress, TransportServer } from './transports/transport-server';
import { startRawSocketServer } from './transports/rawsocket/server';
import { startWebSocketServer } from './transports/websocket/server';
import type { TransportLimits } from './transports/limits';
import { ConnectionGuard } from './transports/connection-guard';
import { createLogger, type Logger } from './util/logger';
import { openEventHistory } from './history/open';
import type { EventHistoryService } from './history/event-history';
import { HistoryPart } from './history/part';

export interface RunningListener {
  config: ListenerConfig;
  server: TransportServer;
  address: ListenAddress;
}

export interface GatewayOptions {
  logger?: Logger;
  /** Optional parts (bridges, uplink, ops) built from the config; see gateway-part.ts. */
  parts?: PartFactory[];
}

export function describeAddress(listener: ListenerConfig, address: ListenAddress): string {
  if ('path' in address) return `unix:${address.path}`;
  const scheme = listener.type === 'websocket' ? (listener.tls ? 'wss' : 'ws') : listener.tls ? 'rawsocket+tls' : 'rawsocket';
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return listener.type === 'websocket' ? `${scheme}://${host}:${address.port}${listener.path ?? '/ws'}` : `${scheme}://${host}:${address.port}`;
}

export class Gateway {
  readonly listeners: RunningListener[] = [];
  readonly parts: GatewayPart[] = [];
  private stopping: Promise<void> | undefined;

  /** One for all listeners: the pending-connection caps and the buffer budget are per process. */
  readonly guard: ConnectionGuard;

  private constructor(
    readonly config: GatewayConfig,
    readonly router: Router,
    readonly logger: Logger,
    private readonly metaApi: MetaApis,
    /** The event history, when a realm has history rules. */
    readonly history: EventHistoryService | undefined,
  ) {
    this.guard = new ConnectionGuard(config.limits, logger, (reason) => router.stats.countClose(reason));
  }

  static async start(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? createLogger({ level: config.log.level });
    // Throws ConfigError before anything listens (e.g. a secret's environment variable is unset).
    const auth = new GatewayAuth(config, logger);
    const history = openEventHistory(config, logger);
    const router = new Router({
      logger,
      limits: config.limits,
      realms: config.realms.map((r) => {
        const realm: import('./core/realm').RealmOptions = { name: r.name };
        if (r.uriCheck) realm.uriCheck = r.uriCheck;
        if (r.maxRetainedTopics !== undefined) realm.limits = { maxRetainedTopics: r.maxRetainedTopics };
        const authorizer = auth.authorizerFor(r);
        if (authorizer) realm.authorizer = authorizer;
        const port = history?.portFor(r.name);
        if (port) realm.history = port;
        return realm;
      }),
      authenticatorFor: (t: TransportInfo) => auth.authenticatorFor(t),
      onAuthFailure: (t: TransportInfo) => auth.onAuthFailure(t),
    });
    auth.attach(router);
    const gateway = new Gateway(config, router, logger, startMetaApi(router, history ? { history } : {}), history);
    try {
      await gateway.metaApi.ready;
      if (history) gateway.parts.push(new HistoryPart(history));
      for (const l of config.listeners) await gateway.listen(l);
      const view: GatewayView = {
        router: routerView(router),
        listeners: () => gateway.listeners.map((l) => ({ name: l.config.name, type: l.config.type, address: describeAddress(l.config, l.address) })),
        parts: () => gateway.partStatus(),
      };
      const ctx: PartContext = {
        sessions: localSessions(router),
        realms: config.realms.map((r) => r.name),
        logger,
        dataDir: resolvePath(config.dataDir ?? 'data'),
        maxMessageBytes: config.limits.maxMessageBytes,
        gateway: view,
      };
      for (const factory of options.parts ?? []) {
        for (const part of factory(config)) {
          // Pushed before start so a part that fails half-way is still stopped.
          gateway.parts.push(part);
          await part.start(ctx);
        }
      }
    } catch (err) {
      await gateway.stop();
      throw err;
    }
    return gateway;
  }

  private async listen(l: ListenerConfig): Promise<void> {
    const limits: TransportLimits = this.config.limits;
    const serializers: Serializer[] = l.serializers ? l.serializers.map((s) => serializerByName(s) as Serializer) : [...allSerializers];
    const common = {
      name: l.name,
      onPeer: (peer: Peer) => this.router.attach(peer),
      serializers,
      limits,
      logger: this.logger,
      guard: this.guard,
    };
    const maxConnections = l.maxConnections !== undefined ? { maxConnections: l.maxConnections } : {};
    const tls = l.tls ? { tls: l.tls } : {};
    let server: TransportServer;
    if (l.type === 'websocket') {
      server = await startWebSocketServer({ ...common, ...maxConnections, ...tls, host: l.host ?? '127.0.0.1', port: l.port ?? 0, path: l.path ?? '/ws' });
    } else if (l.unixPath !== undefined) {
      server = await startRawSocketServer({ ...common, ...maxConnections, path: l.unixPath });
    } else {
      server = await startRawSocketServer({ ...common, ...maxConnections, ...tls, host: l.host ?? '127.0.0.1', port: l.port ?? 0 });
    }
    const address = server.address();
    this.listeners.push({ config: l, server, address });
    this.logger
      .child('gateway')
      .info('listening', { listener: l.name, url: describeAddress(l, address), serializers: serializers.map((s) => s.name).join(',') });
  }

  /** part name -> its status, in start order. */
  partStatus(): Record<string, PartStatus> {
    const out: Record<string, PartStatus> = {};
    for (const p of this.parts) out[p.name] = p.status();
    return out;
  }

  /** Stops parts (newest first), says GOODBYE to every session, closes listeners. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const part of [...this.parts].reverse()) {
        try {
          await part.stop();
        } catch (err) {
          this.logger.child('gateway').error('part failed to stop', { part: part.name, error: String(err) });
        }
      }
      this.metaApi.stop();
      await this.router.close();
      await Promise.allSettled(this.listeners.map((l) => l.server.close()));
      try {
        this.history?.close(); // after the router: publications up to the last GOODBYE are kept
      } catch (err) {
        this.logger.child('gateway').error('event history failed to close', { error: String(err) });
      }
    })();
    return this.stopping;
  }
}
