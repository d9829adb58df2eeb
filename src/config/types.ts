// The shape of a wampgate config file once validated and completed with defaults. Sections
// owned by parts (bridges, uplink, ops …) are in `sections`, typed by their owners' section
// objects (section.ts); listener auth and realm roles are typed loosely here and validated by auth.

import type { SessionLimits } from '../core/limits';
import type { TransportLimits } from '../transports/limits';
import type { LogLevel } from '../util/logger';
import type { ConfigSections } from './section';

export interface TlsConfig {
  cert: string;
  key: string;
  ca?: string;
  requestClientCert?: boolean;
}

export interface ListenerConfig {
  name: string;
  type: 'websocket' | 'rawsocket';
  host?: string;
  port?: number;
  /** Unix socket path (rawsocket only). */
  unixPath?: string;
  /** WebSocket URL path. */
  path?: string;
  serializers?: Array<'json' | 'msgpack' | 'cbor'>;
  tls?: TlsConfig;
  maxConnections?: number;
  /** Authentication methods for this listener; absent = anonymous on loopback only. */
  auth?: Record<string, unknown>;
}

export interface RealmConfig {
  name: string;
  uriCheck?: 'loose' | 'strict';
  maxRetainedTopics?: number;
  /** Role permissions; absent = every session may do everything (loopback-only default). */
  roles?: unknown[];
  /** A dynamic authorizer procedure, asked when no static rule matches. */
  authorizer?: Record<string, unknown>;
  /** Event history rules (history/history-config.ts); absent = no history in this realm. */
  history?: unknown[];
}

/** The `limits` section: the transports' limits and the sessions' limits, side by side. */
export type LimitsConfig = TransportLimits & SessionLimits & TicketCheckLimits;

/** Process-wide bound on ticket key derivations (auth/kdf-limiter.ts): on a Pi one PBKDF2 of
 * 100,000 iterations takes about half a second, so a reconnect burst must queue, not pile up. */
export interface TicketCheckLimits {
  /** Derivations running at once (each takes one of libuv's 4 pool threads). */
  ticketCheckConcurrency: number;
  /** Derivations waiting; a HELLO beyond them gets ABORT wampgate.error.auth_busy. */
  ticketCheckQueue: number;
}

export interface GatewayConfig {
  realms: RealmConfig[];
  listeners: ListenerConfig[];
  limits: LimitsConfig;
  log: { level: LogLevel };
  dataDir?: string;
  /** The parts' sections, validated and resolved by their owners (absent in a config built in
   * code: each part then gets its section's defaults, see sectionOf). */
  sections?: ConfigSections;
}
