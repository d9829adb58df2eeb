// Per-session limits with defaults sized for a board with 512 MB of RAM (DESIGN §3). Every
// number here is configuration; these are only the defaults.

export type SlowConsumerPolicy = 'drop' | 'disconnect';

export interface SessionLimits {
  /** A connection that has not sent HELLO (and finished authenticating) by then is closed. */
  helloTimeoutMs: number;
  /** Outbound bytes queued for one session above which EVENTs are dropped (or it is disconnected). */
  maxQueueBytes: number;
  /** Above this, even RESULT and INVOCATION cannot be queued: the connection is closed. */
  hardQueueBytes: number;
  slowConsumerPolicy: SlowConsumerPolicy;
  /** Calls one caller may have outstanding; more get ERROR wampgate.error.limit_exceeded. */
  maxPendingCalls: number;
  /** Subscriptions plus registrations one session may hold. */
  maxSubscriptionsPerSession: number;
  /** How long the router waits for the client's GOODBYE reply before closing anyway. */
  goodbyeTimeoutMs: number;
}

export const defaultSessionLimits: SessionLimits = {
  helloTimeoutMs: 10_000,
  maxQueueBytes: 1024 * 1024,
  hardQueueBytes: 8 * 1024 * 1024,
  slowConsumerPolicy: 'drop',
  maxPendingCalls: 1000,
  maxSubscriptionsPerSession: 10_000,
  goodbyeTimeoutMs: 5_000,
};

export interface RealmLimits {
  /** Topics with a retained event kept per realm; the least recently published goes first. */
  maxRetainedTopics: number;
}

export const defaultRealmLimits: RealmLimits = { maxRetainedTopics: 1000 };
