// The broker of one realm (spec: "Publish and Subscribe" and the Advanced Profile's pub/sub
// features): subscriptions in a URI index, event fan-out with exclusion and black/white lists,
// publisher disclosure, retained events, and the hand-over of accepted publications to the event
// history port (core/ports.ts). Synchronous: a publish is one atomic step.

import { ErrorUri } from '../protocol/error-uris';
import { randomId, SequentialIds, type PublicationId, type SubscriptionId } from '../protocol/ids';
import { MessageType } from '../protocol/message-types';
import { getEncoded, setEncoded, type Dict, type Event, type Payload, type Publish, type Subscribe, type Unsubscribe } from '../protocol/messages';
import type { MatchPolicy } from '../protocol/uri';
import type { RealmLimits, SessionLimits } from './limits';
import { copyPassthru, copyPayload } from './payload-passthru';
import type { Realm } from './realm';
import type { Session } from './session';
import { UriIndex } from './uri-index';

export interface Subscription {
  id: SubscriptionId;
  uri: string;
  match: MatchPolicy;
  created: string;
  /** Insertion-ordered so fan-out order is stable. */
  subscribers: Set<Session>;
}

/** Who may receive a publication (spec: "Subscriber Black- and Whitelisting"). */
interface Eligibility {
  excludeMe: boolean;
  publisher: number;
  exclude?: Set<unknown>;
  excludeAuthid?: Set<unknown>;
  excludeAuthrole?: Set<unknown>;
  eligible?: Set<unknown>;
  eligibleAuthid?: Set<unknown>;
  eligibleAuthrole?: Set<unknown>;
}

interface RetainedEvent {
  topic: string;
  eligibility: Eligibility;
  publication: PublicationId;
  details: Dict;
  payload: Payload;
}

export class Broker {
  /** pattern -> subscription: one subscription per (uri, match), shared by its subscribers. */
  private readonly index = new UriIndex<Subscription>();
  /** subscription id -> subscription: UNSUBSCRIBE and the meta API look up by id. */
  private readonly byId = new Map<SubscriptionId, Subscription>();
  /** session -> its subscriptions: cleanup when the session leaves, per-session limits. */
  private readonly bySession = new Map<Session, Set<Subscription>>();
  /** topic -> last retained event: Map order doubles as least-recently-published order. */
  private readonly retained = new Map<string, RetainedEvent>();
  private readonly subscriptionIds = new SequentialIds();

  constructor(
    private readonly realm: Realm,
    private readonly limits: RealmLimits,
    private readonly sessionLimits: SessionLimits,
  ) {}

  subscribe(session: Session, msg: Subscribe, match: MatchPolicy): void {
    let sub = this.index.get(msg.topic, match);
    const mine = this.bySession.get(session);
    if (sub && sub.subscribers.has(session)) {
      session.send({ type: MessageType.SUBSCRIBED, request: msg.request, subscription: sub.id });
      return;
    }
    if ((mine?.size ?? 0) + this.realm.dealer.registrationCount(session) >= this.sessionLimits.maxSubscriptionsPerSession) {
      session.sendError(msg.type, msg.request, ErrorUri.limitExceeded, [
        `at most ${this.sessionLimits.maxSubscriptionsPerSession} subscriptions and registrations per session`,
      ]);
      return;
    }
    const created = !sub;
    if (!sub) {
      sub = { id: this.subscriptionIds.next() as SubscriptionId, uri: msg.topic, match, created: new Date().toISOString(), subscribers: new Set() };
      this.index.set(msg.topic, match, sub);
      this.byId.set(sub.id, sub);
    }
    sub.subscribers.add(session);
    if (mine) mine.add(sub);
    else this.bySession.set(session, new Set([sub]));
    session.send({ type: MessageType.SUBSCRIBED, request: msg.request, subscription: sub.id });
    if (created) this.realm.emit('onSubscriptionCreate', session, sub);
    this.realm.emit('onSubscribe', session, sub);
    if (msg.options.get_retained === true) this.sendRetained(session, sub);
  }

  unsubscribe(session: Session, msg: Unsubscribe): void {
    const sub = this.byId.get(msg.subscription);
    if (!sub || !sub.subscribers.has(session)) {
      session.sendError(msg.type, msg.request, ErrorUri.noSuchSubscription);
      return;
    }
    this.detach(session, sub);
    this.bySession.get(session)?.delete(sub);
    session.send({ type: MessageType.UNSUBSCRIBED, request: msg.request });
  }

  publish(session: Session, msg: Publish, discloseByRole: boolean): void {
    const options = msg.options;
    const eligibility = parseEligibility(options, session.id);
    if (typeof eligibility === 'string') {
      refuse(session, msg.type, msg.request, options, ErrorUri.invalidArgument, [eligibility]);
      return;
    }
    const publication = randomId() as PublicationId;
    const baseDetails: Dict = {};
    if (options.disclose_me === true || discloseByRole) {
      baseDetails.publisher = session.id;
      baseDetails.publisher_authid = session.authid;
      baseDetails.publisher_authrole = session.authrole;
    }
    copyPassthru(options, baseDetails);
    this.fanOut(msg.topic, publication, baseDetails, eligibility, msg);
    if (this.realm.history?.records(msg.topic) === true) {
      this.realm.recordHistory({
        topic: msg.topic,
        publication,
        publisher: { session: session.id, authid: session.authid, authrole: session.authrole },
        options,
        payload: msg,
      });
    }
    if (options.retain === true) this.retain({ topic: msg.topic, eligibility, publication, details: baseDetails, payload: retainedPayload(msg) });
    if (options.acknowledge === true) session.send({ type: MessageType.PUBLISHED, request: msg.request, publication });
  }

  /** Publishes on behalf of the router (testaments, meta events): no publisher to exclude. */
  publishInternal(topic: string, args: unknown[] | undefined, kwargs: Dict | undefined, options: Dict = {}): void {
    const eligibility = parseEligibility({ ...options, exclude_me: false }, 0);
    if (typeof eligibility === 'string') throw new Error(eligibility);
    const publication = randomId() as PublicationId;
    const details: Dict = {};
    const payload: Payload = {};
    if (args !== undefined) payload.args = args;
    if (kwargs !== undefined) payload.kwargs = kwargs;
    this.fanOut(topic, publication, details, eligibility, payload);
    if (this.realm.history?.records(topic) === true) this.realm.recordHistory({ topic, publication, options, payload });
    if (options.retain === true) this.retain({ topic, eligibility, publication, details, payload });
  }

  /** True when a publish to `topic` would reach anyone: lets the meta API skip building events. */
  hasSubscribers(topic: string): boolean {
    for (const sub of this.index.matchAll(topic)) if (sub.subscribers.size > 0) return true;
    return false;
  }

  private fanOut(topic: string, publication: PublicationId, baseDetails: Dict, eligibility: Eligibility, payload: Payload): void {
    const subs = this.index.matchAll(topic);
    for (const sub of subs) {
      // One EVENT object per subscription: every subscriber gets the same bytes, so each
      // serializer encodes it once (see transports/serialized-peer.ts).
      const details = sub.match === 'exact' ? baseDetails : { ...baseDetails, topic };
      const event: Event = { type: MessageType.EVENT, subscription: sub.id, publication, details };
      copyPayload(payload, event);
      for (const subscriber of sub.subscribers) {
        if (isEligible(subscriber, eligibility)) subscriber.sendEvent(event);
      }
    }
  }

  private retain(event: RetainedEvent): void {
    this.retained.delete(event.topic);
    this.retained.set(event.topic, event);
    if (this.retained.size > this.limits.maxRetainedTopics) {
      const oldest = this.retained.keys().next();
      if (!oldest.done) this.retained.delete(oldest.value);
    }
  }

  private sendRetained(session: Session, sub: Subscription): void {
    const candidates: RetainedEvent[] = [];
    if (sub.match === 'exact') {
      const r = this.retained.get(sub.uri);
      if (r) candidates.push(r);
    } else {
      const probe = new UriIndex<true>();
      probe.set(sub.uri, sub.match, true);
      for (const r of this.retained.values()) if (probe.matchAll(r.topic).length > 0) candidates.push(r);
    }
    for (const r of candidates) {
      // spec: never send a retained event the subscriber would not have been eligible for.
      if (!isEligible(session, r.eligibility)) continue;
      const details: Dict = { ...r.details, retained: true };
      if (sub.match !== 'exact') details.topic = r.topic;
      const event: Event = { type: MessageType.EVENT, subscription: sub.id, publication: r.publication, details };
      copyPayload(r.payload, event);
      session.sendEvent(event);
    }
  }

  private detach(session: Session, sub: Subscription): void {
    sub.subscribers.delete(session);
    this.realm.emit('onUnsubscribe', session, sub);
    if (sub.subscribers.size === 0) {
      this.index.delete(sub.uri, sub.match);
      this.byId.delete(sub.id);
      this.realm.emit('onSubscriptionDelete', session, sub);
    }
  }

  removeSession(session: Session): void {
    const mine = this.bySession.get(session);
    if (!mine) return;
    this.bySession.delete(session);
    for (const sub of mine) this.detach(session, sub);
  }

  // ---- read-only views for the subscription meta API ------------------------------------

  subscriptionCount(session: Session): number {
    return this.bySession.get(session)?.size ?? 0;
  }
  get(id: number): Subscription | undefined {
    return this.byId.get(id as SubscriptionId);
  }
  list(): Subscription[] {
    return [...this.byId.values()];
  }
  lookup(uri: string, match: MatchPolicy): Subscription | undefined {
    return this.index.get(uri, match);
  }
  match(topic: string): Subscription[] {
    return this.index.matchAll(topic);
  }
}

/** The payload a retained event keeps: its encoded bytes copied out of the transport's read
 * buffer, which may be a larger chunk that would otherwise stay alive with it. */
function retainedPayload(msg: Payload): Payload {
  const out: Payload = {};
  copyPayload(msg, out);
  const encoded = getEncoded(out);
  if (encoded) setEncoded(out, { serializer: encoded.serializer, bytes: Buffer.from(encoded.bytes), count: encoded.count });
  return out;
}

/** Answers a refused request with ERROR, except an unacknowledged PUBLISH: the spec ("Publish
 * ERROR") answers a publication only when PUBLISH.Options.acknowledge is true, and a client
 * may treat an ERROR for a request it does not track as a protocol error. */
export function refuse(session: Session, type: number, request: number, options: Dict, error: string, args?: unknown[]): void {
  if (type === MessageType.PUBLISH && options.acknowledge !== true) return;
  session.sendError(type, request as never, error, args);
}

function idSet(v: unknown, kind: 'number' | 'string'): Set<unknown> | string | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== kind)) return `must be a list of ${kind}s`;
  return new Set(v);
}

/** Parses the black/white-list options; returns an error text for malformed ones. */
function parseEligibility(options: Dict, publisher: number): Eligibility | string {
  const e: Eligibility = { excludeMe: options.exclude_me !== false, publisher };
  const fields = [
    ['exclude', 'exclude', 'number'],
    ['exclude_authid', 'excludeAuthid', 'string'],
    ['exclude_authrole', 'excludeAuthrole', 'string'],
    ['eligible', 'eligible', 'number'],
    ['eligible_authid', 'eligibleAuthid', 'string'],
    ['eligible_authrole', 'eligibleAuthrole', 'string'],
  ] as const;
  for (const [option, key, kind] of fields) {
    if (options[option] === undefined) continue;
    const set = idSet(options[option], kind);
    if (typeof set === 'string') return `option ${option} ${set}`;
    e[key] = set;
  }
  return e;
}

function isEligible(s: Session, e: Eligibility): boolean {
  if (e.excludeMe && s.id === e.publisher) return false;
  if (e.exclude?.has(s.id) || e.excludeAuthid?.has(s.authid) || e.excludeAuthrole?.has(s.authrole)) return false;
  if (e.eligible && !e.eligible.has(s.id)) return false;
  if (e.eligibleAuthid && !e.eligibleAuthid.has(s.authid)) return false;
  if (e.eligibleAuthrole && !e.eligibleAuthrole.has(s.authrole)) return false;
  return true;
}
