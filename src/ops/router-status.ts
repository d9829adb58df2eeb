// Owns reading the router's read-only view (core/router-view.ts) into the RouterStatus of
// status-types.ts for the status page, /status.json and /metrics. Does not own the counters nor
// how they are read from the router; it only picks and shapes them.

import { DROP_REASONS, type DropReason, type RouterView } from '../gateway-part';
import type { RouterStatus } from './status-types';

/** The status page lists the 10 deepest outbound queues: enough to find a slow consumer, small
 * enough that status.json stays cheap with thousands of sessions. */
const DEEPEST_QUEUES_SHOWN = 10;

export { DROP_REASONS, type DropReason };

export interface RouterStatusOptions {
  /** How many of the deepest session queues to report; default 10. Bounds the metrics' label set. */
  topN?: number;
  /**
   * Router uptime in seconds when the caller tracks it on a monotonic clock (a Pi without an RTC
   * can jump its wall clock by years when NTP syncs); default: wall clock since router start.
   */
  uptimeSeconds?: number;
}

export function routerStatus(router: RouterView, options: RouterStatusOptions = {}): RouterStatus {
  const c = router.counters();
  return {
    uptimeSeconds: options.uptimeSeconds ?? Math.max(0, (Date.now() - router.startedAt) / 1000),
    realms: router.realms(),
    messagesIn: c.messagesIn,
    messagesOut: c.messagesOut,
    drops: c.drops,
    connectionsClosed: c.connectionsClosed,
    queues: router.deepestQueues(Math.max(0, options.topN ?? DEEPEST_QUEUES_SHOWN)),
  };
}
