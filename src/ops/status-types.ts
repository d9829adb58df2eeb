// Owns the shape of the gateway status snapshot that the status page, /status.json and /metrics
// render. Does not own filling it (gateway-status.ts assembles it from the gateway's read-only
// view and the HealthMonitor). Every section is optional, so a gateway without an uplink (or a
// test) leaves it out and the renderers skip it. Plain JSON data only: it is served as-is.

import type { BufferStatus, PartState, PartStatus, RealmSessions, ReplayStatus, SessionQueue } from '../gateway-part';
import { PART_STATES } from '../gateway-part';
import type { MessageTypeName } from '../protocol/message-types';
import type { HealthSnapshot } from './health';
import type { SeriesSnapshot } from './series';

/** The parts' one state vocabulary (gateway-part.ts), shared by bridges, the uplink and every other part. */
export type LinkState = PartState;
export const LINK_STATES = PART_STATES;
export type { PartStatus, ReplayStatus };
/** The uplink's buffer (the name /status.json readers know it by). */
export type OutboxStatus = BufferStatus;
export type RealmStatus = RealmSessions;
export type SessionQueueStatus = SessionQueue;

export interface GatewayStatus {
  /** Wall-clock ms when assembled; durations below are computed against it, not the viewer's clock. */
  generatedAt?: number;
  /** wampgate version, for the page header. */
  version?: string;
  /** Listeners bound and realms up; /healthz answers 200 only when true. */
  ready?: boolean;
  router?: RouterStatus;
  /** The configured listeners and the sessions that came in through each. */
  listeners?: ListenerStatus[];
  /** The bridge-role parts, as this section has always looked. */
  bridges?: BridgeStatus[];
  /** The uplink-role part, as this section has always looked. */
  uplink?: UplinkStatus;
  /** part name -> its typed status: every part, bridges and uplink included. */
  parts?: Record<string, PartStatus>;
  health?: HealthSnapshot | null;
  /** The last hour, sampled (series.ts); absent where nothing samples (tests, `wampgate status`). */
  series?: SeriesSnapshot;
}

export interface RouterStatus {
  uptimeSeconds: number;
  realms: RealmStatus[];
  /** Message type name -> count received from peers since start. */
  messagesIn?: Partial<Record<MessageTypeName, number>>;
  /** Message type name -> count sent to peers since start. */
  messagesOut?: Partial<Record<MessageTypeName, number>>;
  /** Drop reason ("queue_full", "too_large", "not_authorized"…) -> count since start. */
  drops?: Record<string, number>;
  /** Connections the router refused or closed on its own, by reason ("pending_limit",
   * "message_too_large", "hello_timeout"…), since start. */
  connectionsClosed?: Record<string, number>;
  /** The sessions with the deepest outbound queues, deepest first; the router picks N. */
  queues?: SessionQueueStatus[];
}

export interface ListenerStatus {
  name: string;
  /** "websocket" or "rawsocket". */
  type: string;
  /** Where it listens, e.g. "ws://127.0.0.1:8080/ws" or "unix:/run/wampgate/wamp.sock" (a port configured as 0 shows the one picked). */
  address: string;
  /** Sessions joined through this listener (the router's own sessions excluded). */
  sessions: number;
}

export interface BridgeStatus {
  name: string;
  /** "mqtt", "serial-line", "serial-frame"… */
  kind: string;
  state: LinkState;
  /** Wall-clock ms when it entered `state`. */
  since?: number | null;
  lastError?: string | null;
  /** Monotonic counters since start: name -> count ("received", "published", "decode_errors"…). */
  counters?: Record<string, number>;
  /** Which counters are the bridge's traffic in and out (charted as rates); default received/published. */
  traffic?: PartStatus['traffic'];
}

export interface UplinkStatus {
  state: LinkState;
  /** Wall-clock ms when it entered `state`. */
  since?: number | null;
  /** Cloud router URL without credentials. */
  url?: string;
  realm?: string;
  lastError?: string | null;
  buffer?: OutboxStatus;
  /** Progress through the backlog buffered when the link last came up. */
  replay?: ReplayStatus;
}
