// Owns health over WAMP: an in-process "wampgate.ops" session kept joined in the health realm,
// the board health polled on one timer and published on a retained topic, and the two procedures
// (wampgate.health.get, wampgate.status.get). Does not own taking the snapshot (health.ts) nor
// the status it serves (handed in as a function).

import { SessionKeeper } from '../client/session-keeper';
import { Result } from '../client/wamp-client';
import type { LocalSessions } from '../gateway-part';
import type { Logger } from '../util/logger';
import type { HealthMonitor, HealthSnapshot } from './health';
import type { GatewayStatus } from './status-types';

export const HEALTH_GET_PROCEDURE = 'wampgate.health.get';
export const STATUS_GET_PROCEDURE = 'wampgate.status.get';
export const OPS_AUTHID = 'wampgate.ops';
export const OPS_AUTHROLE = 'wampgate.ops';

export interface HealthPublisherOptions {
  monitor: HealthMonitor;
  sessions: LocalSessions;
  /** Undefined only when the config has no realm at all: then nothing is published. */
  realm: string | undefined;
  topic: string;
  logger: Logger;
  /** What wampgate.status.get answers. */
  status: () => GatewayStatus;
}

export class HealthPublisher {
  private keeper: SessionKeeper | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  published = 0;
  publishFailures = 0;
  lastPublishedAt: number | null = null;
  /** Why the last publish failed, while it keeps failing; null once one succeeds. */
  lastError: string | null = null;

  constructor(private readonly o: HealthPublisherOptions) {}

  /** Whether the ops session is joined. */
  get joined(): boolean {
    return this.keeper?.session !== undefined;
  }

  async start(): Promise<void> {
    if (this.o.realm !== undefined) await this.join(this.o.realm);
    // Polled here rather than with monitor.start(): each snapshot is published as soon as it is
    // taken, with one timer instead of two.
    void this.pollAndPublish();
    this.timer = setInterval(() => void this.pollAndPublish(), this.o.monitor.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.keeper?.stop();
  }

  /** Keeps an in-process session in the health realm (rejoined if killed) with the two procedures. */
  private async join(realm: string): Promise<void> {
    const log = this.o.logger;
    const keeper = new SessionKeeper({
      name: 'ops',
      realm,
      // Hidden: the gateway's own session is not a "session" to the operator (counts, meta API).
      identity: { authid: OPS_AUTHID, authrole: OPS_AUTHROLE, hidden: true, realm },
      router: this.o.sessions,
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
        await register(HEALTH_GET_PROCEDURE, () => new Result([this.o.monitor.snapshot ?? null]));
        await register(STATUS_GET_PROCEDURE, () => new Result([this.o.status()]));
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
    const { monitor, topic, logger: log } = this.o;
    if (this.stopped) return;
    let snapshot: HealthSnapshot;
    try {
      snapshot = await monitor.poll();
    } catch (err) {
      // poll() is documented never to reject; guarded anyway, since a timer callback must not throw.
      log.error('health poll failed', { error: String(err) });
      return;
    }
    const client = this.keeper?.session;
    if (!client || this.stopped) return;
    try {
      // retain: a subscriber that joins later asks with get_retained and sees the latest at once.
      // acknowledge: an authorization refusal is otherwise silent.
      await client.publish(topic, [snapshot], {}, { retain: true, acknowledge: true });
      this.published++;
      this.lastPublishedAt = snapshot.takenAt;
      if (this.lastError !== null) {
        this.lastError = null;
        log.info('health publish works again', { topic });
      }
    } catch (err) {
      this.publishFailures++;
      // Once when it starts failing: one line per interval forever would wear the SD card.
      if (this.lastError === null) log.warn('cannot publish health', { topic, authrole: OPS_AUTHROLE, error: String(err) });
      this.lastError = String(err);
    }
  }
}
