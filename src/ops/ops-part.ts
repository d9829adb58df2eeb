// Owns the ops part of a running gateway: the `status` and `health` config sections, the
// HealthMonitor, the in-process "wampgate.ops" session (health on a retained topic, two procedures)
// and the loopback StatusServer. Does not own the renderers, the monitor's probes or systemd
// notifications (cli/main.ts sends those around Gateway.start/stop).
//
// Register it LAST in cli/wiring.ts: parts start in order, so when this part opens the status
// listener, listeners and every other part are up, and `ready: true` is true.

import { existsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { ConfigProblem } from '../config/problem';
import { ConfigError } from '../config/problem';
import { isLoopbackHost } from '../util/loopback';
import type { GatewayConfig } from '../config/types';
import { SessionKeeper } from '../client/session-keeper';
import { Result } from '../client/wamp-client';
import { VERSION } from '../util/version';
import type { GatewayPart, PartContext, PartFactory } from '../gateway-part';
import { isValidUri } from '../protocol/uri';
import type { Logger } from '../util/logger';
import { HealthMonitor, type HealthSnapshot } from './health';
import { bridgesFromParts, uplinkFromParts } from './part-status';
import { routerStatus, sessionsByListener } from './router-status';
import { DEFAULT_STEP_MS, SeriesRing } from './series';
import { StatusSampler } from './status-sampler';
import { StatusServer } from './status-server';
import type { GatewayStatus, ListenerStatus } from './status-types';

export const DEFAULT_STATUS_HOST = '127.0.0.1';
export const DEFAULT_STATUS_PORT = 8089;
export const HEALTH_GET_PROCEDURE = 'wampgate.health.get';
export const STATUS_GET_PROCEDURE = 'wampgate.status.get';
export const OPS_AUTHID = 'wampgate.ops';
export const OPS_AUTHROLE = 'wampgate.ops';

export interface StatusSettings {
  enabled: boolean;
  host: string;
  port: number;
  allowRemote: boolean;
  /** How often the page's last-hour series are sampled. */
  sampleIntervalMs: number;
}

export interface HealthSettings {
  enabled: boolean;
  intervalMs: number;
  topic: string;
  /** Undefined only when the config has no realm at all (the schema forbids that). */
  realm: string | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function unknownKeys(obj: Obj, allowed: readonly string[], path: string, out: ConfigProblem[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) out.push({ path: `${path}.${k}`, message: `unknown key (allowed: ${allowed.join(', ')})` });
}

const STATUS_KEYS = ['enabled', 'host', 'port', 'allowRemote', 'sampleIntervalMs'] as const;
const HEALTH_KEYS = ['enabled', 'intervalMs', 'topic', 'realm'] as const;

/** The `status` section: every problem, each with its path. */
export function validateStatus(value: unknown, path: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isObj(value)) return [{ path, message: 'must be an object like { "enabled": true, "host": "127.0.0.1", "port": 8089 }' }];
  unknownKeys(value, STATUS_KEYS, path, out);
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') out.push({ path: `${path}.enabled`, message: 'must be true or false' });
  if (value.allowRemote !== undefined && typeof value.allowRemote !== 'boolean') out.push({ path: `${path}.allowRemote`, message: 'must be true or false' });
  if (value.port !== undefined && (typeof value.port !== 'number' || !Number.isInteger(value.port) || value.port < 0 || value.port > 65535)) {
    out.push({ path: `${path}.port`, message: 'must be an integer from 0 to 65535' });
  }
  if (
    value.sampleIntervalMs !== undefined &&
    (typeof value.sampleIntervalMs !== 'number' ||
      !Number.isInteger(value.sampleIntervalMs) ||
      value.sampleIntervalMs < 1000 ||
      value.sampleIntervalMs > 60_000)
  ) {
    // The rings hold one hour: 1 s is 3,601 points per series, 60 s still shows an hour's shape.
    out.push({ path: `${path}.sampleIntervalMs`, message: 'must be an integer from 1000 to 60000 (milliseconds)' });
  }
  if (value.host !== undefined) {
    if (typeof value.host !== 'string' || value.host.length === 0) out.push({ path: `${path}.host`, message: 'must be a host name or IP address' });
    else if (!isLoopbackHost(value.host) && value.allowRemote !== true && value.enabled !== false) {
      // The page has no authentication and shows authids and peer addresses: opt in explicitly.
      out.push({
        path: `${path}.host`,
        message: `"${value.host}" is reachable from the network and the status page has no authentication; set "allowRemote": true to allow it, or use 127.0.0.1 and an SSH tunnel`,
      });
    }
  }
  return out;
}

/** The `health` section: every problem, each with its path. Whether `realm` exists is checked at start. */
export function validateHealth(value: unknown, path: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isObj(value)) return [{ path, message: 'must be an object like { "intervalMs": 10000, "topic": "wampgate.health" }' }];
  unknownKeys(value, HEALTH_KEYS, path, out);
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') out.push({ path: `${path}.enabled`, message: 'must be true or false' });
  if (value.intervalMs !== undefined && (typeof value.intervalMs !== 'number' || !Number.isInteger(value.intervalMs) || value.intervalMs < 1000)) {
    // Below a second the polls themselves become a measurable load on a Pi Zero.
    out.push({ path: `${path}.intervalMs`, message: 'must be an integer ≥ 1000 (milliseconds)' });
  }
  if (value.topic !== undefined && (typeof value.topic !== 'string' || !isValidUri(value.topic, 'strict'))) {
    out.push({ path: `${path}.topic`, message: 'must be a topic URI such as "wampgate.health"' });
  }
  if (value.realm !== undefined && (typeof value.realm !== 'string' || !isValidUri(value.realm, 'loose'))) {
    out.push({ path: `${path}.realm`, message: 'must be the name of a configured realm' });
  }
  return out;
}

/** The validated sections completed with defaults. Sections are optional: defaults are "on". */
export function opsSettings(config: GatewayConfig): { status: StatusSettings; health: HealthSettings } {
  const h = config.health ?? {};
  return {
    status: statusSettings(config.status),
    health: {
      enabled: h.enabled !== false,
      intervalMs: typeof h.intervalMs === 'number' ? h.intervalMs : 10_000,
      topic: typeof h.topic === 'string' ? h.topic : 'wampgate.health',
      realm: typeof h.realm === 'string' ? h.realm : config.realms[0]?.name,
    },
  };
}

/** A validated `status` section (or none) completed with defaults. */
export function statusSettings(section: Record<string, unknown> | undefined): StatusSettings {
  const s = section ?? {};
  return {
    enabled: s.enabled !== false,
    host: typeof s.host === 'string' ? s.host : DEFAULT_STATUS_HOST,
    port: typeof s.port === 'number' ? s.port : DEFAULT_STATUS_PORT,
    allowRemote: s.allowRemote === true,
    sampleIntervalMs: typeof s.sampleIntervalMs === 'number' ? s.sampleIntervalMs : DEFAULT_STEP_MS,
  };
}

/** Where `wampgate status` finds the listener: a wildcard bind is reached on loopback. */
export function statusUrl(settings: Pick<StatusSettings, 'host' | 'port'>, port = settings.port): string {
  let host = settings.host;
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

function listenerAddress(l: GatewayConfig['listeners'][number]): string {
  if (l.unixPath !== undefined) return `unix:${l.unixPath}`;
  const host = l.host ?? '127.0.0.1';
  const h = host.includes(':') ? `[${host}]` : host;
  const scheme = l.type === 'websocket' ? (l.tls ? 'wss' : 'ws') : l.tls ? 'rawsocket+tls' : 'rawsocket';
  return l.type === 'websocket' ? `${scheme}://${h}:${l.port ?? 0}${l.path ?? '/ws'}` : `${scheme}://${h}:${l.port ?? 0}`;
}

/**
 * The data directory, or its nearest existing parent: without an uplink nothing creates it, and
 * the filesystem it would live on is still the one whose free space matters.
 */
function existingAncestor(dir: string): string {
  let d = resolvePath(dir);
  while (!existsSync(d)) {
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  return d;
}

export interface OpsPartStatus {
  kind: 'ops';
  /** The status page URL once listening; null when disabled or not started. */
  url: string | null;
  health: {
    realm: string | null;
    topic: string;
    intervalMs: number;
    /** Whether the ops session is joined. */
    joined: boolean;
    published: number;
    publishFailures: number;
    lastPublishedAt: number | null;
  } | null;
}

export class OpsPart implements GatewayPart {
  readonly name = 'ops';
  private readonly settings: { status: StatusSettings; health: HealthSettings };
  private ctx: PartContext | undefined;
  private log: Logger | undefined;
  private monitor: HealthMonitor | undefined;
  private keeper: SessionKeeper | undefined;
  private server: StatusServer | undefined;
  private url: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private sampleTimer: NodeJS.Timeout | undefined;
  /** The last hour for the status page; present while the status listener is enabled. */
  private sampler: StatusSampler | undefined;
  private stopped = false;
  private running = false;
  /** performance.now() at router start: uptime must not jump when NTP sets a Pi's clock. */
  private routerStartMono = 0;
  private published = 0;
  private publishFailures = 0;
  private lastPublishedAt: number | null = null;
  private publishFailing = false;

  constructor(config: GatewayConfig) {
    this.settings = opsSettings(config);
    const realm = this.settings.health.realm;
    if (this.settings.health.enabled && realm !== undefined && !config.realms.some((r) => r.name === realm)) {
      // A config error the section validator cannot see (it is given only its section).
      throw new ConfigError([{ path: 'health.realm', message: `no realm "${realm}" (configured: ${config.realms.map((r) => r.name).join(', ')})` }]);
    }
  }

  async start(ctx: PartContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.logger.child('ops');
    this.routerStartMono = performance.now() - Math.max(0, Date.now() - ctx.router.startedAt);
    const { status, health } = this.settings;

    if (health.enabled) {
      this.monitor = new HealthMonitor({ logger: ctx.logger, dataDir: existingAncestor(ctx.dataDir), intervalMs: health.intervalMs });
      if (health.realm !== undefined) await this.join(ctx, health.realm);
      // Polled here rather than with monitor.start(): each snapshot is published as soon as it is
      // taken, with one timer instead of two.
      void this.pollAndPublish();
      this.timer = setInterval(() => void this.pollAndPublish(), this.monitor.intervalMs);
      this.timer.unref();
    }

    if (status.enabled) {
      this.sampler = new StatusSampler(new SeriesRing({ stepMs: status.sampleIntervalMs }));
      this.sample();
      this.sampleTimer = setInterval(() => this.sample(), status.sampleIntervalMs);
      this.sampleTimer.unref();
      const server = new StatusServer({ getStatus: () => this.gatewayStatus(), host: status.host, port: status.port, logger: ctx.logger });
      try {
        const { port } = await server.listen();
        this.server = server;
        this.url = statusUrl(status, port);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // Thrown on: the operator asked for the listener, and a silent gateway without it would
        // make `wampgate status` say "not running" about a running gateway.
        throw Object.assign(
          new Error(`status listener cannot bind ${status.host}:${status.port} (${e.code ?? e.message}); change status.port or set status.enabled=false`),
          { code: e.code },
        );
      }
    }
    this.running = true;
  }

  /** Keeps an in-process session in the health realm (rejoined if killed) with the two procedures. */
  private async join(ctx: PartContext, realm: string): Promise<void> {
    const log = this.log as Logger;
    const keeper = new SessionKeeper({
      name: 'ops',
      realm,
      // Hidden: the gateway's own session is not a "session" to the operator (counts, meta API).
      identity: { authid: OPS_AUTHID, authrole: OPS_AUTHROLE, hidden: true, realm },
      router: ctx.sessions,
      logger: log,
      setup: async (client) => {
        const register = async (procedure: string, handler: () => unknown): Promise<void> => {
          try {
            await client.register(procedure, handler);
          } catch (err) {
            // With realm roles, the "wampgate.ops" role needs register on "wampgate." (see docs).
            log.warn('cannot register procedure', { procedure, realm, authrole: OPS_AUTHROLE, error: String(err) });
          }
        };
        // Result: args [snapshot] exactly, the same payload shape as the health event.
        await register(HEALTH_GET_PROCEDURE, () => new Result([this.monitor?.snapshot ?? null]));
        await register(STATUS_GET_PROCEDURE, () => new Result([this.gatewayStatus()]));
      },
    });
    this.keeper = keeper;
    try {
      await keeper.start();
    } catch (err) {
      // The router refused its own session: a bug or an authorizer, not a reason to stop routing.
      log.error('ops session could not join; health is not published over WAMP', { realm, error: String(err) });
    }
  }

  private async pollAndPublish(): Promise<void> {
    const monitor = this.monitor;
    if (!monitor || this.stopped) return;
    let snapshot: HealthSnapshot;
    try {
      snapshot = await monitor.poll();
    } catch (err) {
      // poll() is documented never to reject; guarded anyway, since a timer callback must not throw.
      this.log?.error('health poll failed', { error: String(err) });
      return;
    }
    const client = this.keeper?.session;
    if (!client || this.stopped) return;
    try {
      // retain: a subscriber that joins later asks with get_retained and sees the latest at once.
      // acknowledge: an authorization refusal is otherwise silent.
      await client.publish(this.settings.health.topic, [snapshot], {}, { retain: true, acknowledge: true });
      this.published++;
      this.lastPublishedAt = snapshot.takenAt;
      if (this.publishFailing) {
        this.publishFailing = false;
        this.log?.info('health publish works again', { topic: this.settings.health.topic });
      }
    } catch (err) {
      this.publishFailures++;
      // Once when it starts failing: one line per interval forever would wear the SD card.
      if (!this.publishFailing) {
        this.publishFailing = true;
        this.log?.warn('cannot publish health', { topic: this.settings.health.topic, authrole: OPS_AUTHROLE, error: String(err) });
      }
    }
  }

  private sample(): void {
    try {
      this.sampler?.sample(this.currentStatus());
    } catch (err) {
      // A part's status() threw: a bug, but the gateway keeps routing and the next tick retries.
      this.log?.error('status sample failed', { error: String(err) });
    }
  }

  /** The series ring (tests and the bench feed it directly). */
  get series(): SeriesRing | undefined {
    return this.sampler?.ring;
  }

  /** The full status for the page, /status.json, /metrics and wampgate.status.get, with the last hour's series. */
  gatewayStatus(): GatewayStatus {
    const status = this.currentStatus();
    if (this.sampler) status.series = this.sampler.ring.snapshot();
    return status;
  }

  /** The status right now, without series. */
  private currentStatus(): GatewayStatus {
    const ctx = this.ctx;
    if (!ctx) return { generatedAt: Date.now(), version: VERSION, ready: false };
    const parts = ctx.partStatus();
    const perListener = sessionsByListener(ctx.router);
    const listeners: ListenerStatus[] = ctx.config.listeners.map((l) => ({
      name: l.name,
      type: l.type,
      address: listenerAddress(l),
      sessions: perListener.get(l.name) ?? 0,
    }));
    const status: GatewayStatus = {
      generatedAt: Date.now(),
      version: VERSION,
      ready: this.running && !this.stopped,
      router: routerStatus(ctx.router, { uptimeSeconds: (performance.now() - this.routerStartMono) / 1000 }),
      listeners,
      bridges: bridgesFromParts(parts),
      health: this.monitor?.snapshot ?? null,
    };
    const uplink = uplinkFromParts(parts);
    if (uplink) status.uplink = uplink;
    return status;
  }

  status(): OpsPartStatus {
    const h = this.settings.health;
    return {
      kind: 'ops',
      url: this.url,
      health: h.enabled
        ? {
            realm: h.realm ?? null,
            topic: h.topic,
            intervalMs: this.monitor?.intervalMs ?? h.intervalMs,
            joined: this.keeper?.session !== undefined,
            published: this.published,
            publishFailures: this.publishFailures,
            lastPublishedAt: this.lastPublishedAt,
          }
        : null,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    this.sampleTimer = undefined;
    this.monitor?.stop();
    const server = this.server;
    this.server = undefined;
    this.url = null;
    await Promise.allSettled([server?.close(), this.keeper?.stop()]);
  }
}

/** One ops part per gateway, always: both sections default to on. */
export const opsPartFactory: PartFactory = (config) => [new OpsPart(config)];
