// Owns reading the router's counters and sessions into a RouterStatus (status-types.ts) for the
// status page, /status.json and /metrics. Does not own the counters themselves (core/stats.ts,
// core/session.ts) nor rendering; it only reads, so it can never disturb routing.

import type { Router } from '../core/router';
import type { MessageTypeName } from '../protocol/message-types';
import type { TransportType } from '../protocol/peer';
import type { RouterStatus, SessionQueueStatus } from './status-types';

export interface RouterStatusOptions {
  /** How many of the deepest session queues to report; default 10. Bounds the metrics' label set. */
  topN?: number;
  /**
   * Router uptime in seconds when the caller tracks it on a monotonic clock (a Pi without an RTC
   * can jump its wall clock by years when NTP syncs); default: wall clock since router.startedAt.
   */
  uptimeSeconds?: number;
}

/** Stable drop reason names: they are Prometheus label values and alert rules refer to them. */
export const DROP_REASONS = [
  'slow_consumer_event',
  'slow_consumer_disconnect',
  'protocol_violation',
  'auth_failure',
  'internal_error',
  'unrepresentable_event',
  'unrepresentable_call',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export function routerStatus(router: Router, options: RouterStatusOptions = {}): RouterStatus {
  const topN = Math.max(0, options.topN ?? 10);
  const stats = router.stats;

  const realms = [...router.realms.values()].map((realm) => {
    const sessions: Partial<Record<TransportType, number>> = {};
    for (const s of realm.sessions.values()) {
      // Hidden sessions are the router's own (meta API, ops): not what an operator calls a session.
      if (s.hidden) continue;
      const t = s.transport.type;
      sessions[t] = (sessions[t] ?? 0) + 1;
    }
    return { name: realm.name, sessions };
  });

  const queues: SessionQueueStatus[] = [];
  if (topN > 0) {
    for (const s of router.sessions.values()) {
      if (s.hidden || !s.realm) continue;
      const q: SessionQueueStatus = {
        sessionId: s.id,
        realm: s.realm.name,
        authid: s.authid || null,
        authrole: s.authrole || null,
        transport: s.transport.type,
        peer: s.transport.peer,
        queuedBytes: s.peer.bufferedBytes(),
        dropped: s.eventsDropped,
      };
      queues.push(q);
    }
    // Deepest first, then most drops, then oldest session (lower id joined earlier on this router
    // only by chance, but it keeps the order stable between refreshes).
    queues.sort((a, b) => b.queuedBytes - a.queuedBytes || (b.dropped ?? 0) - (a.dropped ?? 0) || a.sessionId - b.sessionId);
    queues.length = Math.min(queues.length, topN);
  }

  // Zeros included on purpose: Prometheus rate() needs the series to exist before the first drop.
  const drops: Record<DropReason, number> = {
    slow_consumer_event: stats.eventsDroppedSlowConsumer,
    slow_consumer_disconnect: stats.slowConsumersDisconnected,
    protocol_violation: stats.protocolViolations,
    auth_failure: stats.authFailures,
    internal_error: stats.internalErrors,
    unrepresentable_event: stats.eventsDroppedUnrepresentable,
    unrepresentable_call: stats.callMessagesUnrepresentable,
  };

  return {
    uptimeSeconds: options.uptimeSeconds ?? Math.max(0, (Date.now() - router.startedAt) / 1000),
    realms,
    messagesIn: stats.byTypeName(stats.messagesIn) as Partial<Record<MessageTypeName, number>>,
    messagesOut: stats.byTypeName(stats.messagesOut) as Partial<Record<MessageTypeName, number>>,
    drops,
    connectionsClosed: { ...stats.connectionsClosed },
    queues,
  };
}

/** listener name -> sessions joined through it (hidden excluded); in-process sessions count under "local". */
export function sessionsByListener(router: Router): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of router.sessions.values()) {
    if (s.hidden) continue;
    const name = s.transport.listener;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}
