// The ports core owns (DESIGN §1 "Core owns its ports"): the contracts it calls and others
// implement from above — authenticate a HELLO (auth/), authorize an action (auth/), and the
// preset identity of a session that skips authentication (in-process parts, serial devices).
// An authenticator answers a HELLO with accept, challenge or deny; an authorizer answers each
// action synchronously (or, for a dynamic authorizer, with a promise, and the session then
// holds its later messages until the answer so order holds). And the event history's port: each
// accepted publication on a topic a history rule names, handed over synchronously in the publish
// step (history/ stores it outside routing). No implementation lives here.

import type { Dict, Payload } from '../protocol/messages';
import type { TransportInfo } from '../protocol/peer';

export interface HelloContext {
  realm: string;
  /** HELLO.Details as the client sent them (authmethods, authid, authextra, roles …). */
  details: Dict;
  transport: TransportInfo;
  /** The session ID WELCOME will carry (WAMP-CRA puts it in its challenge). */
  session?: number;
}

export interface AuthAccept {
  kind: 'accept';
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  /** Sent to the client in WELCOME.Details.authextra. */
  authextra?: Dict;
  /** A realm other than the requested one (e.g. a dynamic authenticator may assign it). */
  realm?: string;
}

export interface AuthDeny {
  kind: 'deny';
  /** ABORT reason URI: wamp.error.not_authorized, authentication_failed, no_auth_method … */
  reason: string;
  /** Human text for ABORT.Details.message; never says which part of a credential was wrong. */
  message: string;
  /** Already logged by whoever denied (a blocked address, logged once per block). */
  logged?: boolean;
}

export interface AuthChallenge {
  kind: 'challenge';
  authmethod: string;
  extra: Dict;
  /** Checks the client's AUTHENTICATE. */
  verify(signature: string, extra: Dict): AuthResult | Promise<AuthResult>;
}

export type AuthResult = AuthAccept | AuthDeny;
export type HelloOutcome = AuthAccept | AuthDeny | AuthChallenge;

export interface Authenticator {
  hello(ctx: HelloContext): HelloOutcome | Promise<HelloOutcome>;
}

export type Action = 'publish' | 'subscribe' | 'call' | 'register';

export interface SessionIdentity {
  session: number;
  realm: string;
  authid: string;
  authrole: string;
  authmethod: string;
  transport: TransportInfo;
}

export interface Decision {
  allow: boolean;
  /** Disclose this session's identity (caller/publisher) to the other side. */
  disclose?: boolean;
}

export interface Authorizer {
  authorize(who: SessionIdentity, action: Action, uri: string, options: Dict): Decision | Promise<Decision>;
}

/** Allows everything: a realm's authorizer when its config names none (the loopback default). */
export const allowAll: Authorizer = {
  authorize: () => ({ allow: true }),
};

/** A preset identity: the session skips authentication and joins as this (bridges, uplink, meta
 * API, an embedding application's sessions, a serial device whose port config names it). */
export interface LocalIdentity {
  authid: string;
  authrole: string;
  /** May use `wamp.` URIs and ask for caller disclosure; only the router's own sessions. */
  trusted?: boolean;
  /** Not listed by the session meta API (the meta API's own session). */
  hidden?: boolean;
  /** The only realm this identity may join (a serial port's config names it). */
  realm?: string;
}

/** A publication the broker accepted, as the event history keeps it (spec: "Event History"). */
export interface AcceptedPublication {
  topic: string;
  publication: number;
  /** Who published; undefined for the router's own publications (testaments). */
  publisher?: { session: number; authid: string; authrole: string };
  /** PUBLISH.Options: the history reads the black/white-listing options, never anything else. */
  options: Dict;
  /** args/kwargs (and the bytes the publisher encoded them in); never read by core. */
  payload: Payload;
}

/** A read of the event history (wamp.subscription.get_events): meta/ parses a call into it,
 * history/ answers it. All bounds are inclusive; times are µs since the epoch. */
export interface HistoryQuery {
  /** At most this many events. */
  limit: number;
  /** Newest first (Crossbar.io's get_events(subscription_id, limit)), or in publish order (the
   * WAMP spec draft's default, `reverse` turns it). */
  newestFirst: boolean;
  /** For a pattern subscription: only this topic's events. */
  topic?: string;
  fromTimeUs?: number;
  untilTimeUs?: number;
  /** Bounds by a stored event's publication ID (the spec draft's *_publication). */
  publications: Array<{ publication: number; side: 'from' | 'after' | 'before' | 'until' }>;
}

/** The events a HistoryQuery found, or why there are none: no history for that subscription
 * (wamp.error.history_unavailable), or a bound that names no stored event (invalid_argument). */
export type HistoryAnswer = { events: Dict[] } | { error: 'unavailable' | 'invalid_argument'; message: string };

/** The event history of one realm (history/ implements it). Called synchronously inside the
 * publish step, so the order of `record` calls is the order the broker accepted publications;
 * an implementation only queues (it never awaits, never does I/O here, never throws on purpose). */
export interface EventHistory {
  /** True when a history rule names `topic`; asked once per accepted publication: keep it cheap. */
  records(topic: string): boolean;
  record(publication: AcceptedPublication): void;
}
