// Owns the shape of the gateway status snapshot that the status page, /status.json and /metrics
// render. Does not own filling it: the composition root assembles it from the router, bridges,
// uplink and HealthMonitor. Every part is optional, so a gateway without an uplink (or a test)
// leaves that part out and the renderers skip it. Plain JSON data only: it is served as-is.

import type { MessageTypeName } from '../protocol/message-types';
import type { TransportType } from '../protocol/peer';
import type { HealthSnapshot } from './health';
import type { SeriesSnapshot } from './series';

/** Shared by bridges and the uplink. */
export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped' | 'error';
export const LINK_STATES: readonly LinkState[] = ['connecting', 'connected', 'disconnected', 'stopped', 'error'];

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
  bridges?: BridgeStatus[];
  uplink?: UplinkStatus;
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
  /** As configured, e.g. "ws://127.0.0.1:8080/ws" or "unix:/run/wampgate/wamp.sock" (port 0: picked at start). */
  address: string;
  /** Sessions joined through this listener (the router's own sessions excluded). */
  sessions: number;
}

export interface RealmStatus {
  name: string;
  /** Transport -> number of sessions joined over it. */
  sessions: Partial<Record<TransportType, number>>;
}

export interface SessionQueueStatus {
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

export interface ReplayStatus {
  /** True while the backlog is still being sent. */
  active: boolean;
  /** Messages buffered when the link came up. */
  backlogAtStart: number;
  /** Of those, acknowledged by the cloud so far. */
  acked: number;
}

export interface OutboxStatus {
  /** Messages appended but not yet acknowledged by the cloud. */
  depth: number;
  bytes: number;
  /** Age of the oldest unacknowledged message, in seconds; null when empty. */
  oldestAgeSeconds: number | null;
  /** Messages discarded because the buffer was full, since start. */
  drops: number;
  /** The configured cap, when there is one. */
  capacityBytes?: number;
  /** Events held as dead letters now (undeliverable, moved aside), and how many were moved since start by reason. */
  deadLetters?: { count: number; moved: Record<string, number> };
}
