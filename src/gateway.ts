// The composition root: config in, router + listeners (+ bridges, uplink, ops as they are
// configured) wired, one start and one stop. Nothing else creates long-lived parts, so what a
// config file says is everything that runs.

import { GatewayAuth } from './auth/gateway-auth';
import { localSessions, type GatewayPart, type GatewayView, type PartContext, type PartFactory, type PartStatus } from './gateway-part';
import { resolve as resolvePath } from 'node:path';
import { configDocument } from './config/section';
import type { GatewayConfig, ListenerConfig } from './config/types';
import { Router } from './core/router';
import { routerView } from './core/router-view';
import { startMetaApi, type MetaApiOptions, type MetaApis } from './meta/meta-api';
import type { Peer, TransportInfo } from './protocol/peer';
import { serializerByName, serializers as allSerializers, type Serializer } from './serializers';
import type { ListenAddress, TransportServer } from './transports/transport-server';
import { startRawSocketServer } from './transports/rawsocket/server';
import { startWebSocketServer } from './transports/websocket/server';
import type { TransportLimits } from './transports/limits';
import { ConnectionGuard } from './transports/connection-guard';
import { createLogger, type Logger } from './util/logger';
import { historyRules, historySettings, openEventHistory } from './history/open';
import type { EventHistoryService } from './history/event-history';
import { HistoryPart } from './history/part';
import { fingerprint, planReload, sessionLimitsOf, type Change, type ReloadPlan } from './gateway-reload';
import { ErrorUri } from './protocol/error-uris';
import { CloudServices } from './cloud-services';
import type { RealmOptions } from './core/realm';

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

/** What a live reload did (Gateway.reload): the plan carried out, plus the parts. */
export interface ReloadReport extends ReloadPlan {
  parts: Record<string, Change>;
  /** Parts that failed to start with the new config (they stay stopped; see the log). */
  failedParts: Record<string, string>;
}

function realmOptions(r: GatewayConfig['realms'][number], auth: GatewayAuth, history: EventHistoryService | undefined): RealmOptions {
  const realm: RealmOptions = { name: r.name };
  const port = history?.portFor(r.name);
  if (port) realm.history = port;
  if (r.uriCheck) realm.uriCheck = r.uriCheck;
  if (r.maxRetainedTopics !== undefined) realm.limits = { maxRetainedTopics: r.maxRetainedTopics };
  const authorizer = auth.authorizerFor(r);
  if (authorizer) realm.authorizer = authorizer;
  return realm;
}

/** A part's identity across a reload: its configKey when it has one, else the whole config (minus
 * what never reaches a part), so a part that says nothing restarts on any change. */
function partKey(part: GatewayPart, config: GatewayConfig): string {
  return part.configKey ?? fingerprint({ ...configDocument(config), log: undefined });
}

export class Gateway {
  readonly listeners: RunningListener[] = [];
  /** The parts the factories made, in start order (reload restarts them by their config). */
  readonly parts: GatewayPart[] = [];
  /** The event history's status part: opened by the gateway itself, never restarted by a reload. */
  private historyPart: HistoryPart | undefined;
  private stopping: Promise<void> | undefined;
  private reloading: Promise<ReloadReport> | undefined;
  /** part -> the config it was started with (for partKey). */
  private readonly partConfig = new Map<GatewayPart, GatewayConfig>();
  private factories: PartFactory[] = [];
  /** Kept across reloads: the admin part offers, the uplink carries (cloud-services.ts). */
  readonly cloud = new CloudServices();

  /** One for all listeners: the pending-connection caps and the buffer budget are per process. */
  readonly guard: ConnectionGuard;

  private constructor(
    /** The running config; replaced by reload(). */
    public config: GatewayConfig,
    readonly router: Router,
    readonly logger: Logger,
    private readonly metaApi: MetaApis,
    /** What the meta API reads live: the history a reload opens is set here. */
    private readonly metaOptions: MetaApiOptions,
    private eventHistory: EventHistoryService | undefined,
    /** Its `auth` is replaced by reload() when principals or permissions change; the router asks
     * through this holder. */
    private readonly current: { auth: GatewayAuth },
  ) {
    this.guard = new ConnectionGuard(config.limits, logger, (reason) => router.stats.countClose(reason));
  }

  static async start(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? createLogger({ level: config.log.level });
    // Throws ConfigError before anything listens (e.g. a secret's environment variable is unset).
    const auth = new GatewayAuth(config, logger);
    const history = openEventHistory(config, logger);
    // The router asks whichever GatewayAuth is current: reload() may replace it.
    const current = { auth };
    const router = new Router({
      logger,
      // A copy: reload() assigns new session limits onto it, which every session reads live.
      limits: { ...config.limits },
      realms: config.realms.map((r) => realmOptions(r, auth, history)),
      authenticatorFor: (t: TransportInfo) => current.auth.authenticatorFor(t),
      onAuthFailure: (t: TransportInfo) => current.auth.onAuthFailure(t),
    });
    auth.attach(router);
    const metaOptions: MetaApiOptions = history ? { history } : {};
    const gateway = new Gateway(config, router, logger, startMetaApi(router, metaOptions), metaOptions, history, current);
    gateway.factories = options.parts ?? [];
    try {
      await gateway.metaApi.ready;
      if (history) gateway.historyPart = new HistoryPart(history);
      for (const l of config.listeners) await gateway.listen(l);
      const ctx = gateway.partContext(config);
      for (const factory of gateway.factories) {
        for (const part of factory(config)) {
          // Pushed before start so a part that fails half-way is still stopped.
          gateway.parts.push(part);
          gateway.partConfig.set(part, config);
          await part.start(ctx);
        }
      }
    } catch (err) {
      await gateway.stop();
      throw err;
    }
    return gateway;
  }

  /** The event history, when a realm has history rules (a reload may open it). */
  get history(): EventHistoryService | undefined {
    return this.eventHistory;
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

  private partContext(config: GatewayConfig): PartContext {
    // Read live: a part a reload kept (ops) sees the listeners and parts running now.
    const view: GatewayView = {
      router: routerView(this.router),
      listeners: () => this.listeners.map((l) => ({ name: l.config.name, type: l.config.type, address: describeAddress(l.config, l.address) })),
      parts: () => this.partStatus(),
    };
    return {
      sessions: localSessions(this.router),
      realms: config.realms.map((r) => r.name),
      logger: this.logger,
      dataDir: resolvePath(config.dataDir ?? 'data'),
      maxMessageBytes: config.limits.maxMessageBytes,
      gateway: view,
      cloud: this.cloud,
    };
  }

  /**
   * Applies a new, already validated config without a restart (SIGHUP, `systemctl reload`, the
   * admin part). Authentication is built first: if it throws (a secret cannot be read) nothing
   * has changed. Then: session limits assigned live; realms removed, restarted or added, and every
   * realm's authorizer swapped; listeners whose settings changed closed and reopened; parts whose
   * section changed stopped and started again. Everything not named keeps running: its sessions
   * stay. One reload at a time.
   */
  reload(next: GatewayConfig): Promise<ReloadReport> {
    if (this.stopping) return Promise.reject(new Error('the gateway is stopping'));
    const run = (this.reloading ?? Promise.resolve()).catch(() => undefined).then(() => this.applyReload(next));
    this.reloading = run;
    return run;
  }

  private async applyReload(next: GatewayConfig): Promise<ReloadReport> {
    const log = this.logger.child('gateway');
    const boundPorts = new Map(this.listeners.flatMap((l) => ('port' in l.address ? [[l.config.name, l.address.port] as const] : [])));
    const plan = planReload(this.config, next, boundPorts);
    // Both throw ConfigError before anything changed (a factory can see a cross-section problem).
    const wanted = this.factories.flatMap((f) => f(next));
    const auth = plan.auth ? new GatewayAuth(next, this.logger) : this.current.auth;
    if (auth !== this.current.auth) {
      auth.attach(this.router);
      this.current.auth.close();
      this.current.auth = auth;
    }
    Object.assign(this.router.limits, sessionLimitsOf(next));
    const historyFailure = plan.history ? this.reloadHistory(next) : undefined;
    const nextRealms = new Map(next.realms.map((r) => [r.name, r]));
    for (const [name, change] of Object.entries(plan.realms)) {
      if (change === 'removed' || change === 'restarted') this.router.removeRealm(name, ErrorUri.closeRealm);
      const r = nextRealms.get(name);
      if (!r) continue;
      if (change === 'added' || change === 'restarted') {
        // A new realm object has no meta API yet (the old one's left with its sessions).
        await this.metaApi.add(this.router.addRealm(realmOptions(r, auth, this.history)));
      } else {
        const realm = this.router.findRealm(name);
        if (realm) realm.authorizer = realmOptions(r, auth, this.history).authorizer ?? realm.authorizer;
      }
    }
    // Listeners: close before open, so a listener that moved to a port another one left can bind.
    const nextListeners = new Map(next.listeners.map((l) => [l.name, l]));
    for (const [name, change] of Object.entries(plan.listeners)) {
      if (change !== 'removed' && change !== 'restarted') continue;
      const i = this.listeners.findIndex((l) => l.config.name === name);
      if (i < 0) continue;
      const [running] = this.listeners.splice(i, 1);
      await running?.server.close();
    }
    this.config = next;
    for (const [name, change] of Object.entries(plan.listeners)) {
      const l = nextListeners.get(name);
      if (l && (change === 'added' || change === 'restarted')) await this.listen(l);
      else if (l && change === 'kept') {
        const running = this.listeners.find((r) => r.config.name === name);
        if (running) running.config = l;
      }
    }
    const { parts, failedParts } = await this.reloadParts(next, wanted);
    if (historyFailure !== undefined) failedParts.history = historyFailure;
    const report: ReloadReport = { ...plan, parts, failedParts };
    if (plan.restartRequired.length > 0) log.warn('reload: these settings take effect after a restart', { settings: plan.restartRequired.join(',') });
    log.info('config reloaded', summarize(report));
    return report;
  }

  /** History rules or settings changed: the open history is reconfigured (history/event-history.ts
   * says what that does to stored events), or opened when a realm gets its first rules; then
   * every realm gets its port, or none (not announced in later WELCOMEs, history_unavailable).
   * The file stays where it was opened (a dataDir change needs a restart). */
  private reloadHistory(next: GatewayConfig): string | undefined {
    const rules = historyRules(next);
    let failure: string | undefined;
    try {
      if (this.eventHistory) this.eventHistory.reconfigure(historySettings(next), rules);
      else if (rules.size > 0) {
        this.eventHistory = openEventHistory(next, this.logger);
        this.metaOptions.history = this.eventHistory;
        if (this.eventHistory) this.historyPart = new HistoryPart(this.eventHistory);
      }
    } catch (err) {
      // As for a part that fails to start: said, and the rest of the reload holds. Publications
      // meanwhile are counted as not recorded (storage_error) until a reload or restart opens it.
      failure = (err as Error).message;
      this.logger.child('gateway').error('reload: the event history could not be reopened', { error: failure });
    }
    for (const realm of this.router.realms.values()) realm.history = this.eventHistory?.portFor(realm.name);
    return failure;
  }

  /** Parts: kept when their config key is the same, else stopped (newest first) and started again
   * in factory order; added and removed as the new config says. */
  private async reloadParts(next: GatewayConfig, wanted: GatewayPart[]): Promise<{ parts: Record<string, Change>; failedParts: Record<string, string> }> {
    const parts: Record<string, Change> = {};
    const failedParts: Record<string, string> = {};
    const keep = new Set<GatewayPart>();
    const plan: Array<{ part: GatewayPart; start: boolean }> = [];
    for (const candidate of wanted) {
      const old = this.parts.find((p) => p.name === candidate.name);
      const oldConfig = old ? this.partConfig.get(old) : undefined;
      if (old && oldConfig && partKey(old, oldConfig) === partKey(candidate, next)) {
        keep.add(old);
        plan.push({ part: old, start: false });
        parts[old.name] = 'kept';
      } else {
        plan.push({ part: candidate, start: true });
        parts[candidate.name] = old ? 'restarted' : 'added';
      }
    }
    for (const old of [...this.parts].reverse()) {
      if (keep.has(old)) continue;
      parts[old.name] ??= 'removed';
      try {
        await old.stop();
      } catch (err) {
        this.logger.child('gateway').error('part failed to stop', { part: old.name, error: String(err) });
      }
      this.partConfig.delete(old);
    }
    this.parts.length = 0;
    const ctx = this.partContext(next);
    for (const { part, start } of plan) {
      this.parts.push(part);
      if (!start) continue;
      this.partConfig.set(part, next);
      try {
        await part.start(ctx);
      } catch (err) {
        failedParts[part.name] = (err as Error).message;
        this.logger.child('gateway').error('reload: part failed to start', { part: part.name, error: (err as Error).message });
        await part.stop().catch(() => undefined);
      }
    }
    return { parts, failedParts };
  }

  /** part name -> its status, in start order. */
  partStatus(): Record<string, PartStatus> {
    const out: Record<string, PartStatus> = {};
    if (this.historyPart) out[this.historyPart.name] = this.historyPart.status();
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
      await this.reloading?.catch(() => undefined);
      this.current.auth.close();
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

function summarize(report: ReloadReport): Record<string, string> {
  const changed = (m: Record<string, Change>): string =>
    Object.entries(m)
      .filter(([, c]) => c !== 'kept')
      .map(([n, c]) => `${n}:${c}`)
      .join(',') || 'none';
  return {
    listeners: changed(report.listeners),
    realms: changed(report.realms),
    parts: changed(report.parts),
    auth: report.auth ? 'rebuilt' : 'unchanged',
    history: report.history ? 'reconfigured' : 'unchanged',
    liveLimits: report.liveLimits.join(',') || 'none',
  };
}
