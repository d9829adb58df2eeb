// One WAMP session on one Peer: the handshake state machine (HELLO → [CHALLENGE/AUTHENTICATE]
// → WELCOME → … → GOODBYE/ABORT), protocol-violation handling, the outbound queue policy, and
// in-order inbound processing when authorization awaits. Routing itself belongs to Realm.

import { ErrorUri } from '../protocol/error-uris';
import { randomId, SequentialIds, type RequestId, type SessionId } from '../protocol/ids';
import { MessageType } from '../protocol/message-types';
import type { Dict, Message, ClientToRouter } from '../protocol/messages';
import { isClientToRouter } from '../protocol/messages';
import type { Peer, PeerListener, TransportInfo } from '../protocol/peer';
import { isValidUri } from '../protocol/uri';
import { describeValue, type Logger, type RateLimitedLog } from '../util/logger';
import { clientSupports, routerRoles } from './features';
import type { SessionLimits } from './limits';
import type { AuthResult, HelloOutcome, LocalIdentity, SessionIdentity } from './ports';
import type { Realm } from './realm';
import type { RouterStats } from './stats';

/** `too-large`: the message cannot cross this session's transport (see Peer.send).
 * `not-representable`: its payload has no exact form in this session's serializer; the words
 * for the sender's ERROR are in `Session.lastRefusal`. */
export type SendResult = 'sent' | 'queued' | 'dropped' | 'closed' | 'too-large' | 'not-representable';
type State = 'hello' | 'authenticating' | 'established' | 'closing' | 'closed';

/** What a session needs from the router; keeps session.ts free of Router's details. */
export interface SessionHost {
  readonly logger: Logger;
  /** For events an outsider can repeat at will (timeouts, violations, denials): rate-limited. */
  readonly floodLog: RateLimitedLog;
  readonly limits: SessionLimits;
  readonly stats: RouterStats;
  readonly agent: string;
  findRealm(name: string): Realm | undefined;
  authenticate(transport: TransportInfo, realm: string, details: Dict, session: number): HelloOutcome | Promise<HelloOutcome>;
  sessionOpened(session: Session): void;
  sessionClosed(session: Session): void;
  authFailed(transport: TransportInfo, authid: unknown): void;
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
  messagesOut = 0;
  eventsDropped = 0;
  joinedAt = 0;
  /** Why the last send returned `not-representable` (read right after the send: routing is synchronous). */
  lastRefusal = '';
  /** One WARN per session for undeliverable EVENTs; the counters keep counting every one. */
  private warnedUnrepresentableEvent = false;
  private warnedUnrepresentableCall = false;

  private state: State = 'hello';
  private helloTimer: NodeJS.Timeout | undefined;
  private goodbyeTimer: NodeJS.Timeout | undefined;
  /** Inbound messages held while an awaited step (auth, dynamic authorization) runs. */
  private held: Message[] = [];
  private busy = false;
  private readonly log: Logger;
  private featureCache = new Map<string, boolean>();

  constructor(
    readonly peer: Peer,
    private readonly host: SessionHost,
    private readonly preset?: LocalIdentity,
  ) {
    this.transport = peer.transport;
    this.log = host.logger.child('session');
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

  // ---- outbound -------------------------------------------------------------------------

  /** Sends any message. Never throws. RESULT, INVOCATION etc. are never dropped: beyond the
   * hard limit the connection is closed instead (bounded memory, nothing silently lost). */
  send(msg: Message): SendResult {
    if (this.peer.closed) return 'closed';
    if (this.peer.bufferedBytes() > this.host.limits.hardQueueBytes) {
      this.host.floodLog.warn('slow_consumer', 'outbound queue over hard limit, closing', {
        ...this.logFields(),
        bytes: this.peer.bufferedBytes(),
        limit: this.host.limits.hardQueueBytes,
      });
      this.host.stats.slowConsumersDisconnected++;
      this.host.stats.countClose('slow_consumer');
      this.peer.close('outbound queue over hard limit');
      return 'closed';
    }
    const sent = this.peer.send(msg);
    if (sent !== true) {
      if (sent === false) {
        this.host.stats.messagesTooLarge++;
        return 'too-large';
      }
      this.lastRefusal = sent.message;
      this.host.stats.countUnrepresentable(msg.type);
      // The caller gets ERROR wamp.error.invalid_payload; the log says it once per session.
      if (!this.warnedUnrepresentableCall) {
        this.warnedUnrepresentableCall = true;
        this.log.warn(
          'message not delivered: its payload cannot be represented for this session (the caller got wamp.error.invalid_payload; further ones only counted)',
          {
            ...this.logFields(),
            serializer: this.transport.serializer,
            type: msg.type,
            reason: sent.message,
          },
        );
      }
      return 'not-representable';
    }
    this.countOut(msg);
    return this.peer.bufferedBytes() > 0 ? 'queued' : 'sent';
  }

  /** Sends an EVENT, applying the slow-consumer policy (DESIGN §3). */
  sendEvent(msg: Message): SendResult {
    if (this.peer.closed) return 'closed';
    if (this.peer.bufferedBytes() > this.host.limits.maxQueueBytes) {
      if (this.host.limits.slowConsumerPolicy === 'disconnect') {
        this.host.floodLog.warn('slow_consumer', 'slow consumer disconnected', {
          ...this.logFields(),
          bytes: this.peer.bufferedBytes(),
          limit: this.host.limits.maxQueueBytes,
        });
        this.host.stats.slowConsumersDisconnected++;
        this.host.stats.countClose('slow_consumer');
        this.peer.close('slow consumer');
        return 'closed';
      }
      this.eventsDropped++;
      this.host.stats.eventsDroppedSlowConsumer++;
      return 'dropped';
    }
    const sent = this.peer.send(msg);
    if (sent !== true) {
      this.eventsDropped++;
      if (sent === false) {
        this.host.stats.messagesTooLarge++;
        return 'dropped';
      }
      // No ERROR can reach a publisher for one subscriber's EVENT (the publication succeeded
      // for the others): counted by reason, and said once per session at WARN.
      this.host.stats.countUnrepresentable(msg.type);
      if (!this.warnedUnrepresentableEvent) {
        this.warnedUnrepresentableEvent = true;
        this.log.warn('event dropped: its payload cannot be represented for this subscriber (further ones only counted)', {
          ...this.logFields(),
          serializer: this.transport.serializer,
          subscription: (msg as { subscription?: number }).subscription,
          reason: sent.message,
        });
      }
      return 'dropped';
    }
    this.countOut(msg);
    return 'sent';
  }

  sendError(requestType: number, request: RequestId, error: string, args?: unknown[], kwargs?: Dict, details: Dict = {}): void {
    const msg: Message = { type: MessageType.ERROR, requestType, request, details, error };
    if (args !== undefined) msg.args = args;
    if (kwargs !== undefined) msg.kwargs = kwargs;
    this.send(msg);
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

  onMessage(msg: Message): void {
    this.messagesIn++;
    this.host.stats.countIn(msg.type);
    if (this.nextAuthenticate) {
      const next = this.nextAuthenticate;
      this.nextAuthenticate = undefined;
      if (msg.type === MessageType.AUTHENTICATE) return next(msg);
      if (msg.type === MessageType.ABORT) this.closeQuietly('client aborted');
      else this.abort(ErrorUri.protocolViolation, `expected AUTHENTICATE, got message type ${msg.type}`);
      this.releaseAuthWait();
      return;
    }
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
    this.nextAuthenticate = undefined;
    this.releaseAuthWait();
    this.host.connectionClosed(this);
  }

  private releaseAuthWait(): void {
    const done = this.authWaitDone;
    this.authWaitDone = undefined;
    done?.();
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
    let outcome: HelloOutcome | Promise<HelloOutcome>;
    try {
      // The ID is drawn now so a challenge can name the session WELCOME will announce.
      this.id = randomId() as SessionId;
      outcome = this.host.authenticate(this.transport, realmName, details, this.id);
    } catch (err) {
      this.log.error('authenticator failed', { ...this.logFields(), error: String(err) });
      return this.abort(ErrorUri.authenticationFailed, 'authentication failed');
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (o) => this.afterHello(realmName, details, o),
        (err: unknown) => {
          this.log.error('authenticator failed', { ...this.logFields(), error: String(err) });
          this.abort(ErrorUri.authenticationFailed, 'authentication failed');
        },
      );
    }
    return this.afterHello(realmName, details, outcome);
  }

  private afterHello(realmName: string, details: Dict, outcome: HelloOutcome): Promise<void> | void {
    if (this.peer.closed) return;
    if (outcome.kind !== 'challenge') return this.finishAuth(realmName, details, outcome);
    this.send({ type: MessageType.CHALLENGE, authmethod: outcome.authmethod, extra: outcome.extra });
    // The AUTHENTICATE must be the very next message; wait for it inside this held step so
    // nothing else can slip in between.
    return new Promise<void>((resolve) => {
      this.nextAuthenticate = (msg) => {
        let result: AuthResult | Promise<AuthResult>;
        try {
          result = outcome.verify(msg.signature, msg.extra);
        } catch (err) {
          this.log.error('authenticator failed', { ...this.logFields(), error: String(err) });
          result = { kind: 'deny', reason: ErrorUri.authenticationFailed, message: 'authentication failed' };
        }
        Promise.resolve(result)
          .then(
            (r) => this.finishAuth(realmName, details, r),
            (err: unknown) => {
              // A verifier that rejects (a dynamic authenticator whose call failed) denies.
              this.log.error('authenticator failed', { ...this.logFields(), error: String(err) });
              this.abort(ErrorUri.authenticationFailed, 'authentication failed');
            },
          )
          .catch((err: unknown) => {
            this.host.stats.internalErrors++;
            this.log.error('internal error finishing authentication', { ...this.logFields(), error: String(err) });
          })
          .finally(() => this.releaseAuthWait());
      };
      this.authWaitDone = resolve;
    });
  }

  /** Set while a CHALLENGE is outstanding; see onMessage override below. */
  private nextAuthenticate: ((msg: { signature: string; extra: Dict }) => void) | undefined;
  private authWaitDone: (() => void) | undefined;

  private finishAuth(realmName: string, details: Dict, result: AuthResult): void {
    if (this.peer.closed) return;
    if (result.kind === 'deny') {
      this.host.authFailed(this.transport, details.authid);
      // A blocked address was logged once when its block began, not on every attempt.
      if (!result.logged)
        this.host.floodLog.warn('authentication_denied', 'authentication denied', {
          peer: this.transport.peer,
          listener: this.transport.listener,
          realm: realmName,
          authid: details.authid,
          authmethods: details.authmethods,
          reason: result.reason,
        });
      return this.abort(result.reason, result.message);
    }
    this.welcome(result.realm ?? realmName, result);
  }

  private welcome(realmName: string, accept: Extract<AuthResult, { kind: 'accept' }>): void {
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
    // A serial device or a RawSocket peer announcing the spec's minimum (512 bytes) has a
    // receive buffer of a few hundred bytes; the full feature list alone is ~450 bytes of CBOR.
    // Their roles stay announced, the features are all available.
    const compact = this.transport.type === 'serial' || (this.peer.sendLimit ?? Infinity) < COMPACT_WELCOME_BELOW;
    const welcomeDetails: Dict = {
      realm: realm.name,
      authid: this.authid,
      authrole: this.authrole,
      authmethod: this.authmethod,
      authprovider: this.authprovider,
      roles: compact ? { broker: {}, dealer: {} } : routerRoles({ eventHistory: realm.history !== undefined }),
      agent: this.host.agent,
    };
    if (this.authextra) welcomeDetails.authextra = this.authextra;
    if (this.peer.send({ type: MessageType.WELCOME, session: this.id, details: welcomeDetails }) !== true) {
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
    this.countOut({ type: MessageType.WELCOME, session: this.id, details: welcomeDetails });
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

  private countOut(msg: Message): void {
    this.messagesOut++;
    this.host.stats.countOut(msg.type);
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

/** Below this announced limit the WELCOME leaves out the feature list (see welcome()). */
const COMPACT_WELCOME_BELOW = 4096;

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : describeValue(err);
}

function isDictLike(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
