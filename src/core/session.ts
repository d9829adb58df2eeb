// One WAMP session on one Peer: its state machine (HELLO → [CHALLENGE/AUTHENTICATE] → WELCOME →
// … → GOODBYE/ABORT), protocol-violation handling, and in-order inbound processing when a step
// awaits. Authentication is in session-handshake.ts, sending in session-outbound.ts, refusing an
// over-limit message in session-over-limit.ts, routing in Realm.

import { ErrorUri } from '../protocol/error-uris';
import { randomId, SequentialIds, type RequestId, type SessionId } from '../protocol/ids';
import { MessageType } from '../protocol/message-types';
import type { Dict, Message, ClientToRouter } from '../protocol/messages';
import { isClientToRouter } from '../protocol/messages';
import type { OverLimit, Peer, PeerListener, TransportInfo } from '../protocol/peer';
import { isValidUri } from '../protocol/uri';
import { describeValue, type Logger } from '../util/logger';
import { clientSupports } from './features';
import type { AuthAccept, LocalIdentity, SessionIdentity } from './ports';
import type { Realm } from './realm';
import { Handshake, type HandshakeHost } from './session-handshake';
import { SessionOutbound, type OutboundHost, type SendResult } from './session-outbound';
import { refuseOverLimit } from './session-over-limit';
import { compactWelcome, welcomeDetails } from './welcome-details';

export type { SendResult } from './session-outbound';
type State = 'hello' | 'authenticating' | 'established' | 'closing' | 'closed';

/** What a session needs from the router; keeps session.ts free of Router's details. */
export interface SessionHost extends OutboundHost, HandshakeHost {
  readonly logger: Logger;
  readonly agent: string;
  findRealm(name: string): Realm | undefined;
  sessionOpened(session: Session): void;
  sessionClosed(session: Session): void;
  connectionClosed(session: Session): void;
}

export interface Testament {
  topic: string;
  args?: unknown[];
  kwargs?: Dict;
  options: Dict;
}

export class Session implements PeerListener {
  id: SessionId = 0 as SessionId;
  realm: Realm | undefined;
  authid = '';
  authrole = '';
  authmethod = '';
  authprovider = '';
  authextra: Dict | undefined;
  /** HELLO.Details.roles as the client announced them. */
  roles: Dict = {};
  trusted = false;
  hidden = false;
  readonly transport: TransportInfo;
  readonly testaments: { detached: Testament[]; destroyed: Testament[] } = { detached: [], destroyed: [] };
  /** Router-to-callee request IDs (session scope: sequential per callee). */
  readonly invocationIds = new SequentialIds();
  messagesIn = 0;
  joinedAt = 0;

  private state: State = 'hello';
  private helloTimer: NodeJS.Timeout | undefined;
  private goodbyeTimer: NodeJS.Timeout | undefined;
  /** Inbound messages held while an awaited step (auth, dynamic authorization) runs. */
  private held: Message[] = [];
  private busy = false;
  private readonly log: Logger;
  /** "role.feature" -> whether HELLO announced it: asked on every routed message. */
  private featureCache = new Map<string, boolean>();
  /** The send side: its counters (messagesOut, eventsDropped) and, read right after a send
   * that failed (routing is synchronous), why: lastRefusal, lastTooLarge. */
  readonly outbound: SessionOutbound;
  private readonly handshake: Handshake;

  constructor(
    readonly peer: Peer,
    private readonly host: SessionHost,
    private readonly preset?: LocalIdentity,
  ) {
    this.transport = peer.transport;
    this.log = host.logger.child('session');
    this.outbound = new SessionOutbound(peer, host, this.log, () => this.logFields());
    this.handshake = new Handshake({
      peer,
      host,
      log: this.log,
      logFields: () => this.logFields(),
      send: (msg) => void this.send(msg),
      abort: (reason, message) => this.abort(reason, message),
      closeQuietly: (reason) => this.closeQuietly(reason),
      accept: (realmName, accept) => this.welcome(realmName, accept),
    });
    this.armHelloTimer();
    peer.setListener(this);
  }

  get established(): boolean {
    return this.state === 'established';
  }

  identity(): SessionIdentity {
    return {
      session: this.id,
      realm: this.realm?.name ?? '',
      authid: this.authid,
      authrole: this.authrole,
      authmethod: this.authmethod,
      transport: this.transport,
    };
  }

  /** HELLO.Details.roles.<role>.features.<feature> === true, cached per session. */
  supports(role: string, feature: string): boolean {
    const key = `${role}.${feature}`;
    let v = this.featureCache.get(key);
    if (v === undefined) this.featureCache.set(key, (v = clientSupports(this.roles, role, feature)));
    return v;
  }

  // ---- outbound (session-outbound.ts) ------------------------------------------------------

  /** Sends any message under the outbound queue policy. Never throws. */
  send(msg: Message): SendResult {
    return this.outbound.send(msg);
  }

  /** Sends an EVENT, applying the slow-consumer policy (DESIGN §3). */
  sendEvent(msg: Message): SendResult {
    return this.outbound.sendEvent(msg);
  }

  sendError(requestType: number, request: RequestId, error: string, args?: unknown[], kwargs?: Dict, details: Dict = {}): void {
    this.outbound.sendError(requestType, request, error, args, kwargs, details);
  }

  /** Router-initiated close (meta kill, realm shutdown): GOODBYE, then wait for the reply. */
  shutdown(reason: string = ErrorUri.systemShutdown, message?: string): void {
    if (this.state !== 'established') {
      if (this.state !== 'closed') this.peer.close(reason);
      return;
    }
    this.state = 'closing';
    this.send({ type: MessageType.GOODBYE, details: message ? { message } : {}, reason });
    this.leaveRealm();
    this.goodbyeTimer = setTimeout(() => this.peer.close('goodbye timeout'), this.host.limits.goodbyeTimeoutMs);
    this.goodbyeTimer.unref();
  }

  /** Protocol violation (DESIGN §3): ABORT and close this connection, nothing else. */
  abort(reason: string, message: string): void {
    if (this.peer.closed) return;
    if (reason === ErrorUri.protocolViolation) {
      this.host.stats.protocolViolations++;
      this.host.stats.countClose('protocol_violation');
      this.host.floodLog.warn('protocol_violation', 'protocol violation, connection closed', { ...this.logFields(), message });
    }
    this.peer.send({ type: MessageType.ABORT, details: { message }, reason });
    this.leaveRealm();
    this.state = 'closed';
    this.peer.close(reason);
  }

  // ---- inbound (PeerListener) -------------------------------------------------------------

  onMessage(msg: Message, overLimit?: OverLimit): void {
    this.messagesIn++;
    this.host.stats.countIn(msg.type);
    if (overLimit) return refuseOverLimit(this, this.host, msg, overLimit);
    if (this.handshake.awaitingAuthenticate) return this.handshake.answer(msg);
    if (this.busy) {
      this.held.push(msg);
      return;
    }
    this.process(msg);
  }

  onProtocolViolation(reason: string): void {
    this.abort(ErrorUri.protocolViolation, reason);
  }

  onClose(reason: string): void {
    clearTimeout(this.helloTimer);
    clearTimeout(this.goodbyeTimer);
    if (this.state === 'established' || this.state === 'closing') this.log.debug('connection closed', { ...this.logFields(), reason });
    this.leaveRealm();
    this.state = 'closed';
    this.held = [];
    this.handshake.cancel();
    this.host.connectionClosed(this);
  }

  private process(msg: Message): void {
    try {
      const pending = this.handle(msg);
      if (pending) this.hold(pending);
    } catch (err) {
      // An internal bug (DESIGN §3): log with context, keep serving everyone else.
      this.host.stats.internalErrors++;
      this.log.error('internal error while handling message', { ...this.logFields(), type: msg.type, error: errorText(err) });
    }
  }

  /** Holds later messages until `pending` settles, so a session's messages keep their order. */
  private hold(pending: Promise<void>): void {
    this.busy = true;
    pending
      .catch((err: unknown) => {
        this.host.stats.internalErrors++;
        this.log.error('internal error in awaited step', { ...this.logFields(), error: errorText(err) });
      })
      .finally(() => {
        this.busy = false;
        while (!this.busy && this.held.length > 0 && !this.peer.closed) {
          this.process(this.held.shift() as Message);
        }
      });
  }

  private handle(msg: Message): Promise<void> | void {
    if (!isClientToRouter(msg)) {
      return this.abort(ErrorUri.protocolViolation, `a client may not send message type ${msg.type}`);
    }
    switch (this.state) {
      case 'hello':
        if (msg.type === MessageType.HELLO) return this.handleHello(msg.realm, msg.details);
        if (msg.type === MessageType.ABORT) return this.closeQuietly('client aborted');
        return this.abort(ErrorUri.protocolViolation, `expected HELLO, got message type ${msg.type}`);
      case 'authenticating':
        // Only AUTHENTICATE after our CHALLENGE reaches here; handleHello holds everything else.
        if (msg.type === MessageType.ABORT) return this.closeQuietly('client aborted');
        return this.abort(ErrorUri.protocolViolation, `unexpected message type ${msg.type} during authentication`);
      case 'closing':
        // Waiting for the client's GOODBYE reply; anything else is late traffic and ignored.
        if (msg.type === MessageType.GOODBYE || msg.type === MessageType.ABORT) {
          this.state = 'closed';
          this.peer.close('goodbye complete');
        }
        return;
      case 'closed':
        // After a clean GOODBYE the transport may carry a new session (spec: "Session Closing").
        if (msg.type === MessageType.HELLO) {
          this.armHelloTimer();
          this.state = 'hello';
          return this.handleHello(msg.realm, msg.details);
        }
        return;
      case 'established':
        return this.handleEstablished(msg);
    }
  }

  private handleEstablished(msg: ClientToRouter): Promise<void> | void {
    switch (msg.type) {
      case MessageType.HELLO:
        return this.abort(ErrorUri.protocolViolation, 'HELLO received on an established session');
      case MessageType.AUTHENTICATE:
        return this.abort(ErrorUri.protocolViolation, 'AUTHENTICATE received on an established session');
      case MessageType.GOODBYE:
        this.send({ type: MessageType.GOODBYE, details: {}, reason: ErrorUri.goodbyeAndOut });
        this.leaveRealm();
        this.state = 'closed';
        // The transport may carry a new HELLO; an idle one is closed like any silent connection.
        this.armHelloTimer();
        return;
      case MessageType.ABORT:
        this.leaveRealm();
        this.state = 'closed';
        this.peer.close('client aborted');
        return;
      default:
        return (this.realm as Realm).dispatch(this, msg);
    }
  }

  private handleHello(realmName: string, details: Dict): Promise<void> | void {
    // A new session, even on a transport that carried one before (after GOODBYE): a new ID.
    this.id = 0 as SessionId;
    if (!isValidUri(realmName, 'loose')) return this.abort(ErrorUri.invalidUri, `invalid realm URI "${realmName}"`);
    this.roles = isDictLike(details.roles) ? details.roles : {};
    this.featureCache.clear();
    if (this.preset) {
      if (this.preset.realm !== undefined && this.preset.realm !== realmName) {
        return this.abort(ErrorUri.noSuchRealm, `this connection may only join realm "${this.preset.realm}"`);
      }
      return this.welcome(realmName, {
        kind: 'accept',
        authid: this.preset.authid,
        authrole: this.preset.authrole,
        authmethod: 'trusted',
        authprovider: 'local',
      });
    }
    this.state = 'authenticating';
    this.id = randomId() as SessionId;
    return this.handshake.start(realmName, details, this.id);
  }

  private welcome(realmName: string, accept: AuthAccept): void {
    const realm = this.host.findRealm(realmName);
    if (!realm) return this.abort(ErrorUri.noSuchRealm, `no realm "${realmName}" on this router`);
    clearTimeout(this.helloTimer);
    if (!this.id) this.id = randomId() as SessionId;
    this.authid = accept.authid;
    this.authrole = accept.authrole;
    this.authmethod = accept.authmethod;
    this.authprovider = accept.authprovider;
    this.authextra = accept.authextra;
    this.trusted = this.preset?.trusted === true;
    this.hidden = this.preset?.hidden === true;
    this.realm = realm;
    this.state = 'established';
    this.joinedAt = Date.now();
    const who = {
      realm: realm.name,
      authid: this.authid,
      authrole: this.authrole,
      authmethod: this.authmethod,
      authprovider: this.authprovider,
      authextra: this.authextra,
    };
    const details = welcomeDetails(who, this.host.agent, compactWelcome(this.transport, this.peer.sendLimit), { eventHistory: realm.history !== undefined });
    if (this.peer.send({ type: MessageType.WELCOME, session: this.id, details }) !== true) {
      // Silence would leave the client waiting forever for a session that cannot work.
      this.state = 'hello';
      this.realm = undefined;
      this.host.stats.countClose('welcome_too_large');
      this.host.floodLog.warn('welcome_too_large', 'WELCOME does not fit the peer, session refused', {
        ...this.logFields(),
        limit: this.peer.sendLimit,
      });
      return this.abort(
        ErrorUri.payloadSizeExceeded,
        `WELCOME does not fit the ${this.peer.sendLimit ?? 'announced'}-byte maximum message length your transport announced`,
      );
    }
    this.outbound.countOut({ type: MessageType.WELCOME, session: this.id, details });
    this.host.sessionOpened(this);
    realm.join(this);
    // The router's own sessions (meta API, ops) would only be noise at info level.
    (this.hidden ? this.log.debug : this.log.info)('session joined', this.logFields());
  }

  private leaveRealm(): void {
    const realm = this.realm;
    if (!realm) return;
    this.realm = undefined;
    realm.leave(this);
    this.host.sessionClosed(this);
    (this.hidden ? this.log.debug : this.log.info)('session left', { session: this.id, realm: realm.name, authid: this.authid });
  }

  private closeQuietly(reason: string): void {
    this.state = 'closed';
    this.peer.close(reason);
  }

  private armHelloTimer(): void {
    clearTimeout(this.helloTimer);
    this.helloTimer = setTimeout(() => {
      if (this.state === 'hello' || this.state === 'authenticating' || this.state === 'closed') {
        this.host.stats.countClose('hello_timeout');
        this.host.floodLog.warn('hello_timeout', 'handshake timeout, connection closed', {
          peer: this.transport.peer,
          listener: this.transport.listener,
          limit: this.host.limits.helloTimeoutMs,
        });
        this.peer.close('handshake timeout');
      }
    }, this.host.limits.helloTimeoutMs);
    this.helloTimer.unref();
  }

  logFields(): Record<string, unknown> {
    return {
      session: this.id || undefined,
      realm: this.realm?.name,
      authid: this.authid || undefined,
      authrole: this.authrole || undefined,
      peer: this.transport.peer,
    };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : describeValue(err);
}

function isDictLike(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
