// The WAMP meta API of one realm (spec: "Session Meta API", "Subscription Meta API",
// "Registration Meta API", "Session Testament", and "Event History"'s
// wamp.subscription.get_events over the history port below) as a service session the composition root
// starts (startMetaApi): it registers the wamp.* procedures and publishes the wamp.* meta events
// from an ordinary in-process session, so every call to it goes through the same dealer and
// authorization as any client's. It reads realm state; it never changes broker or dealer state
// except by killing sessions the caller named. Not in core/: it is a client of the router.

import { WampClient, type InvocationHandler } from '../client/wamp-client';
import { WampError } from '../client/wamp-error';
import { ErrorUri } from '../protocol/error-uris';
import type { SessionId } from '../protocol/ids';
import type { Dict } from '../protocol/messages';
import { isReserved, isValidUri } from '../protocol/uri';
import { attachLocal } from '../transports/local';
import type { Logger } from '../util/logger';
import type { Subscription } from '../core/broker';
import type { Registration } from '../core/dealer';
import type { Action, HistoryAnswer, HistoryQuery, LocalIdentity } from '../core/ports';
import { readGetEventsArgs } from './get-events-args';
import type { Realm, RealmListener } from '../core/realm';
import type { Router } from '../core/router';
import type { Session } from '../core/session';

const identity: LocalIdentity = { authid: 'wampgate.meta', authrole: 'wampgate.meta', trusted: true, hidden: true };

/** The read side of the event history (history/event-history.ts implements it). */
export interface HistoryLookup {
  getEvents(
    realm: string,
    subscription: { id: number; uri: string; match: 'exact' | 'prefix' | 'wildcard' },
    query: HistoryQuery,
    reader: { authid: string; authrole: string; trusted: boolean },
  ): HistoryAnswer;
}

export interface MetaApiOptions {
  /** The event history, when the gateway keeps one. */
  history?: HistoryLookup;
}

export function sessionDetails(s: Session): Dict {
  return {
    session: s.id,
    authid: s.authid,
    authrole: s.authrole,
    authmethod: s.authmethod,
    authprovider: s.authprovider,
    transport: { type: s.transport.type, serializer: s.transport.serializer, peer: s.transport.peer, listener: s.transport.listener },
  };
}

function subscriptionDetails(sub: Subscription): Dict {
  return { id: sub.id, created: sub.created, uri: sub.uri, match: sub.match };
}
function registrationDetails(reg: Registration): Dict {
  return { id: reg.id, created: reg.created, uri: reg.uri, match: reg.match, invoke: reg.invoke };
}

function byMatch<T extends { id: number; match: string }>(items: T[]): Dict {
  const out: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
  for (const i of items) out[i.match]?.push(i.id);
  return out;
}

function intArg(args: unknown[], index: number, name: string): number {
  const v = args[index];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new WampError(ErrorUri.invalidArgument, [`argument ${name} must be an integer`]);
  return v;
}
function strArg(args: unknown[], index: number, name: string): string {
  const v = args[index];
  if (typeof v !== 'string') throw new WampError(ErrorUri.invalidArgument, [`argument ${name} must be a string`]);
  return v;
}
function scopeOf(kwargs: Dict): 'detached' | 'destroyed' {
  const scope = kwargs.scope ?? 'destroyed';
  if (scope !== 'detached' && scope !== 'destroyed') throw new WampError(ErrorUri.invalidArgument, ['scope must be "detached" or "destroyed"']);
  return scope;
}

export class MetaApi implements RealmListener {
  readonly ready: Promise<void>;
  private client: WampClient | undefined;
  private readonly log: Logger;

  constructor(
    private readonly router: Router,
    private readonly realm: Realm,
    private readonly options: MetaApiOptions = {},
  ) {
    this.log = router.logger.child('meta');
    realm.listeners.add(this);
    this.ready = this.start().catch((err: unknown) => {
      this.log.error('meta API failed to start', { realm: realm.name, error: String(err) });
    });
  }

  stop(): void {
    this.realm.listeners.delete(this);
  }

  private visible(): Session[] {
    return [...this.realm.sessions.values()].filter((s) => !s.hidden);
  }

  private caller(details: Dict): Session | undefined {
    return this.realm.sessions.get(details.caller as SessionId);
  }

  private target(id: number): Session {
    const s = this.realm.sessions.get(id as SessionId);
    if (!s || s.hidden) throw new WampError(ErrorUri.noSuchSession, [`no session ${id} in this realm`]);
    return s;
  }

  private async start(): Promise<void> {
    const peer = attachLocal(this.router, `meta:${this.realm.name}`, identity);
    const client = await WampClient.connect(peer, { realm: this.realm.name });
    this.client = client;
    // Once its session is gone (router shutdown) there is no one to publish meta events from.
    client.onClose(() => this.stop());
    const roleFilter = (args: unknown[]): ((s: Session) => boolean) => {
      const roles = args[0];
      if (roles === undefined || roles === null) return () => true;
      if (!Array.isArray(roles)) throw new WampError(ErrorUri.invalidArgument, ['authroles must be a list']);
      return (s) => roles.includes(s.authrole);
    };
    const kill = (victims: Session[], kwargs: Dict): number[] => {
      const reason = kwargs.reason ?? ErrorUri.killed;
      // spec "wamp.session.kill": a reason that is not a valid non-empty URI → wamp.error.invalid_uri
      if (typeof reason !== 'string' || !isValidUri(reason, 'loose')) throw new WampError(ErrorUri.invalidUri, ['reason must be a URI']);
      const message = typeof kwargs.message === 'string' ? kwargs.message : undefined;
      for (const v of victims) v.shutdown(reason, message);
      return victims.map((v) => v.id);
    };
    const notSelf = (details: Dict) => (s: Session) => s.id !== details.caller;

    const procedures: Record<string, InvocationHandler> = {
      // Session meta API
      'wamp.session.count': (args) => this.visible().filter(roleFilter(args)).length,
      'wamp.session.list': (args) =>
        this.visible()
          .filter(roleFilter(args))
          .map((s) => s.id),
      'wamp.session.get': (args) => sessionDetails(this.target(intArg(args, 0, 'session'))),
      'wamp.session.kill': (args, kwargs, details) => {
        const victim = this.target(intArg(args, 0, 'session'));
        if (victim.id === details.caller) throw new WampError(ErrorUri.noSuchSession, ['a session cannot kill itself; use GOODBYE']);
        kill([victim], kwargs);
        return undefined;
      },
      'wamp.session.kill_by_authid': (args, kwargs, details) => {
        const authid = strArg(args, 0, 'authid');
        return kill(
          this.visible()
            .filter((s) => s.authid === authid)
            .filter(notSelf(details)),
          kwargs,
        );
      },
      'wamp.session.kill_by_authrole': (args, kwargs, details) => {
        const authrole = strArg(args, 0, 'authrole');
        return kill(
          this.visible()
            .filter((s) => s.authrole === authrole)
            .filter(notSelf(details)),
          kwargs,
        ).length;
      },
      'wamp.session.kill_all': (_args, kwargs, details) => kill(this.visible().filter(notSelf(details)), kwargs).length,
      // Testament (spec: "Session Testament")
      'wamp.session.add_testament': async (args, kwargs, details) => {
        const s = this.caller(details);
        if (!s) throw new WampError(ErrorUri.noSuchSession, ['caller is gone']);
        const topic = strArg(args, 0, 'topic');
        const targs = args[1];
        const tkwargs = args[2];
        if (targs !== undefined && !Array.isArray(targs)) throw new WampError(ErrorUri.invalidArgument, ['args must be a list']);
        if (tkwargs !== undefined && (tkwargs === null || typeof tkwargs !== 'object' || Array.isArray(tkwargs)))
          throw new WampError(ErrorUri.invalidArgument, ['kwargs must be a dict']);
        const publishOptions = kwargs.publish_options ?? {};
        if (publishOptions === null || typeof publishOptions !== 'object' || Array.isArray(publishOptions))
          throw new WampError(ErrorUri.invalidArgument, ['publish_options must be a dict']);
        const { acknowledge: _ack, ...options } = publishOptions as Dict; // acknowledging a testament makes no sense
        const scope = scopeOf(kwargs);
        // Published later on the caller's behalf: the same URI rules and publish permission as a
        // PUBLISH from it, or a client could publish where it may not, or forge wamp.* meta events.
        if (!isValidUri(topic, this.realm.uriCheck) || isReserved(topic)) throw new WampError(ErrorUri.invalidUri, [`invalid testament topic "${topic}"`]);
        if (!(await this.mayPublish(s, topic, options))) throw new WampError(ErrorUri.notAuthorized, [`session is not authorized to publish "${topic}"`]);
        if (s.realm !== this.realm) throw new WampError(ErrorUri.noSuchSession, ['caller is gone']);
        const entry: { topic: string; options: Dict; args?: unknown[]; kwargs?: Dict } = { topic, options };
        if (Array.isArray(targs)) entry.args = targs;
        if (tkwargs) entry.kwargs = tkwargs as Dict;
        s.testaments[scope].push(entry);
        return undefined;
      },
      'wamp.session.flush_testaments': (_args, kwargs, details) => {
        const s = this.caller(details);
        if (!s) throw new WampError(ErrorUri.noSuchSession, ['caller is gone']);
        const scope = scopeOf(kwargs);
        const n = s.testaments[scope].length;
        s.testaments[scope] = [];
        return n;
      },
      // Subscription meta API
      'wamp.subscription.list': () => byMatch(this.realm.broker.list()),
      'wamp.subscription.lookup': (args) => this.realm.broker.lookup(strArg(args, 0, 'topic'), matchOption(args[1]))?.id ?? null,
      'wamp.subscription.match': (args) => {
        const ids = this.realm.broker.match(strArg(args, 0, 'topic')).map((s) => s.id);
        return ids.length > 0 ? ids : null;
      },
      'wamp.subscription.get': (args) => subscriptionDetails(this.subscription(intArg(args, 0, 'subscription'))),
      'wamp.subscription.list_subscribers': (args) =>
        [...this.subscription(intArg(args, 0, 'subscription')).subscribers].filter((s) => !s.hidden).map((s) => s.id),
      'wamp.subscription.count_subscribers': (args) => [...this.subscription(intArg(args, 0, 'subscription')).subscribers].filter((s) => !s.hidden).length,
      // Event History (spec "Event History"), with Crossbar.io's arguments and answers
      // (router/service.py subscription_get_events): (subscription_id, limit=10), newest first.
      'wamp.subscription.get_events': (args, kwargs, details) => this.getEvents(args, kwargs, details),
      // Registration meta API
      'wamp.registration.list': () => byMatch(this.realm.dealer.list().filter((r) => !r.callees.every((c) => c.hidden))),
      'wamp.registration.lookup': (args) => this.realm.dealer.lookup(strArg(args, 0, 'procedure'), matchOption(args[1]))?.id ?? null,
      'wamp.registration.match': (args) => this.realm.dealer.match(strArg(args, 0, 'procedure'))?.id ?? null,
      'wamp.registration.get': (args) => registrationDetails(this.registration(intArg(args, 0, 'registration'))),
      'wamp.registration.list_callees': (args) =>
        this.registration(intArg(args, 0, 'registration'))
          .callees.filter((s) => !s.hidden)
          .map((s) => s.id),
      'wamp.registration.count_callees': (args) => this.registration(intArg(args, 0, 'registration')).callees.filter((s) => !s.hidden).length,
    };
    await Promise.all(Object.entries(procedures).map(([uri, handler]) => client.register(uri, handler, { disclose_caller: true })));
  }

  private async getEvents(args: unknown[], kwargs: Dict, details: Dict): Promise<Dict[]> {
    const { subscription: id, query } = readGetEventsArgs(args, kwargs);
    const history = this.options.history;
    if (!history || !this.realm.history) throw new WampError(ErrorUri.historyUnavailable, ['event history is not enabled on this realm']);
    const sub = this.subscription(id);
    const s = this.caller(details);
    if (!s) throw new WampError(ErrorUri.noSuchSession, ['caller is gone']);
    // Crossbar.io's rule (docs "Event History", Required Client Permissions): the caller must be
    // allowed to call this procedure (checked by the dealer) and to subscribe to the subscription,
    // or reading the history would sidestep the subscribe permission. Holding it is not required.
    if (!(await this.mayDo(s, 'subscribe', sub.uri, { match: sub.match })))
      throw new WampError(ErrorUri.notAuthorized, [`session is not authorized to subscribe to "${sub.uri}" (${sub.match}), so not to read its history`]);
    const answer = history.getEvents(this.realm.name, { id: Number(sub.id), uri: sub.uri, match: sub.match }, query, {
      authid: s.authid,
      authrole: s.authrole,
      trusted: s.trusted,
    });
    if ('events' in answer) return answer.events;
    throw new WampError(answer.error === 'unavailable' ? ErrorUri.historyUnavailable : ErrorUri.invalidArgument, [answer.message]);
  }

  private mayPublish(s: Session, topic: string, options: Dict): Promise<boolean> {
    return this.mayDo(s, 'publish', topic, options);
  }

  private async mayDo(s: Session, action: Action, uri: string, options: Dict): Promise<boolean> {
    if (s.trusted) return true;
    try {
      return (await this.realm.authorizer.authorize(s.identity(), action, uri, options)).allow;
    } catch (err) {
      this.log.error('authorizer failed; denying', { error: String(err), action, uri });
      return false;
    }
  }

  private subscription(id: number): Subscription {
    const sub = this.realm.broker.get(id);
    if (!sub) throw new WampError(ErrorUri.noSuchSubscription, [`no subscription ${id}`]);
    return sub;
  }
  private registration(id: number): Registration {
    const reg = this.realm.dealer.get(id);
    if (!reg) throw new WampError(ErrorUri.noSuchRegistration, [`no registration ${id}`]);
    return reg;
  }

  /** Publishes a meta event only when someone listens: building it costs on every join. */
  private event(topic: string, args: unknown[]): void {
    const client = this.client;
    if (!client || client.closed || !this.realm.broker.hasSubscribers(topic)) return;
    client.publish(topic, args).catch(() => undefined);
  }

  onJoin(s: Session): void {
    if (!s.hidden) this.event('wamp.session.on_join', [sessionDetails(s)]);
  }
  onLeave(s: Session): void {
    if (!s.hidden) this.event('wamp.session.on_leave', [s.id, s.authid, s.authrole]);
  }
  onSubscriptionCreate(s: Session, sub: Subscription): void {
    if (!s.hidden) this.event('wamp.subscription.on_create', [s.id, subscriptionDetails(sub)]);
  }
  onSubscribe(s: Session, sub: Subscription): void {
    if (!s.hidden) this.event('wamp.subscription.on_subscribe', [s.id, sub.id]);
  }
  onUnsubscribe(s: Session, sub: Subscription): void {
    if (!s.hidden) this.event('wamp.subscription.on_unsubscribe', [s.id, sub.id]);
  }
  onSubscriptionDelete(s: Session, sub: Subscription): void {
    if (!s.hidden) this.event('wamp.subscription.on_delete', [s.id, sub.id]);
  }
  onRegistrationCreate(s: Session, reg: Registration): void {
    if (!s.hidden) this.event('wamp.registration.on_create', [s.id, registrationDetails(reg)]);
  }
  onRegister(s: Session, reg: Registration): void {
    if (!s.hidden) this.event('wamp.registration.on_register', [s.id, reg.id]);
  }
  onUnregister(s: Session, reg: Registration): void {
    if (!s.hidden) this.event('wamp.registration.on_unregister', [s.id, reg.id]);
  }
  onRegistrationDelete(s: Session, reg: Registration): void {
    if (!s.hidden) this.event('wamp.registration.on_delete', [s.id, reg.id]);
  }
}

function matchOption(options: unknown): 'exact' | 'prefix' | 'wildcard' {
  if (options && typeof options === 'object' && !Array.isArray(options)) {
    const m = (options as Dict).match;
    if (m === 'prefix' || m === 'wildcard') return m;
  }
  return 'exact';
}

/** The meta API of every realm of a router: started together, and per realm as live reload
 * adds or replaces realms. */
export interface MetaApis {
  /** Resolves once every realm's meta API has registered its procedures. */
  readonly ready: Promise<void>;
  /** Starts the meta API on a realm added after the start; resolves once it is registered. */
  add(realm: Realm): Promise<void>;
  /** Stops publishing meta events (before the router closes, so shutdown sends none). */
  stop(): void;
}

/** Starts the meta API on every realm `router` has now (the composition root, tests, embedding).
 * `options` is read live: the history a reload opens is seen by every realm's meta API. */
export function startMetaApi(router: Router, options: MetaApiOptions = {}): MetaApis {
  const apis = new Set([...router.realms.values()].map((realm) => new MetaApi(router, realm, options)));
  return {
    ready: Promise.all([...apis].map((m) => m.ready)).then(() => undefined),
    add: (realm) => {
      const m = new MetaApi(router, realm, options);
      apis.add(m);
      return m.ready;
    },
    stop: () => {
      for (const m of apis) m.stop();
    },
  };
}
