// The router: realms by name, every session on every realm, and the one attach point for
// connections (a Peer, from a socket or an in-process pair). Owns nothing about routing itself
// (Realm, Broker, Dealer), how connections arrive (transports/), nor which authenticator a
// connection meets: the composition root passes `authenticatorFor` (auth/ implements it).

import { ErrorUri } from '../protocol/error-uris';
import type { SessionId } from '../protocol/ids';
import type { Dict } from '../protocol/messages';
import type { Peer, TransportInfo } from '../protocol/peer';
import { quietLogger, RateLimitedLog, type Logger } from '../util/logger';
import { AGENT } from '../util/version';
import { defaultSessionLimits, type SessionLimits } from './limits';
import { Realm, type RealmOptions } from './realm';
import type { Authenticator, HelloOutcome, LocalIdentity } from './ports';
import { Session, type SessionHost } from './session';
import { RouterStats } from './stats';

export interface RouterOptions {
  realms?: RealmOptions[];
  logger?: Logger;
  limits?: Partial<SessionLimits>;
  /** Picks the authenticator for a connection (per listener); undefined denies the HELLO. Without
   * it every HELLO is denied: only sessions attached with a preset identity join (attachLocal),
   * so a bare Router is never open. Pass e.g. `() => anonymousOnLoopback()` (auth/anonymous). */
  authenticatorFor?: (transport: TransportInfo) => Authenticator | undefined;
  /** Called on every failed authentication (for rate limiting by remote address). */
  onAuthFailure?: (transport: TransportInfo, authid: unknown) => void;
}

export class Router implements SessionHost {
  readonly logger: Logger;
  readonly limits: SessionLimits;
  readonly stats = new RouterStats();
  readonly agent = AGENT;
  readonly startedAt = Date.now();
  /** realm name -> realm */
  readonly realms = new Map<string, Realm>();
  /** session id -> session, across realms: kill by id, metrics. */
  readonly sessions = new Map<SessionId, Session>();
  /** every attached connection, established or not: shutdown must reach all of them. */
  private readonly attached = new Set<Session>();
  private readonly authenticatorFor: ((transport: TransportInfo) => Authenticator | undefined) | undefined;
  private readonly log: Logger;
  readonly floodLog: RateLimitedLog;

  constructor(private readonly options: RouterOptions = {}) {
    this.logger = options.logger ?? quietLogger;
    this.log = this.logger.child('router');
    this.floodLog = new RateLimitedLog(this.logger.child('session'));
    this.limits = { ...defaultSessionLimits, ...options.limits };
    this.authenticatorFor = options.authenticatorFor;
    for (const r of options.realms ?? []) this.addRealm(r);
  }

  addRealm(options: RealmOptions): Realm {
    if (this.realms.has(options.name)) throw new Error(`realm "${options.name}" already exists`);
    const realm = new Realm(options, this.limits, this.logger);
    this.realms.set(realm.name, realm);
    return realm;
  }

  /** Closes the realm's sessions (GOODBYE with `reason`) and forgets it: a later HELLO for it
   * gets no_such_realm. Live reload removes a realm this way. */
  removeRealm(name: string, reason: string = ErrorUri.closeRealm): boolean {
    const realm = this.realms.get(name);
    if (!realm) return false;
    this.realms.delete(name);
    realm.shutdown(reason);
    return true;
  }

  findRealm(name: string): Realm | undefined {
    return this.realms.get(name);
  }

  /** A new connection from a transport. With `identity`, the connection skips authentication
   * and joins as that identity (an in-process session, see transports/local.ts attachLocal; a
   * serial device whose port config names it). */
  attach(peer: Peer, identity?: LocalIdentity): Session {
    const session = new Session(peer, this, identity);
    this.attached.add(session);
    return session;
  }

  authenticate(transport: TransportInfo, realm: string, details: Dict, session: number): HelloOutcome | Promise<HelloOutcome> {
    if (!this.authenticatorFor) {
      return { kind: 'deny', reason: ErrorUri.notAuthorized, message: 'this router authenticates no one (no authenticatorFor): only preset identities join' };
    }
    const authenticator = this.authenticatorFor(transport);
    if (!authenticator) {
      return { kind: 'deny', reason: ErrorUri.notAuthorized, message: `listener "${transport.listener}" accepts no authentication method` };
    }
    return authenticator.hello({ realm, details, transport, session });
  }

  sessionOpened(session: Session): void {
    this.sessions.set(session.id, session);
    this.stats.sessionsOpened++;
  }

  sessionClosed(session: Session): void {
    this.sessions.delete(session.id);
    this.stats.sessionsClosed++;
  }

  connectionClosed(session: Session): void {
    this.attached.delete(session);
  }

  /** Connections attached, including those still in the handshake. */
  get connectionCount(): number {
    return this.attached.size;
  }

  authFailed(transport: TransportInfo, authid: unknown): void {
    this.stats.authFailures++;
    this.options.onAuthFailure?.(transport, authid);
  }

  /** Closes every session with GOODBYE system_shutdown and waits (bounded) for them to go. */
  async close(): Promise<void> {
    // Connections without a session first: after realm.shutdown the sessions it sent GOODBYE
    // are not `established` either, and closing them would not wait for their reply.
    for (const s of this.attached) if (!s.established) s.peer.close('router shutting down');
    for (const realm of this.realms.values()) realm.shutdown(ErrorUri.systemShutdown);
    const deadline = Date.now() + this.limits.goodbyeTimeoutMs;
    while (Date.now() < deadline && [...this.attached].some((s) => !s.peer.closed)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of this.attached) s.peer.close('router stopped');
    this.attached.clear();
    this.log.info('router stopped');
  }
}
