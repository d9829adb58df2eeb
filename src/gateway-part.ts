// The seam between the gateway and its optional parts (bridges, uplink, ops, and any new one):
// each part is started after the router and listeners, stopped before them, and reports a typed
// PartStatus. Parts reach the router only as WAMP sessions (`sessions.attachLocal`), never its
// internals; what the gateway shows of itself (router counters, listeners, every part's status)
// is a read-only GatewayView, which ops renders.

import type { GatewayConfig } from './config/types';
import type { RealmSessions, RouterCounters, RouterView, SessionQueue } from './core/router-view';
import type { LocalIdentity } from './core/ports';
import type { Router } from './core/router';
import type { Peer } from './protocol/peer';
import { attachLocal } from './transports/local';
import type { Logger } from './util/logger';
import type { CloudServices } from './cloud-services';

export type { LocalIdentity, RealmSessions, RouterCounters, RouterView, SessionQueue };
export { DROP_REASONS, type DropReason } from './core/router-view';

// ---- what a part reports --------------------------------------------------------------------

/**
 * The one state vocabulary of every part; each part maps its own states into it (an MQTT
 * "reconnecting" is `connecting`, a serial port "unplugged" is `disconnected`). These words are
 * Prometheus label values and the status page's badges.
 */
export type PartState = 'connecting' | 'connected' | 'disconnected' | 'stopped' | 'error';
export const PART_STATES: readonly PartState[] = ['connecting', 'connected', 'disconnected', 'stopped', 'error'];

/**
 * Where a part shows on the status page and in /metrics: `bridge` (a link to devices, with its
 * traffic charted), `uplink` (the link to a cloud router, with its buffer), or `service` (any other
 * part: shown with its state, counters and last error).
 */
export type PartRole = 'bridge' | 'uplink' | 'service';

/** A store-and-forward buffer (the uplink's outbox). */
export interface BufferStatus {
  /** Messages appended but not yet acknowledged by the far end. */
  depth: number;
  bytes: number;
  /** Age of the oldest unacknowledged message, in seconds; null when empty. */
  oldestAgeSeconds: number | null;
  /** Messages discarded because the buffer was full, since start. */
  drops: number;
  /** The configured cap, when there is one. */
  capacityBytes?: number;
  /** Messages held as dead letters now (undeliverable, moved aside), and how many were moved since start by reason. */
  deadLetters?: { count: number; moved: Record<string, number> };
}

/** Progress through the backlog that was buffered when the link last came up. */
export interface ReplayStatus {
  /** True while the backlog is still being sent. */
  active: boolean;
  /** Messages buffered when the link came up. */
  backlogAtStart: number;
  /** Of those, acknowledged by the far end so far. */
  acked: number;
}

/** What every part reports: plain JSON, served as-is in /status.json. */
export interface PartStatus {
  /** What sort of part: "mqtt", "serial-line", "serial-frame", "uplink", "ops"… (a metrics label). */
  kind: string;
  role: PartRole;
  /** The name an operator knows it by (the config entry's name). */
  name: string;
  state: PartState;
  /** Wall-clock ms when it entered `state`; null when unknown. */
  since: number | null;
  lastError: string | null;
  /** Monotonic counters since the part started: name -> count ("received", "decodeErrors"…). */
  counters: Record<string, number>;
  /** Current values that go up and down: name -> value (the event history's "rows", "bytes"…). */
  gauges?: Record<string, number>;
  /** Which counters are traffic from the devices' side into WAMP (`in`) and back (`out`): charted as rates. */
  traffic?: { in: readonly string[]; out: readonly string[] };
  /** What it connects to, without credentials: a broker URL, a serial device path, a cloud URL. */
  target?: string;
  realm?: string;
  buffer?: BufferStatus;
  replay?: ReplayStatus;
  /** The part's own report in its own words (its native states, sub-states…), for /status.json and debugging. */
  detail?: object;
}

// ---- what a part is given -------------------------------------------------------------------

/** How a part opens sessions on the router without seeing it. */
export interface LocalSessions {
  /** An in-process session with a preset identity: say HELLO on the returned peer
   * (WampClient.connect / SessionKeeper) to join; see transports/local.ts. */
  attachLocal(name: string, identity: LocalIdentity): Peer;
  /** A transport connection (a serial device) that joins as a preset identity. */
  attach(peer: Peer, identity: LocalIdentity): { readonly id: number; readonly established: boolean };
}

/** The LocalSessions of one router (the gateway's; tests and embedding build parts on a bare one). */
export function localSessions(router: Router): LocalSessions {
  return {
    attachLocal: (name, identity) => attachLocal(router, name, identity),
    attach: (peer, identity) => router.attach(peer, identity),
  };
}

export interface ListenerView {
  name: string;
  type: 'websocket' | 'rawsocket';
  /** Where it listens, e.g. "ws://127.0.0.1:8080/ws" or "unix:/run/wampgate/wamp.sock". */
  address: string;
}

/** The running gateway as operations code sees it: read-only. */
export interface GatewayView {
  router: RouterView;
  listeners(): readonly ListenerView[];
  /** part name -> its status, every part in start order. */
  parts(): Record<string, PartStatus>;
}

export interface PartContext {
  sessions: LocalSessions;
  /** The names of the configured realms, in config order. */
  realms: readonly string[];
  logger: Logger;
  /** Where parts keep state (the SQLite buffer): config.dataDir, else ./data. */
  dataDir: string;
  /** The router's cap on one message (limits.maxMessageBytes): what a part forwards must fit it. */
  maxMessageBytes: number;
  /** Read-only: what ops shows (router counters, listeners, every part's status). */
  gateway: GatewayView;
  /** What parts offer the cloud through the uplink (the admin part offers, the uplink carries). */
  cloud?: CloudServices;
}

export interface GatewayPart {
  /** Unique among the gateway's parts ("mqtt:field", "uplink"). */
  readonly name: string;
  /** The config this part depends on, as a stable string (util/fingerprint.ts of its
   * section): a live reload keeps the running part when the new config gives the same key, and
   * restarts it otherwise. Without one, the part restarts on any config change. */
  readonly configKey?: string;
  start(ctx: PartContext): Promise<void>;
  stop(): Promise<void>;
  /** Cheap and synchronous: called on every status page, /metrics scrape and sample tick. */
  status(): PartStatus;
}

/** Builds the parts a config asks for; one factory per config section, registered in cli/wiring.ts. */
export type PartFactory = (config: GatewayConfig) => GatewayPart[];
