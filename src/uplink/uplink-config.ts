// The uplink's settings: their shape as written, defaults and `resolveUplinkConfig` (defaults filled in,
// `{gatewayId}` expanded, paths made absolute). Checking it is uplink-section.ts's job, what the
// values do is uplink.ts's, and secrets are read by client-auth.ts.

import { isAbsolute, join } from 'node:path';
import type { SecretSource } from '../config/secrets';
import { defaultGatewayId } from '../config/gateway-id';
import type { Dict } from '../protocol/messages';
import type { MatchPolicy } from '../protocol/uri';
import { NETWORK_JITTER } from '../util/backoff';
import type { ClientTlsOptions } from '../transports/tls';
import type { DropPolicy } from './outbox';
import type { SqliteDurability } from './sqlite-settings';
import { expandGatewayId } from './uri-rewrite';

export const ForwardDirections = ['up', 'down'] as const;
export type ForwardDirection = (typeof ForwardDirections)[number];
export const ForwardTypes = ['event', 'procedure'] as const;
export type ForwardType = (typeof ForwardTypes)[number];
/**
 * Upward events after a reconnect: `live-first` sends events that arrive while the backlog is
 * still being replayed ahead of it (current readings first, history after; the cloud sees them
 * out of seq order), `strict` keeps one sequence (the backlog first, then what came after).
 */
export const ForwardOrders = ['live-first', 'strict'] as const;
export type ForwardOrder = (typeof ForwardOrders)[number];
export const UplinkAuthMethods = ['anonymous', 'ticket', 'wampcra', 'cryptosign'] as const;
export type UplinkAuthMethod = (typeof UplinkAuthMethods)[number];

/**
 * One forwarding rule. `up` = from the local realm to the cloud, `down` = from the cloud to the
 * local realm. For events that is the publication's direction; for procedures it is the
 * direction of the *call*: an `up` procedure rule makes local procedures callable from the cloud
 * (the uplink registers `remote` upstream and calls `local`), a `down` rule makes cloud
 * procedures callable locally (the uplink registers `local` here and calls `remote`).
 */
export interface ForwardRule {
  name: string;
  direction: ForwardDirection;
  type: ForwardType;
  /** URI or pattern in the local realm. */
  local: string;
  /** URI or pattern in the cloud realm; `{gatewayId}` is replaced. */
  remote: string;
  /** Default `prefix` when the URIs end with a dot, else `exact`. */
  match?: MatchPolicy;
  /** Upward events only: eviction priority in the buffer (higher is kept longer). Default 0. */
  priority?: number;
  /** Upward events only. Default `buffer.dropPolicy`. */
  dropPolicy?: DropPolicy;
  /** Upward events only. Default `live-first`. */
  order?: ForwardOrder;
  /** Downward procedures only: overrides the section's `offlineCallTimeoutMs`. */
  offlineCallTimeoutMs?: number;
}

export interface UplinkAuthConfig {
  authid?: string;
  /** Tried in this order by the cloud router. Default: the methods whose secret is given, else anonymous. */
  authmethods?: UplinkAuthMethod[];
  ticket?: SecretSource;
  /** WAMP-CRA secret (the salted key is derived when the challenge carries a salt). */
  secret?: SecretSource;
  /** Ed25519 private key: 64 hex characters (the seed), or 128 (seed + public key). */
  cryptosignKey?: SecretSource;
  authextra?: Dict;
}

export interface UplinkBufferConfig {
  /** `sqlite` (default, durable) or `memory` (lost with the process; for tests and throwaway links). */
  storage?: 'sqlite' | 'memory';
  /** Default `<dataDir>/uplink.sqlite`; relative paths are relative to dataDir. */
  path?: string;
  maxCount?: number;
  maxBytes?: number;
  /** 0 disables. */
  maxAgeMs?: number;
  /** Hard cap on the database file (SQLite max_page_count × 4 KiB): beyond it appends count as disk-full. */
  maxFileBytes?: number;
  /** Default `full`; see SqliteDurability. */
  durability?: SqliteDurability;
  /** Default policy of upward event rules. Default `drop-oldest`. */
  dropPolicy?: DropPolicy;
  /** Backlog replay rate after a reconnect; 0 = as fast as acks come back. Default 0. */
  replayRatePerSecond?: number;
  /** Publications sent and not yet acknowledged by the cloud. Also the duplicate bound. Default 100. */
  inflightWindow?: number;
  /** Most events appended in one transaction. Default 500. */
  maxBatch?: number;
  /** Attempts to deliver one event (ERROR from the cloud, not sendable, the cloud closing on it) before it becomes a dead letter. Default 3. */
  maxAttempts?: number;
  /** Dead letters kept in the buffer file; beyond it the oldest is deleted (counted). Default 10 000. */
  maxDeadLetters?: number;
  /** How often entries older than maxAgeMs are dropped. Default min(60 s, maxAgeMs / 4). */
  expireIntervalMs?: number;
}

export interface UplinkConfig {
  /** ws://, wss://, rawsocket://host:port, rawsocket+tls://host:port, rawsocket+unix:///path */
  url: string;
  realm: string;
  serializer?: 'json' | 'msgpack' | 'cbor';
  auth?: UplinkAuthConfig;
  tls?: ClientTlsOptions;
  /** Default: the first realm of the gateway. */
  localRealm?: string;
  /** Role of the uplink's local session (authid `wampgate.uplink`). Default `uplink`. */
  localAuthrole?: string;
  /** Default: the host name. */
  gatewayId?: string;
  forward?: ForwardRule[];
  buffer?: UplinkBufferConfig;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; jitter?: number; healthyAfterMs?: number };
  /** WAMP-level probes to find a dead link. Default every 15 s, dead after 10 s without any reply. */
  keepalive?: { intervalMs?: number; timeoutMs?: number };
  /** Default 10 s: TCP + TLS + WebSocket/RawSocket handshake, then again for HELLO -> WELCOME. */
  connectTimeoutMs?: number;
  /** Downward calls while offline: 0 (default) fails at once with wampgate.error.uplink_offline. */
  offlineCallTimeoutMs?: number;
  /** Period of `wampgate.uplink.on_stats`. 0 disables. Default 10 s. */
  statsIntervalMs?: number;
  /** Largest message to or from the cloud. Default: the gateway's limits.maxMessageBytes. */
  maxMessageBytes?: number;
}

export interface ResolvedRule extends Required<Omit<ForwardRule, 'offlineCallTimeoutMs' | 'dropPolicy' | 'order'>> {
  order: ForwardOrder;
  dropPolicy: DropPolicy;
  offlineCallTimeoutMs: number;
}

export interface ResolvedUplinkConfig {
  url: string;
  realm: string;
  serializer: 'json' | 'msgpack' | 'cbor';
  auth: UplinkAuthConfig;
  tls: ClientTlsOptions | undefined;
  localRealm: string;
  localAuthrole: string;
  gatewayId: string;
  forward: ResolvedRule[];
  buffer: Required<Omit<UplinkBufferConfig, 'maxFileBytes' | 'path'>> & { path: string; maxFileBytes: number | undefined };
  reconnect: { initialDelayMs: number; maxDelayMs: number; jitter: number; healthyAfterMs: number };
  keepalive: { intervalMs: number; timeoutMs: number };
  connectTimeoutMs: number;
  offlineCallTimeoutMs: number;
  statsIntervalMs: number;
  maxMessageBytes: number;
}

export const uplinkDefaults = {
  serializer: 'cbor',
  localAuthrole: 'uplink',
  order: 'live-first',
  buffer: {
    storage: 'sqlite',
    file: 'uplink.sqlite',
    maxCount: 1_000_000,
    maxBytes: 256 * 1024 * 1024,
    maxAgeMs: 7 * 24 * 3600 * 1000,
    durability: 'full',
    dropPolicy: 'drop-oldest',
    replayRatePerSecond: 0,
    inflightWindow: 100,
    maxBatch: 500,
    maxAttempts: 3,
    maxDeadLetters: 10_000,
  },
  reconnect: { initialDelayMs: 1000, maxDelayMs: 60_000, jitter: NETWORK_JITTER, healthyAfterMs: 30_000 },
  keepalive: { intervalMs: 15_000, timeoutMs: 10_000 },
  connectTimeoutMs: 10_000,
  offlineCallTimeoutMs: 0,
  statsIntervalMs: 10_000,
} as const;

export type Obj = Record<string, unknown>;

/** A rule's match policy: `prefix` when its local URI ends with a dot, else `exact`. */
export function defaultMatch(rule: Obj): MatchPolicy {
  if (rule.match === 'exact' || rule.match === 'prefix' || rule.match === 'wildcard') return rule.match;
  return typeof rule.local === 'string' && rule.local.endsWith('.') ? 'prefix' : 'exact';
}

/** Completes a validated section. `defaults` come from the rest of the gateway config. */
export function resolveUplinkConfig(
  raw: UplinkConfig,
  defaults: { dataDir: string; firstRealm: string; maxMessageBytes: number; hostname: string },
): ResolvedUplinkConfig {
  const d = uplinkDefaults;
  const b = raw.buffer ?? {};
  const gatewayId = raw.gatewayId ?? defaultGatewayId(defaults.hostname);
  const bufferPath = b.path === undefined ? join(defaults.dataDir, d.buffer.file) : isAbsolute(b.path) ? b.path : join(defaults.dataDir, b.path);
  const maxAgeMs = b.maxAgeMs ?? d.buffer.maxAgeMs;
  const offlineCallTimeoutMs = raw.offlineCallTimeoutMs ?? d.offlineCallTimeoutMs;
  const dropPolicy = b.dropPolicy ?? d.buffer.dropPolicy;
  return {
    url: raw.url,
    realm: raw.realm,
    serializer: raw.serializer ?? d.serializer,
    auth: raw.auth ?? {},
    tls: raw.tls,
    localRealm: raw.localRealm ?? defaults.firstRealm,
    localAuthrole: raw.localAuthrole ?? d.localAuthrole,
    gatewayId,
    forward: (raw.forward ?? []).map((r) => ({
      name: r.name,
      direction: r.direction,
      type: r.type,
      local: expandGatewayId(r.local, gatewayId),
      remote: expandGatewayId(r.remote, gatewayId),
      match: r.match ?? defaultMatch(r as unknown as Obj),
      priority: r.priority ?? 0,
      dropPolicy: r.dropPolicy ?? dropPolicy,
      order: r.order ?? d.order,
      offlineCallTimeoutMs: r.offlineCallTimeoutMs ?? offlineCallTimeoutMs,
    })),
    buffer: {
      storage: b.storage ?? d.buffer.storage,
      path: bufferPath,
      maxCount: b.maxCount ?? d.buffer.maxCount,
      maxBytes: b.maxBytes ?? d.buffer.maxBytes,
      maxAgeMs,
      maxFileBytes: b.maxFileBytes,
      durability: b.durability ?? d.buffer.durability,
      dropPolicy,
      replayRatePerSecond: b.replayRatePerSecond ?? d.buffer.replayRatePerSecond,
      inflightWindow: b.inflightWindow ?? d.buffer.inflightWindow,
      maxBatch: b.maxBatch ?? d.buffer.maxBatch,
      maxAttempts: b.maxAttempts ?? d.buffer.maxAttempts,
      maxDeadLetters: b.maxDeadLetters ?? d.buffer.maxDeadLetters,
      expireIntervalMs: b.expireIntervalMs ?? Math.max(1000, Math.min(60_000, Math.floor(maxAgeMs / 4) || 60_000)),
    },
    reconnect: { ...d.reconnect, ...raw.reconnect },
    keepalive: { ...d.keepalive, ...raw.keepalive },
    connectTimeoutMs: raw.connectTimeoutMs ?? d.connectTimeoutMs,
    offlineCallTimeoutMs,
    statsIntervalMs: raw.statsIntervalMs ?? d.statsIntervalMs,
    maxMessageBytes: raw.maxMessageBytes ?? defaults.maxMessageBytes,
  };
}
