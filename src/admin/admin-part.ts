// The admin part: with an `admin` section, offers the gateway's administration procedures to the
// cloud through the uplink (CloudServices) and sends its health up as fleet events. Every call is
// checked against the callers the config allows, from what the cloud disclosed. The config
// changes themselves (apply, confirm, rollback, restart) are the AdminHost's (cli/config-control.ts).

import { Result, type InvocationHandler, type WampClient } from '../client/wamp-client';
import { SessionKeeper } from '../client/session-keeper';
import { WampError } from '../client/wamp-error';
import type { ConfigProblem } from '../config/problem';
import { ConfigError } from '../config/problem';
import { configDocument } from '../config/section';
import type { GatewayConfig } from '../config/types';
import type { GatewayPart, PartContext, PartFactory, PartStatus } from '../gateway-part';
import { fingerprint } from '../util/fingerprint';
import { ErrorUri } from '../protocol/error-uris';
import type { Dict } from '../protocol/messages';
import { callerAllowed, resolveAdmin, type ResolvedAdminConfig } from './admin-config';
import type { PendingApply } from './commit-confirmed';
import { maskSecrets, redactConfig, secretValues } from './redact';

/** logs.tail without `lines`: about a screenful; admin.logsTailMax bounds what may be asked. */
const LOGS_TAIL_DEFAULT_LINES = 100;

/** What the admin procedures act on: the process's config and lifecycle (cli/config-control.ts). */
export interface AdminHost {
  runningConfig(): GatewayConfig;
  check(raw: unknown): ConfigProblem[];
  /** Applies `raw` live and arms the rollback; rejects with ConfigError when it is invalid. */
  apply(raw: unknown, confirmWithinS: number, by: string): Promise<Dict>;
  confirm(by: string): Promise<Dict>;
  rollback(by: string): Promise<Dict>;
  pending(): PendingApply | undefined;
  /** Stops and starts the gateway in this process, after the answer went out. */
  restart(by: string): Dict;
  logTail(lines: number): string[];
  /** Apply, confirm and rollback as they happen; returns the unsubscribe. */
  onChange(fn: (event: Dict) => void): () => void;
}

export const ADMIN_PROCEDURES = ['status', 'config.get', 'config.check', 'config.apply', 'config.confirm', 'config.rollback', 'logs.tail', 'restart'] as const;
export const STATUS_PROCEDURE = 'wampgate.status.get';
const ADMIN_AUTHID = 'wampgate.admin';
/** Change events kept while the link is down; the oldest go first when more come. */
const MAX_WAITING_CHANGES = 50;

function who(details: Dict): string {
  return `${String(details.caller_authid ?? '?')}/${String(details.caller_authrole ?? '?')}`;
}

export class AdminPart implements GatewayPart {
  readonly name = 'admin';
  readonly configKey: string;
  private readonly localRealm: string;
  private readonly withdrawals: Array<() => void> = [];
  private keeper: SessionKeeper | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly counters = { calls: 0, refused: 0, fleetEvents: 0 };
  private since: number | null = null;
  /** Change events not yet published (the link was down), oldest first. */
  private readonly waiting: Dict[] = [];

  constructor(
    private readonly settings: ResolvedAdminConfig,
    private readonly host: AdminHost,
  ) {
    this.localRealm = settings.localRealm;
    this.configKey = fingerprint(settings);
  }

  async start(ctx: PartContext): Promise<void> {
    const cloud = ctx.cloud;
    if (!cloud) throw new Error('admin: this gateway carries no cloud services');
    const log = ctx.logger.child('admin');
    // A session of its own on the local realm, to read the status the ops part serves.
    this.keeper = new SessionKeeper({
      name: 'admin',
      realm: this.localRealm,
      identity: { authid: ADMIN_AUTHID, authrole: ADMIN_AUTHID, hidden: true, realm: this.localRealm },
      router: ctx.sessions,
      logger: ctx.logger,
      setup: async () => undefined,
    });
    await this.keeper.start();
    this.since = Date.now();
    const s = this.settings;
    const procedures: Record<(typeof ADMIN_PROCEDURES)[number], (args: unknown[], kwargs: Dict, by: string) => unknown> = {
      status: () => this.localStatus(),
      'config.get': () => ({ config: redactConfig(configDocument(this.host.runningConfig())), pending: this.host.pending() ?? null }),
      'config.check': (args, kwargs) => {
        const problems = this.host.check(kwargs.config ?? args[0]);
        return { ok: problems.length === 0, problems };
      },
      'config.apply': async (args, kwargs, by) => {
        const raw = kwargs.config ?? args[0];
        const within = kwargs.confirmWithinS ?? s.confirmWithinS;
        if (!Number.isSafeInteger(within) || (within as number) < 10 || (within as number) > 86_400)
          throw new WampError(ErrorUri.invalidArgument, ['confirmWithinS must be an integer from 10 to 86400']);
        try {
          return await this.host.apply(raw, within as number, by);
        } catch (err) {
          if (err instanceof ConfigError)
            throw new WampError(ErrorUri.invalidArgument, ['the config has errors; nothing was changed'], { problems: err.problems });
          throw err;
        }
      },
      'config.confirm': (_a, _k, by) => this.host.confirm(by),
      'config.rollback': (_a, _k, by) => this.host.rollback(by),
      'logs.tail': (_args, kwargs) => {
        const n = kwargs.lines ?? LOGS_TAIL_DEFAULT_LINES;
        if (!Number.isSafeInteger(n) || (n as number) < 1) throw new WampError(ErrorUri.invalidArgument, ['lines must be a positive integer']);
        const secrets = secretValues(configDocument(this.host.runningConfig()));
        return { lines: this.host.logTail(Math.min(n as number, s.logsTailMax)).map((l) => maskSecrets(l, secrets)) };
      },
      restart: (_a, _k, by) => this.host.restart(by),
    };
    for (const name of ADMIN_PROCEDURES) {
      const uri = `${s.prefix}admin.${name}`;
      const handler: InvocationHandler = async (args, kwargs, details) => {
        const by = who(details);
        if (!callerAllowed(s.allow, details)) {
          this.counters.refused++;
          const disclosed = details.caller_authid !== undefined || details.caller_authrole !== undefined;
          log.warn('admin call refused', { procedure: name, caller: by, reason: disclosed ? 'not allowed' : 'caller not disclosed' });
          throw new WampError(ErrorUri.notAuthorized, [
            disclosed
              ? `${by} may not administer this gateway`
              : 'the cloud did not disclose the caller: configure caller disclosure for this procedure on the cloud router',
          ]);
        }
        this.counters.calls++;
        log.info('admin call', { procedure: name, caller: by });
        const out = await procedures[name](args, kwargs, by);
        return out instanceof Result ? out : new Result([out]);
      };
      this.withdrawals.push(cloud.offer(uri, handler));
    }
    // Changes matter most when they cut the link (a config that broke the uplink, rolled back):
    // they wait, bounded, until it is up again.
    const changeTopic = `${s.prefix}admin.on_change`;
    const flush = (): void => {
      while (this.waiting.length > 0 && cloud.publish(changeTopic, [this.waiting[0]])) this.waiting.shift();
    };
    this.withdrawals.push(
      this.host.onChange((event) => {
        this.waiting.push(event);
        if (this.waiting.length > MAX_WAITING_CHANGES) this.waiting.shift();
        flush();
      }),
      cloud.onOnline(flush),
    );
    if (s.fleetIntervalS > 0) {
      const beat = (): void => {
        void this.localStatus().then(
          (status) => {
            if (cloud.publish(`${s.prefix}health`, [fleetSummary(s.gatewayId, status)])) this.counters.fleetEvents++;
          },
          () => undefined,
        );
      };
      this.timer = setInterval(beat, s.fleetIntervalS * 1000);
      this.timer.unref();
    }
    log.info('remote administration offered through the uplink', { prefix: `${s.prefix}admin.`, allow: s.allow.length });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const w of this.withdrawals.splice(0)) w();
    await this.keeper?.stop(ErrorUri.closeNormal);
  }

  status(): PartStatus {
    const pending = this.host.pending();
    return {
      kind: 'admin',
      role: 'service',
      name: 'admin',
      state: this.keeper?.session ? 'connected' : 'stopped',
      since: this.since,
      lastError: null,
      counters: { ...this.counters, waitingChanges: this.waiting.length },
      target: `${this.settings.prefix}admin.`,
      detail: { pendingConfirmBefore: pending ? new Date(pending.deadline).toISOString() : null, allow: this.settings.allow.length },
    };
  }

  private async localStatus(): Promise<unknown> {
    const session: WampClient | undefined = this.keeper?.session;
    if (!session) throw new WampError(ErrorUri.unavailable, ['the admin session is not joined']);
    try {
      const r = await session.call(STATUS_PROCEDURE, [], {}, { timeout: 5000 });
      return r.args[0] ?? null;
    } catch (err) {
      if (err instanceof WampError && err.error === ErrorUri.noSuchProcedure)
        throw new WampError(ErrorUri.unavailable, ['status is served by the ops part: enable "health" in the config']);
      throw err;
    }
  }
}

/** The fleet event: small, so a dashboard of many gateways stays cheap. */
function fleetSummary(gatewayId: string, status: unknown): Dict {
  const s = (status ?? {}) as Dict;
  return { gatewayId, time: new Date().toISOString(), ready: s.ready ?? null, version: s.version ?? null, health: s.health ?? null, parts: s.parts ?? null };
}

/** Builds the admin part when the config enables it (the section checked it has an uplink). */
export function adminPartFactory(host: AdminHost): PartFactory {
  return (config: GatewayConfig) => {
    const settings = resolveAdmin(config);
    return settings ? [new AdminPart(settings, host)] : [];
  };
}
