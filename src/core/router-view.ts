// Owns the read-only view of a router that operations code reads (status page, /metrics): the
// router's counters, sessions per realm and per listener, and the deepest session queues. It only
// reads, so it can never disturb routing; the router's own hidden sessions (meta API, ops) are
// left out everywhere, since they are not what an operator calls a session.

import type { MessageTypeName } from '../protocol/message-types';
import type { TransportType } from '../protocol/peer';
import type { Router } from './router';

/** Stable drop reason names: they are Prometheus label values and alert rules refer to them. */
export const DROP_REASONS = [
  'slow_consumer_event',
  'slow_consumer_disconnect',
  'protocol_violation',
  'auth_failure',
  'auth_busy',
  'internal_error',
  'unrepresentable_event',
  'unrepresentable_call',
  'message_over_limit',
  'too_large_event',
  'too_large_call',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface RouterCounters {
  /** Message type name -> count received from peers since start (types never seen left out). */
  messagesIn: Partial<Record<MessageTypeName, number>>;
  /** Message type name -> count sent to peers since start. */
  messagesOut: Partial<Record<MessageTypeName, number>>;
  /** Every drop reason, zeros included: Prometheus rate() needs the series before the first drop. */
  drops: Record<DropReason, number>;
  /** Connections the router refused or closed on its own, by reason, since start. */
  connectionsClosed: Record<string, number>;
}

export interface RealmSessions {
  name: string;
  /** Transport -> number of sessions joined over it. */
  sessions: Partial<Record<TransportType, number>>;
}

export interface SessionQueue {
  sessionId: number;
  realm: string;
  /** Chosen by the client: untrusted text, escaped wherever it is shown. */
  authid: string | null;
  authrole: string | null;
  transport: TransportType;
  /** Human-readable remote end, as in TransportInfo.peer. */
  peer?: string;
  queuedBytes: number;
  queuedMessages?: number;
  /** EVENTs dropped for this session because its queue was full. */
  dropped?: number;
}

/** What operations may know about a running router; nothing here changes it. */
export interface RouterView {
  /** Wall-clock ms when the router started. */
  readonly startedAt: number;
  counters(): RouterCounters;
  /** Every realm in creation order with its sessions by transport. */
  realms(): RealmSessions[];
  /** listener name -> sessions joined through it; in-process sessions count under "local". */
  sessionsByListener(): Map<string, number>;
  /** The `n` deepest outbound queues, deepest first (then most drops, then lowest id). */
  deepestQueues(n: number): SessionQueue[];
}

export function routerView(router: Router): RouterView {
  return {
    startedAt: router.startedAt,
    counters() {
      const stats = router.stats;
      return {
        messagesIn: stats.byTypeName(stats.messagesIn) as Partial<Record<MessageTypeName, number>>,
        messagesOut: stats.byTypeName(stats.messagesOut) as Partial<Record<MessageTypeName, number>>,
        drops: {
          slow_consumer_event: stats.eventsDroppedSlowConsumer,
          slow_consumer_disconnect: stats.slowConsumersDisconnected,
          protocol_violation: stats.protocolViolations,
          auth_failure: stats.authFailures,
          auth_busy: stats.authBusy,
          internal_error: stats.internalErrors,
          unrepresentable_event: stats.eventsDroppedUnrepresentable,
          unrepresentable_call: stats.callMessagesUnrepresentable,
          message_over_limit: stats.messagesOverLimit,
          too_large_event: stats.eventsTooLarge,
          too_large_call: stats.messagesTooLarge,
        },
        connectionsClosed: { ...stats.connectionsClosed },
      };
    },
    realms() {
      return [...router.realms.values()].map((realm) => {
        const sessions: Partial<Record<TransportType, number>> = {};
        for (const s of realm.sessions.values()) {
          if (s.hidden) continue;
          const t = s.transport.type;
          sessions[t] = (sessions[t] ?? 0) + 1;
        }
        return { name: realm.name, sessions };
      });
    },
    sessionsByListener() {
      const out = new Map<string, number>();
      for (const s of router.sessions.values()) {
        if (s.hidden) continue;
        const name = s.transport.listener;
        out.set(name, (out.get(name) ?? 0) + 1);
      }
      return out;
    },
    deepestQueues(n) {
      if (n <= 0) return [];
      const queues: SessionQueue[] = [];
      for (const s of router.sessions.values()) {
        if (s.hidden || !s.realm) continue;
        queues.push({
          sessionId: s.id,
          realm: s.realm.name,
          authid: s.authid || null,
          authrole: s.authrole || null,
          transport: s.transport.type,
          peer: s.transport.peer,
          queuedBytes: s.peer.bufferedBytes(),
          dropped: s.outbound.eventsDropped,
        });
      }
      // Deepest first, then most drops, then oldest session (lower id joined earlier on this router
      // only by chance, but it keeps the order stable between refreshes).
      queues.sort((a, b) => b.queuedBytes - a.queuedBytes || (b.dropped ?? 0) - (a.dropped ?? 0) || a.sessionId - b.sessionId);
      queues.length = Math.min(queues.length, n);
      return queues;
    },
  };
}
