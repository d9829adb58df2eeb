// The running process's config and lifecycle: starts the gateway on the effective config (the
// file, or what the admin applied over it), reloads it live (SIGHUP, `systemctl reload`), and
// carries out the admin procedures' commit-confirmed changes: apply, confirm, roll back by itself
// when the deadline passes (also after a crash or reboot), restart in place.

import { resolve as resolvePath } from 'node:path';
import type { AdminHost } from '../admin/admin-part';
import { CommitConfirmedStore, sha256, type PendingApply, type StoredConfig } from '../admin/commit-confirmed';
import { defaultConfig } from '../config/defaults';
import { parseConfigText, readConfigText } from '../config/load';
import { ConfigError, type ConfigProblem } from '../config/problem';
import { validateConfig, type ConfigPlugins } from '../config/schema';
import type { GatewayConfig } from '../config/types';
import { Gateway, type ReloadReport } from '../gateway';
import { GatewayAuth } from '../auth/gateway-auth';
import { planReload } from '../gateway-reload';
import type { PartFactory } from '../gateway-part';
import type { Dict } from '../protocol/messages';
import type { Logger, LogLevel } from '../util/logger';
import type { LogRing } from '../util/log-ring';

/** How long a change waits after its answer was handed to the transport. */
const ANSWER_FIRST_MS = 100;

export interface ConfigControlOptions {
  /** The config file; undefined runs the built-in default (nothing to reload or apply over). */
  configPath: string | undefined;
  /** --log-level: wins over every config, the file's and an applied one. */
  logLevel?: LogLevel;
  logger: Logger;
  logRing?: LogRing;
  validators: ConfigPlugins;
  /** The optional parts; the admin part gets this controller as its host. */
  parts: (host: AdminHost) => PartFactory[];
  now?: () => number;
}

interface Base {
  raw: unknown;
  sha: string;
}

export class ConfigControl implements AdminHost {
  private gateway: Gateway | undefined;
  private store: CommitConfirmedStore | undefined;
  private base: Base | undefined;
  /** What runs: an applied config, or undefined for the base file. */
  private applied: StoredConfig | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly watchers = new Set<(event: Dict) => void>();
  /** Events emitted while nobody listened, for the first listener (bounded). */
  private readonly unheard: Dict[] = [];
  private readonly now: () => number;
  private readonly log: Logger;
  /** One change at a time: an apply, a confirm, a rollback or a reload. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ConfigControlOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.logger.child('config');
  }

  get running(): Gateway | undefined {
    return this.gateway;
  }

  /** Starts the gateway. An applied config that cannot start while unconfirmed is rolled back
   * at once: an unconfirmed change must never keep the board down. Throws what Gateway.start throws. */
  async start(): Promise<Gateway> {
    const config = this.loadEffective();
    try {
      this.gateway = await Gateway.start(config, this.gatewayOptions());
    } catch (err) {
      if (!this.applied || !this.store?.pending()) throw err;
      this.log.error('the applied config failed to start; rolling back', { error: (err as Error).message });
      this.store.rollback();
      this.emit({ event: 'rollback', by: 'startup', reason: (err as Error).message });
      this.gateway = await Gateway.start(this.loadEffective(), this.gatewayOptions());
    }
    this.armTimer();
    return this.gateway;
  }

  /** SIGHUP: the file again (and the applied config over it, while the file is unchanged). A
   * config with errors is rejected whole and the running one stays. */
  reloadFromFile(): Promise<ReloadReport | undefined> {
    return this.serial(async () => {
      if (!this.options.configPath) {
        this.log.warn('reload requested, but the gateway runs the built-in default config (no --config): nothing to reload');
        return undefined;
      }
      let next: GatewayConfig;
      try {
        next = this.loadEffective();
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) this.log.error(`reload rejected: ${p.path}: ${p.message}`);
        this.log.error(`reload rejected: ${err.problems.length} problem(s) in ${this.options.configPath}; the running config stays`);
        return undefined;
      }
      this.armTimer();
      return this.reloadLive(next);
    });
  }

  // ---- AdminHost ---------------------------------------------------------------------------------

  runningConfig(): GatewayConfig {
    const g = this.gateway;
    if (!g) throw new Error('the gateway is not running');
    return g.config;
  }

  check(raw: unknown): ConfigProblem[] {
    return validateConfig(raw, this.options.validators).problems;
  }

  pending(): PendingApply | undefined {
    return this.store?.pending();
  }

  apply(raw: unknown, confirmWithinS: number, by: string): Promise<Dict> {
    return this.serial(async () => {
      const store = this.store;
      const base = this.base;
      if (!store || !base) throw new Error('remote configuration needs a config file (wampgate start --config FILE)');
      if (store.pending()) throw new ConfigError([{ path: '(apply)', message: 'a change is waiting for config.confirm or config.rollback' }]);
      const config = this.validate(raw);
      // What the reload would throw on (a secret it names cannot be read), before anything changed.
      new GatewayAuth(config, this.options.logger).close();
      const next: StoredConfig = { baseSha256: base.sha, config: raw };
      const pending = store.begin(this.applied, next, this.now() + confirmWithinS * 1000, this.now());
      this.applied = next;
      this.armTimer();
      const confirmBefore = new Date(pending.deadline).toISOString();
      this.log.warn('config applied remotely; it is rolled back unless confirmed', { by, confirmBefore });
      this.emit({ event: 'apply', by, confirmBefore });
      // The answer first: the change may restart the uplink this call came through.
      setTimeout(() => void this.serial(() => this.carryOut(config, by)), ANSWER_FIRST_MS).unref();
      return { applied: true, confirmBefore, plan: planReload(this.runningConfig(), config) as unknown as Dict };
    });
  }

  /** The reload of an apply; one that fails is rolled back at once rather than at the deadline. */
  private async carryOut(config: GatewayConfig, by: string): Promise<void> {
    try {
      await this.reloadLive(config);
    } catch (err) {
      this.log.error('the applied config failed to load; rolling back', { error: (err as Error).message });
      await this.rollbackNow(by, `failed to load: ${(err as Error).message}`).catch((e: unknown) => this.log.error('rollback failed', { error: String(e) }));
    }
  }

  confirm(by: string): Promise<Dict> {
    return this.serial(async () => {
      if (!this.store?.pending()) throw new ConfigError([{ path: '(confirm)', message: 'no applied config is waiting for confirmation' }]);
      this.store.confirm();
      clearTimeout(this.timer);
      this.log.info('applied config confirmed', { by });
      this.emit({ event: 'confirm', by });
      return { confirmed: true };
    });
  }

  rollback(by: string): Promise<Dict> {
    return this.serial(async () => {
      if (!this.store?.pending()) throw new ConfigError([{ path: '(rollback)', message: 'no applied config is waiting for confirmation' }]);
      // As with apply: answer, then change (the rollback may restart the uplink).
      setTimeout(
        () => void this.serial(() => this.rollbackNow(by, 'asked')).catch((e: unknown) => this.log.error('rollback failed', { error: String(e) })),
        ANSWER_FIRST_MS,
      ).unref();
      return { rollingBack: true };
    });
  }

  restart(by: string): Dict {
    this.log.warn('restart requested', { by });
    // After the answer went out through the uplink that the restart stops.
    setTimeout(() => {
      void this.serial(async () => {
        const config = this.gateway?.config;
        await this.gateway?.stop();
        this.gateway = await Gateway.start(config ?? this.loadEffective(), this.gatewayOptions());
        this.log.info('restarted in place', { by });
      }).catch((err: unknown) => {
        this.log.error('restart failed; exiting for the service manager to start us again', { error: String(err) });
        process.exit(1);
      });
    }, 200).unref();
    return { restarting: true };
  }

  logTail(lines: number): string[] {
    return this.options.logRing?.tail(lines) ?? [];
  }

  onChange(fn: (event: Dict) => void): () => void {
    this.watchers.add(fn);
    // What happened before anyone listened (a rollback at start-up, before the admin part ran).
    for (const event of this.unheard.splice(0)) fn(event);
    return () => this.watchers.delete(fn);
  }

  stop(): Promise<void> {
    clearTimeout(this.timer);
    return this.gateway?.stop() ?? Promise.resolve();
  }

  // ---- internals ---------------------------------------------------------------------------------

  private async rollbackNow(by: string, why: string): Promise<Dict> {
    const store = this.store;
    if (!store?.pending()) return { rolledBack: false };
    clearTimeout(this.timer);
    this.applied = store.rollback();
    const config = this.loadEffective();
    const report = await this.reloadLive(config);
    this.log.warn('applied config rolled back', { by, why });
    this.emit({ event: 'rollback', by, reason: why });
    return { rolledBack: true, report: report as unknown as Dict };
  }

  /** Arms the rollback for the pending apply, if any (at start: what a crash left behind). */
  private armTimer(): void {
    clearTimeout(this.timer);
    const pending = this.store?.pending();
    if (!pending) return;
    const wait = Math.max(0, pending.deadline - this.now());
    this.timer = setTimeout(() => {
      void this.serial(() => this.rollbackNow('timer', 'not confirmed in time')).catch((err: unknown) =>
        this.log.error('rollback failed', { error: String(err) }),
      );
    }, wait);
    this.timer.unref();
  }

  /** The config to run: the file's, or the applied one over it. Rolls back on disk first when a
   * pending apply's deadline passed while the process was down; forgets an applied config when
   * the file on the board changed since. */
  private loadEffective(): GatewayConfig {
    const path = this.options.configPath;
    if (!path) return this.withLogLevel(defaultConfig());
    const text = readConfigText(resolvePath(path));
    const raw = parseConfigText(path, text);
    this.base = { raw, sha: sha256(text) };
    const baseConfig = this.validate(raw);
    this.store ??= new CommitConfirmedStore(resolvePath(baseConfig.dataDir ?? 'data'));
    const store = this.store;
    let applied = store.applied();
    if (applied && applied.baseSha256 !== this.base.sha) {
      this.log.warn('the config file changed on the board since a remote apply: the file wins', { file: path });
      store.clear();
      applied = undefined;
    }
    const pending = store.pending();
    if (applied && pending && pending.deadline <= this.now()) {
      this.log.warn('an applied config was not confirmed before its deadline: rolling back', { deadline: new Date(pending.deadline).toISOString() });
      applied = store.rollback();
      this.emit({ event: 'rollback', by: 'startup', reason: 'not confirmed in time' });
    }
    this.applied = applied;
    return applied ? this.validate(applied.config) : baseConfig;
  }

  private validate(raw: unknown): GatewayConfig {
    const { config, problems } = validateConfig(raw, this.options.validators);
    if (!config) throw new ConfigError(problems);
    return this.withLogLevel(config);
  }

  private withLogLevel(config: GatewayConfig): GatewayConfig {
    if (this.options.logLevel) config.log.level = this.options.logLevel;
    return config;
  }

  private reloadLive(config: GatewayConfig): Promise<ReloadReport> {
    const g = this.gateway;
    if (!g) throw new Error('the gateway is not running');
    return g.reload(config);
  }

  private gatewayOptions(): { logger: Logger; parts: PartFactory[] } {
    return { logger: this.options.logger, parts: this.options.parts(this) };
  }

  private emit(event: Dict): void {
    const stamped = { ...event, time: new Date(this.now()).toISOString() };
    if (this.watchers.size === 0 && this.unheard.length < 10) this.unheard.push(stamped);
    for (const fn of this.watchers) {
      try {
        fn(stamped);
      } catch {
        // A watcher's failure is its own; the change happened.
      }
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => undefined).then(work);
    this.queue = run;
    return run;
  }
}
