// The event history as the gateway shows it: a service part (no start or stop of its own — the
// composition root opens the history before the router and closes it after) whose status carries
// rows and bytes as gauges and evictions and drops as counters, for the status page and /metrics.

import type { GatewayPart, PartStatus } from '../gateway-part';
import type { EventHistoryService } from './event-history';

export class HistoryPart implements GatewayPart {
  readonly name = 'history';
  private readonly since = Date.now();

  constructor(private readonly history: EventHistoryService) {}

  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }

  status(): PartStatus {
    const s = this.history.status();
    const counters: Record<string, number> = { written: s.written };
    for (const [reason, n] of Object.entries(s.evicted)) counters[`evicted_${reason}`] = n;
    for (const [reason, n] of Object.entries(s.dropped)) counters[`dropped_${reason}`] = n;
    counters.session_lists_not_stored = s.skipped.session_filter;
    const failing = s.lastError !== null;
    return {
      kind: 'history',
      role: 'service',
      name: this.name,
      state: failing ? 'error' : 'connected',
      since: this.since,
      lastError: s.lastError,
      counters,
      gauges: { rows: s.rows, bytes: s.bytes, max_bytes: s.maxBytes, file_bytes: s.fileBytes, topics: s.topics, queued: s.queued },
      target: s.file,
      detail: s,
    };
  }
}
