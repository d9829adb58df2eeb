// Owns the ops part's life in a running gateway: from its `status` and `health` settings it starts
// the HealthMonitor and its publisher, the last hour's sampler and the loopback StatusServer, and
// stops them; it reports its own PartStatus. Does not own the config sections (ops-config.ts),
// assembling the status (gateway-status.ts), the renderers, or systemd notifications (cli/main.ts).
//
// Register it LAST in cli/wiring.ts: parts start in order, so when this part opens the status
// listener, listeners and every other part are up, and `ready: true` is true.

import { existsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { GatewayConfig } from '../config/types';
import type { GatewayPart, PartContext, PartFactory, PartState, PartStatus } from '../gateway-part';
import { fingerprint } from '../util/fingerprint';
import type { Logger } from '../util/logger';
import { VERSION } from '../util/version';
import { gatewayStatus } from './gateway-status';
import { HealthMonitor } from './health';
import { HealthPublisher } from './health-publisher';
import { opsSettings, statusUrl, type HealthSettings, type StatusSettings } from './ops-config';
import { SeriesRing } from './series';
import { StatusSampler } from './status-sampler';
import { StatusServer } from './status-server';
import type { GatewayStatus } from './status-types';

export { HEALTH_GET_PROCEDURE, OPS_AUTHID, OPS_AUTHROLE, STATUS_GET_PROCEDURE } from './health-publisher';
export { DEFAULT_STATUS_HOST, DEFAULT_STATUS_PORT, opsSettings, statusSettings, statusUrl, validateHealth, validateStatus } from './ops-config';
export type { HealthSettings, StatusSettings } from './ops-config';

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

/** The ops part's own words, the `detail` of its PartStatus. */
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
  private publisher: HealthPublisher | undefined;
  private server: StatusServer | undefined;
  private url: string | null = null;
  private sampleTimer: NodeJS.Timeout | undefined;
  /** The last hour for the status page; present while the status listener is enabled. */
  private sampler: StatusSampler | undefined;
  private stopped = false;
  private running = false;
  /** When the part entered its current state (wall ms), and that state. */
  private since: { state: PartState; at: number } = { state: 'stopped', at: Date.now() };
  /** performance.now() at router start: uptime must not jump when NTP sets a Pi's clock. */
  private routerStartMono = 0;

  /** The resolved status and health settings: a reload that leaves them alone keeps the part,
   * and with it the last hour of series. */
  readonly configKey: string;

  constructor(config: GatewayConfig) {
    this.settings = opsSettings(config);
    this.configKey = fingerprint({ ...this.settings, dataDir: config.dataDir ?? null });
  }

  async start(ctx: PartContext): Promise<void> {
    this.ctx = ctx;
    this.log = ctx.logger.child('ops');
    this.routerStartMono = performance.now() - Math.max(0, Date.now() - ctx.gateway.router.startedAt);
    const { status, health } = this.settings;

    if (health.enabled) {
      this.monitor = new HealthMonitor({ logger: ctx.logger, dataDir: existingAncestor(ctx.dataDir), intervalMs: health.intervalMs });
      this.publisher = new HealthPublisher({
        monitor: this.monitor,
        sessions: ctx.sessions,
        realm: health.realm,
        topic: health.topic,
        logger: this.log,
        status: () => this.gatewayStatus(),
      });
      await this.publisher.start();
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
    return gatewayStatus({
      gateway: ctx.gateway,
      ready: this.running && !this.stopped,
      uptimeSeconds: (performance.now() - this.routerStartMono) / 1000,
      health: this.monitor?.snapshot ?? null,
    });
  }

  /** Connected while running with health published (or not asked for); error while publishing fails. */
  private state(): PartState {
    if (this.stopped || !this.ctx) return 'stopped';
    if (!this.running) return 'connecting';
    const p = this.publisher;
    if (p && p.lastError !== null) return 'error';
    if (p && !p.joined && this.settings.health.realm !== undefined) return 'connecting';
    return 'connected';
  }

  status(): PartStatus {
    const state = this.state();
    if (state !== this.since.state) this.since = { state, at: Date.now() };
    const h = this.settings.health;
    const p = this.publisher;
    const detail: OpsPartStatus = {
      kind: 'ops',
      url: this.url,
      health: h.enabled
        ? {
            realm: h.realm ?? null,
            topic: h.topic,
            intervalMs: this.monitor?.intervalMs ?? h.intervalMs,
            joined: p?.joined ?? false,
            published: p?.published ?? 0,
            publishFailures: p?.publishFailures ?? 0,
            lastPublishedAt: p?.lastPublishedAt ?? null,
          }
        : null,
    };
    const out: PartStatus = {
      kind: 'ops',
      role: 'service',
      name: 'ops',
      state,
      since: this.since.at,
      lastError: p?.lastError ?? null,
      counters: h.enabled ? { published: detail.health?.published ?? 0, publishFailures: detail.health?.publishFailures ?? 0 } : {},
      detail,
    };
    if (this.url !== null) out.target = this.url;
    if (h.enabled && h.realm !== undefined) out.realm = h.realm;
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    this.sampleTimer = undefined;
    this.monitor?.stop();
    const server = this.server;
    this.server = undefined;
    this.url = null;
    await Promise.allSettled([server?.close(), this.publisher?.stop()]);
  }
}

/** One ops part per gateway, always: both sections default to on. */
export const opsPartFactory: PartFactory = (config) => [new OpsPart(config)];
