// The `uplink` config section: its shape, defaults, `validateUplink` (every problem with its path,
// DESIGN §3) and `resolveUplinkConfig` (defaults filled in, `{gatewayId}` expanded, paths made
// absolute). What the values do is uplink.ts's business; secrets are read by client-auth.ts.

import { isAbsolute, join } from 'node:path';
import type { SecretSource } from '../auth/principals';
import { resolveSecret } from '../auth/principals';
import { ProblemList, type ConfigProblem } from '../config/problem';
import type { Dict } from '../protocol/messages';
import { isValidPattern, isValidUri, type MatchPolicy } from '../protocol/uri';
import { serializerNames } from '../serializers';
import { NETWORK_JITTER } from '../util/backoff';
import type { ClientTlsOptions } from '../transports/tls';
import { DropPolicies, type DropPolicy } from './outbox';
import { SqliteDurabilities, type SqliteDurability } from './sqlite-outbox';
import { expandGatewayId, rewritable } from './uri-rewrite';

export const ForwardDirections = ['up', 'down'] as const;
export type ForwardDirection = (typeof ForwardDirections)[number];
export const ForwardTypes = ['event', 'procedure'] as const;
export type ForwardType = (typeof ForwardTypes)[number];
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

export interface ResolvedRule extends Required<Omit<ForwardRule, 'offlineCallTimeoutMs' | 'dropPolicy'>> {
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

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const topKeys = [
  'url',
  'realm',
  'serializer',
  'auth',
  'tls',
  'localRealm',
  'localAuthrole',
  'gatewayId',
  'forward',
  'buffer',
  'reconnect',
  'keepalive',
  'connectTimeoutMs',
  'offlineCallTimeoutMs',
  'statsIntervalMs',
  'maxMessageBytes',
];
const ruleKeys = ['name', 'direction', 'type', 'local', 'remote', 'match', 'priority', 'dropPolicy', 'offlineCallTimeoutMs'];
const authKeys = ['authid', 'authmethods', 'ticket', 'secret', 'cryptosignKey', 'authextra'];
const bufferKeys = [
  'storage',
  'path',
  'maxCount',
  'maxBytes',
  'maxAgeMs',
  'maxFileBytes',
  'durability',
  'dropPolicy',
  'replayRatePerSecond',
  'inflightWindow',
  'maxBatch',
  'maxAttempts',
  'maxDeadLetters',
  'expireIntervalMs',
];
const tlsKeys = ['ca', 'cert', 'key', 'servername'];

function keys(p: ProblemList, obj: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) p.add(`${path}.${k}`, `unknown key (allowed: ${allowed.join(', ')})`);
}

function int(p: ProblemList, v: unknown, path: string, min: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) p.add(path, `must be an integer ≥ ${min}`);
}

function str(p: ProblemList, v: unknown, path: string, what: string): void {
  if (v !== undefined && (typeof v !== 'string' || v.length === 0)) p.add(path, `must be ${what}`);
}

function oneOf(p: ProblemList, v: unknown, path: string, allowed: readonly string[]): void {
  if (v !== undefined && (typeof v !== 'string' || !allowed.includes(v))) p.add(path, `must be one of ${allowed.join(', ')}`);
}

/** What the url names: the transport and where. Null when it is not one of the supported forms. */
export type UplinkTarget =
  | { kind: 'websocket'; url: string; secure: boolean }
  | { kind: 'rawsocket'; host: string; port: number; secure: boolean }
  | { kind: 'rawsocket-unix'; path: string };

export function parseUplinkUrl(url: string): UplinkTarget | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  switch (u.protocol) {
    case 'ws:':
    case 'wss:':
      return u.hostname ? { kind: 'websocket', url, secure: u.protocol === 'wss:' } : null;
    case 'rawsocket:':
    case 'rawsocket+tls:': {
      const port = Number(u.port);
      if (!u.hostname || !Number.isInteger(port) || port < 1 || port > 65535) return null;
      // URL keeps IPv6 hosts in brackets; net.connect wants them bare.
      return { kind: 'rawsocket', host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port, secure: u.protocol === 'rawsocket+tls:' };
    }
    case 'rawsocket+unix:':
      return u.pathname.startsWith('/') && !u.host ? { kind: 'rawsocket-unix', path: decodeURIComponent(u.pathname) } : null;
    default:
      return null;
  }
}

function defaultMatch(rule: Obj): MatchPolicy {
  if (rule.match === 'exact' || rule.match === 'prefix' || rule.match === 'wildcard') return rule.match;
  return typeof rule.local === 'string' && rule.local.endsWith('.') ? 'prefix' : 'exact';
}

function secretOk(p: ProblemList, v: unknown, path: string): void {
  if (v === undefined) return;
  const problems: ConfigProblem[] = [];
  const secret = resolveSecret(v as SecretSource, path, problems);
  for (const q of problems) p.add(q.path, q.message);
  if (path.endsWith('cryptosignKey') && secret !== undefined && !/^([0-9a-fA-F]{64}|[0-9a-fA-F]{128})$/.test(secret.trim())) {
    p.add(path, 'must be an Ed25519 private key: 64 hex characters (seed) or 128 (seed + public key)');
  }
}

/** Validates the `uplink` section. `path` is where it sits ("uplink"). */
export function validateUplink(value: unknown, path: string): ConfigProblem[] {
  const p = new ProblemList();
  if (!isObj(value)) {
    p.add(path, 'must be an object like { "url": "ws://cloud:8080/ws", "realm": "cloud", "forward": [...] }');
    return p.problems;
  }
  keys(p, value, topKeys, path);
  if (typeof value.url !== 'string' || parseUplinkUrl(value.url) === null) {
    p.add(`${path}.url`, 'must be ws://host:port/path, wss://…, rawsocket://host:port, rawsocket+tls://host:port or rawsocket+unix:///path');
  } else {
    const target = parseUplinkUrl(value.url);
    if (target?.kind === 'rawsocket-unix' && value.tls !== undefined) p.add(`${path}.tls`, 'TLS is for TCP; a Unix socket is protected by file permissions');
  }
  if (typeof value.realm !== 'string' || !isValidUri(value.realm, 'loose')) p.add(`${path}.realm`, 'must be the cloud realm, e.g. "cloud"');
  oneOf(p, value.serializer, `${path}.serializer`, serializerNames);
  if (value.localRealm !== undefined && (typeof value.localRealm !== 'string' || !isValidUri(value.localRealm, 'loose')))
    p.add(`${path}.localRealm`, 'must be a realm name of this gateway');
  str(p, value.localAuthrole, `${path}.localAuthrole`, 'a role name');
  if (value.gatewayId !== undefined && (typeof value.gatewayId !== 'string' || !isValidUri(value.gatewayId, 'loose') || value.gatewayId.includes('.'))) {
    p.add(`${path}.gatewayId`, 'must be one URI component (no dots, no spaces), e.g. "gw1"');
  }
  for (const k of ['connectTimeoutMs', 'statsIntervalMs', 'maxMessageBytes'] as const) int(p, value[k], `${path}.${k}`, k === 'statsIntervalMs' ? 0 : 1);
  int(p, value.offlineCallTimeoutMs, `${path}.offlineCallTimeoutMs`, 0);

  if (value.auth !== undefined) {
    const a = value.auth;
    if (!isObj(a)) p.add(`${path}.auth`, 'must be an object like { "authid": "gw1", "authmethods": ["ticket"], "ticket": { "env": "UPLINK_TICKET" } }');
    else {
      keys(p, a, authKeys, `${path}.auth`);
      str(p, a.authid, `${path}.auth.authid`, 'a non-empty string');
      if (a.authmethods !== undefined) {
        if (!Array.isArray(a.authmethods) || a.authmethods.length === 0)
          p.add(`${path}.auth.authmethods`, `must be a non-empty list of ${UplinkAuthMethods.join(', ')}`);
        else a.authmethods.forEach((m, i) => oneOf(p, m, `${path}.auth.authmethods[${i}]`, UplinkAuthMethods));
      }
      const methods = Array.isArray(a.authmethods) ? (a.authmethods as unknown[]) : [];
      const need = { ticket: 'ticket', wampcra: 'secret', cryptosign: 'cryptosignKey' } as const;
      for (const [method, field] of Object.entries(need)) {
        if (methods.includes(method) && a[field] === undefined) p.add(`${path}.auth.${field}`, `is required for authmethod "${method}"`);
      }
      if (methods.includes('wampcra') && a.authid === undefined) p.add(`${path}.auth.authid`, 'is required for authmethod "wampcra"');
      secretOk(p, a.ticket, `${path}.auth.ticket`);
      secretOk(p, a.secret, `${path}.auth.secret`);
      secretOk(p, a.cryptosignKey, `${path}.auth.cryptosignKey`);
      if (a.authextra !== undefined && !isObj(a.authextra)) p.add(`${path}.auth.authextra`, 'must be an object');
    }
  }
  if (value.tls !== undefined) {
    if (!isObj(value.tls)) p.add(`${path}.tls`, 'must be an object like { "ca": "/etc/wampgate/cloud-ca.pem" }');
    else {
      keys(p, value.tls, tlsKeys, `${path}.tls`);
      for (const k of tlsKeys) str(p, value.tls[k], `${path}.tls.${k}`, k === 'servername' ? 'a host name' : 'a PEM file path');
      if ((value.tls.cert === undefined) !== (value.tls.key === undefined)) p.add(`${path}.tls`, 'give both cert and key (a client certificate), or neither');
    }
  }
  for (const section of ['reconnect', 'keepalive'] as const) {
    const s = value[section];
    if (s === undefined) continue;
    if (!isObj(s)) {
      p.add(`${path}.${section}`, 'must be an object');
      continue;
    }
    const allowed = section === 'reconnect' ? ['initialDelayMs', 'maxDelayMs', 'jitter', 'healthyAfterMs'] : ['intervalMs', 'timeoutMs'];
    keys(p, s, allowed, `${path}.${section}`);
    for (const k of allowed)
      if (k !== 'jitter') int(p, s[k], `${path}.${section}.${k}`, (section === 'keepalive' && k === 'intervalMs') || k === 'healthyAfterMs' ? 0 : 1);
    if (section === 'reconnect') {
      if (s.jitter !== undefined && (typeof s.jitter !== 'number' || s.jitter < 0 || s.jitter > 1))
        p.add(`${path}.reconnect.jitter`, 'must be a number from 0 to 1');
      if (typeof s.initialDelayMs === 'number' && typeof s.maxDelayMs === 'number' && s.maxDelayMs < s.initialDelayMs)
        p.add(`${path}.reconnect.maxDelayMs`, 'must be ≥ initialDelayMs');
    }
  }
  if (value.buffer !== undefined) {
    const b = value.buffer;
    if (!isObj(b)) p.add(`${path}.buffer`, 'must be an object');
    else {
      keys(p, b, bufferKeys, `${path}.buffer`);
      oneOf(p, b.storage, `${path}.buffer.storage`, ['sqlite', 'memory']);
      str(p, b.path, `${path}.buffer.path`, 'a file path');
      for (const k of ['maxCount', 'maxBytes', 'inflightWindow', 'maxBatch', 'expireIntervalMs', 'maxAttempts', 'maxDeadLetters'] as const)
        int(p, b[k], `${path}.buffer.${k}`, 1);
      for (const k of ['maxAgeMs', 'replayRatePerSecond'] as const) int(p, b[k], `${path}.buffer.${k}`, 0);
      int(p, b.maxFileBytes, `${path}.buffer.maxFileBytes`, 64 * 1024);
      oneOf(p, b.durability, `${path}.buffer.durability`, SqliteDurabilities);
      oneOf(p, b.dropPolicy, `${path}.buffer.dropPolicy`, DropPolicies);
    }
  }

  if (value.forward !== undefined && !Array.isArray(value.forward)) p.add(`${path}.forward`, 'must be a list of forwarding rules');
  const rules = Array.isArray(value.forward) ? value.forward : [];
  const names = new Set<string>();
  const claimed = new Map<string, string>(); // "type direction side uri match" -> rule name: one session cannot subscribe/register the same thing twice
  rules.forEach((r, i) => {
    const rp = `${path}.forward[${i}]`;
    if (!isObj(r))
      return p.add(
        rp,
        'must be an object like { "name": "sensors-up", "direction": "up", "type": "event", "local": "sensors.", "remote": "site.{gatewayId}.sensors." }',
      );
    keys(p, r, ruleKeys, rp);
    if (typeof r.name !== 'string' || r.name.length === 0) p.add(`${rp}.name`, 'must be a non-empty string');
    else if (names.has(r.name)) p.add(`${rp}.name`, `duplicate rule name "${r.name}"`);
    else names.add(r.name);
    oneOf(p, r.direction, `${rp}.direction`, ForwardDirections);
    oneOf(p, r.type, `${rp}.type`, ForwardTypes);
    oneOf(p, r.match, `${rp}.match`, ['exact', 'prefix', 'wildcard']);
    const match = defaultMatch(r);
    for (const side of ['local', 'remote'] as const) {
      const uri = r[side];
      const probe = typeof uri === 'string' ? expandGatewayId(uri, 'gw') : uri;
      if (typeof probe !== 'string' || !isValidPattern(probe, match, 'loose'))
        p.add(`${rp}.${side}`, `must be a URI valid for match "${match}"${match === 'prefix' ? ' (e.g. "sensors.")' : ''}`);
      else if (probe.startsWith('wamp.')) p.add(`${rp}.${side}`, 'wamp.* URIs belong to the router and are not forwarded');
    }
    if (typeof r.local === 'string' && typeof r.remote === 'string' && match === 'wildcard' && !rewritable({ from: r.local, to: r.remote, match })) {
      p.add(`${rp}.remote`, 'must have as many empty (wildcard) components as local');
    }
    if (match === 'prefix' && typeof r.local === 'string' && typeof r.remote === 'string' && r.local.endsWith('.') !== r.remote.endsWith('.')) {
      p.add(`${rp}.remote`, 'with match "prefix", local and remote must both end with "." or neither');
    }
    int(p, r.priority, `${rp}.priority`, -1_000_000);
    oneOf(p, r.dropPolicy, `${rp}.dropPolicy`, DropPolicies);
    int(p, r.offlineCallTimeoutMs, `${rp}.offlineCallTimeoutMs`, 0);
    const upEvent = r.direction === 'up' && r.type === 'event';
    if (!upEvent && (r.priority !== undefined || r.dropPolicy !== undefined))
      p.add(rp, 'priority and dropPolicy apply to upward event rules only (only those are buffered)');
    if (r.offlineCallTimeoutMs !== undefined && !(r.direction === 'down' && r.type === 'procedure'))
      p.add(`${rp}.offlineCallTimeoutMs`, 'applies to downward procedure rules only');
    // The side the uplink subscribes or registers on; the same one twice would shadow a rule.
    const listensLocally = (r.direction === 'up' && r.type === 'event') || (r.direction === 'down' && r.type === 'procedure');
    const side = listensLocally ? 'local' : 'remote';
    const key = `${String(r.type)} ${side} ${String(r[side])} ${match}`;
    const other = claimed.get(key);
    if (other !== undefined && typeof r.name === 'string')
      p.add(`${rp}.${side}`, `rule "${other}" already ${r.type === 'event' ? 'subscribes to' : 'registers'} this ${side} URI`);
    else if (typeof r.name === 'string') claimed.set(key, r.name);
  });
  return p.problems;
}

/** Completes a validated section. `defaults` come from the rest of the gateway config. */
export function resolveUplinkConfig(
  raw: UplinkConfig,
  defaults: { dataDir: string; firstRealm: string; maxMessageBytes: number; hostname: string },
): ResolvedUplinkConfig {
  const d = uplinkDefaults;
  const b = raw.buffer ?? {};
  const gatewayId = raw.gatewayId ?? defaults.hostname.split('.')[0]?.replace(/[^\w-]/g, '_') ?? 'gateway';
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
