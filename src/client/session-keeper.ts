// Keeps an in-process WAMP session joined for a long-lived part (a bridge): joins, runs the
// part's setup (subscriptions, registrations) on every join, and rejoins with backoff when the
// session is closed under it (a meta-API kill, a realm shutdown). What the session does is the
// part's business; this owns only its lifecycle.

import type { Peer } from '../protocol/peer';
import { Backoff } from '../util/backoff';
import type { Logger } from '../util/logger';
import { WampClient } from './wamp-client';
import { ErrorUri } from '../protocol/error-uris';

/** A local session rejoins after 0.5 s, doubling to 30 s: the router is in this process, so a
 * refusal is a config problem that a fast retry only floods the log with. No jitter: no fleet
 * reconnects to an in-process router. */
const REJOIN_MIN_MS = 500;
const REJOIN_MAX_MS = 30_000;

export type KeptSessionState = 'joining' | 'joined' | 'closed';

/** The in-process identity (the router's LocalIdentity, structurally). */
export interface KeptIdentity {
  authid: string;
  authrole: string;
  /** Not counted or listed as a user session (the gateway's own ops session). */
  hidden?: boolean;
  realm?: string;
}

export interface SessionKeeperOptions {
  /** Names the in-process connection (logs, meta API transport peer). */
  name: string;
  realm: string;
  identity: KeptIdentity;
  router: { attachLocal(name: string, identity: KeptIdentity): Peer };
  /** Runs after every join, before the session counts as joined. A rejection fails the join. */
  setup(session: WampClient): Promise<void>;
  logger: Logger;
  /** Rejoin backoff: initial delay doubling up to the maximum (no jitter: the realm is our own). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export class SessionKeeper {
  private current: WampClient | undefined;
  private joinState: KeptSessionState = 'closed';
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly options: SessionKeeperOptions) {
    this.backoff = new Backoff({ initialDelayMs: options.initialDelayMs ?? REJOIN_MIN_MS, maxDelayMs: options.maxDelayMs ?? REJOIN_MAX_MS, jitter: 0 });
  }

  /** The session, once WELCOME arrived (also while setup runs); absent between sessions. */
  get session(): WampClient | undefined {
    return this.current && !this.current.closed ? this.current : undefined;
  }

  get state(): KeptSessionState {
    return this.joinState;
  }

  /** The first join; rejects when it fails (a config problem: no such realm, not authorized). */
  start(): Promise<void> {
    this.stopping = false;
    return this.join();
  }

  /** Stops rejoining and leaves the realm with `reason`. */
  async stop(reason: string = ErrorUri.systemShutdown): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const session = this.current;
    this.current = undefined;
    this.joinState = 'closed';
    if (session && !session.closed) await session.close(reason).catch(() => undefined);
  }

  private async join(): Promise<void> {
    this.joinState = 'joining';
    const peer = this.options.router.attachLocal(this.options.name, this.options.identity);
    let session: WampClient;
    try {
      session = await WampClient.connect(peer, { realm: this.options.realm });
      // Set before setup so a close during setup is seen (and rejoined) like any other.
      this.current = session;
      session.onClose((reason) => this.closed(session, reason));
      await this.options.setup(session);
    } catch (err) {
      this.current = undefined;
      this.joinState = 'closed';
      peer.close('join failed');
      throw err;
    }
    if (this.stopping || this.current !== session) {
      if (!session.closed) await session.close();
      return;
    }
    this.joinState = 'joined';
    this.backoff.reset();
    const log = this.options.identity.hidden ? this.options.logger.debug : this.options.logger.info;
    log('joined', { realm: this.options.realm, session: session.sessionId });
  }

  private closed(session: WampClient, reason: string): void {
    if (this.current !== session) return;
    this.current = undefined;
    this.joinState = 'closed';
    if (this.stopping) return;
    this.options.logger.warn('session closed; rejoining', { reason });
    this.scheduleRejoin();
  }

  private scheduleRejoin(): void {
    const delay = this.backoff.next();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopping) return;
      this.join().catch((err: unknown) => {
        this.options.logger.error('rejoining the realm failed', { error: err instanceof Error ? err.message : String(err) });
        if (!this.stopping) this.scheduleRejoin();
      });
    }, delay);
  }
}
