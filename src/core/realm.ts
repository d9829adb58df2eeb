// A realm: its sessions, its broker and dealer, URI checks and the authorization step before
// every action. `dispatch` is the one switch every established session's message goes through.
// Realms share nothing: no message, subscription or registration ever crosses one.

import { ErrorUri } from '../protocol/error-uris';
import type { SessionId } from '../protocol/ids';
import { MessageType } from '../protocol/message-types';
import type { ClientToRouter, Dict } from '../protocol/messages';
import { isReserved, isValidPattern, isValidUri, parseMatch, type MatchPolicy, type UriCheck } from '../protocol/uri';
import { describeValue, RateLimitedLog, type Logger } from '../util/logger';
import { Broker, refuse, type Subscription } from './broker';
import { Dealer, type Registration } from './dealer';
import { defaultRealmLimits, type RealmLimits, type SessionLimits } from './limits';
import { allowAll, type AcceptedPublication, type Action, type Authorizer, type Decision, type EventHistory } from './ports';
import type { Session, Testament } from './session';

/** Realm lifecycle events, used by the meta API (and metrics). All methods optional. */
export interface RealmListener {
  onJoin?(session: Session): void;
  onLeave?(session: Session): void;
  onSubscriptionCreate?(session: Session, sub: Subscription): void;
  onSubscribe?(session: Session, sub: Subscription): void;
  onUnsubscribe?(session: Session, sub: Subscription): void;
  onSubscriptionDelete?(session: Session, sub: Subscription): void;
  onRegistrationCreate?(session: Session, reg: Registration): void;
  onRegister?(session: Session, reg: Registration): void;
  onUnregister?(session: Session, reg: Registration): void;
  onRegistrationDelete?(session: Session, reg: Registration): void;
}

export interface RealmOptions {
  name: string;
  uriCheck?: UriCheck;
  authorizer?: Authorizer;
  limits?: Partial<RealmLimits>;
  /** This realm's event history; absent = none, and `event_history` is not announced. */
  history?: EventHistory;
}

export class Realm {
  readonly name: string;
  readonly uriCheck: UriCheck;
  /** session id -> session: every session joined to this realm, for routing by id and the meta API. */
  readonly sessions = new Map<SessionId, Session>();
  readonly broker: Broker;
  readonly dealer: Dealer;
  readonly listeners = new Set<RealmListener>();
  authorizer: Authorizer;
  /** Replaced by live reload like the authorizer: sessions that join later see the new one. */
  history: EventHistory | undefined;
  private readonly log: Logger;
  /** A client can repeat a denied action at will; its log lines are rate-limited. */
  private readonly deniedLog: RateLimitedLog;

  constructor(options: RealmOptions, sessionLimits: SessionLimits, logger: Logger) {
    this.name = options.name;
    this.uriCheck = options.uriCheck ?? 'loose';
    this.authorizer = options.authorizer ?? allowAll;
    this.history = options.history;
    this.log = logger.child('realm');
    this.deniedLog = new RateLimitedLog(this.log);
    const limits = { ...defaultRealmLimits, ...options.limits };
    this.broker = new Broker(this, limits, sessionLimits);
    this.dealer = new Dealer(this, sessionLimits, logger);
  }

  join(session: Session): void {
    this.sessions.set(session.id, session);
    this.emit('onJoin', session);
  }

  leave(session: Session): void {
    if (!this.sessions.delete(session.id)) return;
    this.broker.removeSession(session);
    this.dealer.removeSession(session);
    // spec "Session Testament": detached-scope testaments before destroyed-scope ones.
    this.publishTestaments(session.testaments.detached);
    this.publishTestaments(session.testaments.destroyed);
    session.testaments.detached = [];
    session.testaments.destroyed = [];
    this.emit('onLeave', session);
  }

  /** Emits a lifecycle event to listeners; a failing listener never breaks routing. */
  emit<K extends keyof RealmListener>(event: K, ...args: Parameters<NonNullable<RealmListener[K]>>): void {
    for (const l of this.listeners) {
      const fn = l[event] as ((...a: unknown[]) => void) | undefined;
      if (!fn) continue;
      try {
        fn.apply(l, args);
      } catch (err) {
        this.log.error('realm listener failed', { event, error: String(err) });
      }
    }
  }

  /** Hands an accepted publication to the event history; a failing history never breaks routing. */
  recordHistory(publication: AcceptedPublication): void {
    try {
      this.history?.record(publication);
    } catch (err) {
      this.log.error('event history failed to record a publication', { topic: publication.topic, error: String(err) });
    }
  }

  dispatch(session: Session, msg: ClientToRouter): Promise<void> | void {
    switch (msg.type) {
      case MessageType.PUBLISH: {
        const match = this.checkUri(session, msg.type, msg.request, msg.options, msg.topic, 'exact', 'publish');
        if (!match) return;
        return this.withPermission(session, msg.type, msg.request, 'publish', msg.topic, msg.options, (d) =>
          this.broker.publish(session, msg, d.disclose === true),
        );
      }
      case MessageType.SUBSCRIBE: {
        const match = this.checkUri(session, msg.type, msg.request, msg.options, msg.topic, msg.options.match, 'subscribe');
        if (!match) return;
        return this.withPermission(session, msg.type, msg.request, 'subscribe', msg.topic, msg.options, () => this.broker.subscribe(session, msg, match));
      }
      case MessageType.UNSUBSCRIBE:
        return this.broker.unsubscribe(session, msg);
      case MessageType.CALL: {
        const match = this.checkUri(session, msg.type, msg.request, msg.options, msg.procedure, 'exact', 'call');
        if (!match) return;
        return this.withPermission(session, msg.type, msg.request, 'call', msg.procedure, msg.options, (d) =>
          this.dealer.call(session, msg, d.disclose === true),
        );
      }
      case MessageType.REGISTER: {
        const match = this.checkUri(session, msg.type, msg.request, msg.options, msg.procedure, msg.options.match, 'register');
        if (!match) return;
        return this.withPermission(session, msg.type, msg.request, 'register', msg.procedure, msg.options, () => this.dealer.register(session, msg, match));
      }
      case MessageType.UNREGISTER:
        return this.dealer.unregister(session, msg);
      case MessageType.CANCEL:
        return this.dealer.cancel(session, msg);
      case MessageType.YIELD:
        return this.dealer.yield(session, msg);
      case MessageType.ERROR:
        if (msg.requestType !== MessageType.INVOCATION) {
          return session.abort(ErrorUri.protocolViolation, `ERROR for request type ${msg.requestType} is not allowed from a client`);
        }
        return this.dealer.error(session, msg);
      case MessageType.HELLO:
      case MessageType.AUTHENTICATE:
      case MessageType.GOODBYE:
      case MessageType.ABORT:
        // The session handles these before dispatch; reaching here is a bug.
        throw new Error(`realm.dispatch got session-level message ${msg.type}`);
    }
  }

  /** Validates a URI (or pattern) for an action; answers ERROR invalid_uri and returns
   * undefined when it is not acceptable. `wamp.` is the router's own namespace. */
  private checkUri(session: Session, type: number, request: number, options: Dict, uri: string, rawMatch: unknown, action: Action): MatchPolicy | undefined {
    const match = parseMatch(rawMatch);
    if (!match) {
      refuse(session, type, request, options, ErrorUri.invalidArgument, [`unknown match policy ${describeValue(rawMatch)}`]);
      return undefined;
    }
    const valid = match === 'exact' ? isValidUri(uri, this.uriCheck) : isValidPattern(uri, match, this.uriCheck);
    if (!valid) {
      refuse(session, type, request, options, ErrorUri.invalidUri, [`invalid ${match === 'exact' ? 'URI' : match + ' pattern'} ${describeValue(uri)}`]);
      return undefined;
    }
    if ((action === 'publish' || action === 'register') && isReserved(uri) && !session.trusted) {
      refuse(session, type, request, options, ErrorUri.invalidUri, [`${describeValue(uri)} is in the router's reserved wamp. namespace`]);
      return undefined;
    }
    return match;
  }

  /** Asks the authorizer; synchronous answers route at once, a promise holds the session. */
  private withPermission(
    session: Session,
    type: number,
    request: number,
    action: Action,
    uri: string,
    options: Dict,
    then: (d: Decision) => void,
  ): Promise<void> | void {
    if (session.trusted) return then({ allow: true, disclose: true });
    let decision: Decision | Promise<Decision>;
    try {
      decision = this.authorizer.authorize(session.identity(), action, uri, options);
    } catch (err) {
      this.log.error('authorizer failed; denying', { error: String(err), action, uri });
      decision = { allow: false };
    }
    const apply = (d: Decision): void => {
      if (!session.established || session.realm !== this) return;
      if (d.allow) return then(d);
      this.deniedLog.warn('not_authorized', 'not authorized', { session: session.id, authid: session.authid, authrole: session.authrole, action, uri });
      refuse(session, type, request, options, ErrorUri.notAuthorized, [`session is not authorized to ${action} ${describeValue(uri)}`]);
    };
    if (decision instanceof Promise) {
      return decision.then(apply, (err: unknown) => {
        this.log.error('authorizer failed; denying', { error: String(err), action, uri });
        apply({ allow: false });
      });
    }
    apply(decision);
  }

  private publishTestaments(list: Testament[]): void {
    for (const t of list) {
      try {
        this.broker.publishInternal(t.topic, t.args, t.kwargs, t.options);
      } catch (err) {
        this.log.error('testament publish failed', { topic: t.topic, error: String(err) });
      }
    }
  }

  /** Closes every session of this realm (router shutdown). */
  shutdown(reason: string): void {
    for (const s of [...this.sessions.values()]) s.shutdown(reason);
  }
}
