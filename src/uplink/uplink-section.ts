// The `uplink` config section: checks it with every problem's path (DESIGN §3), then hands the
// valid section to resolveUplinkConfig (uplink-config.ts), which applies the defaults once.

import { hostname } from 'node:os';
import { resolveSecret, type SecretSource } from '../config/secrets';
import type { ConfigProblem } from '../config/problem';
import { Check, isObject } from '../config/validate';
import type { ConfigSection } from '../config/section';
import { isValidPattern, isValidUri } from '../protocol/uri';
import { serializerNames } from '../serializers';
import { DropPolicies } from './outbox';
import { SqliteDurabilities } from './sqlite-settings';
import {
  defaultMatch,
  ForwardDirections,
  ForwardOrders,
  ForwardTypes,
  resolveUplinkConfig,
  UplinkAuthMethods,
  type ResolvedUplinkConfig,
  type UplinkConfig,
} from './uplink-config';
import { parseUplinkUrl } from './uplink-url';
import { expandGatewayId, rewritable } from './uri-rewrite';

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
const ruleKeys = ['name', 'direction', 'type', 'local', 'remote', 'match', 'priority', 'dropPolicy', 'order', 'offlineCallTimeoutMs'];
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

function secretOk(p: Check, v: unknown, path: string): void {
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
  const p = new Check();
  if (!isObject(value)) {
    p.add(path, 'must be an object like { "url": "ws://cloud:8080/ws", "realm": "cloud", "forward": [...] }');
    return p.problems;
  }
  p.unknownKeys(value, topKeys, path);
  if (typeof value.url !== 'string' || parseUplinkUrl(value.url) === null) {
    p.add(`${path}.url`, 'must be ws://host:port/path, wss://…, rawsocket://host:port, rawsocket+tls://host:port or rawsocket+unix:///path');
  } else {
    const target = parseUplinkUrl(value.url);
    if (target?.kind === 'rawsocket-unix' && value.tls !== undefined) p.add(`${path}.tls`, 'TLS is for TCP; a Unix socket is protected by file permissions');
  }
  if (typeof value.realm !== 'string' || !isValidUri(value.realm, 'loose')) p.add(`${path}.realm`, 'must be the cloud realm, e.g. "cloud"');
  p.oneOf(value.serializer, `${path}.serializer`, serializerNames);
  if (value.localRealm !== undefined && (typeof value.localRealm !== 'string' || !isValidUri(value.localRealm, 'loose')))
    p.add(`${path}.localRealm`, 'must be a realm name of this gateway');
  p.string(value.localAuthrole, `${path}.localAuthrole`, { message: 'must be a role name' });
  if (value.gatewayId !== undefined && (typeof value.gatewayId !== 'string' || !isValidUri(value.gatewayId, 'loose') || value.gatewayId.includes('.'))) {
    p.add(`${path}.gatewayId`, 'must be one URI component (no dots, no spaces), e.g. "gw1"');
  }
  for (const k of ['connectTimeoutMs', 'statsIntervalMs', 'maxMessageBytes'] as const)
    p.int(value[k], `${path}.${k}`, { min: k === 'statsIntervalMs' ? 0 : 1 });
  p.int(value.offlineCallTimeoutMs, `${path}.offlineCallTimeoutMs`, { min: 0 });

  if (value.auth !== undefined) {
    const a = value.auth;
    if (!isObject(a)) p.add(`${path}.auth`, 'must be an object like { "authid": "gw1", "authmethods": ["ticket"], "ticket": { "env": "UPLINK_TICKET" } }');
    else {
      p.unknownKeys(a, authKeys, `${path}.auth`);
      p.string(a.authid, `${path}.auth.authid`, { message: 'must be a non-empty string' });
      if (a.authmethods !== undefined) {
        if (!Array.isArray(a.authmethods) || a.authmethods.length === 0)
          p.add(`${path}.auth.authmethods`, `must be a non-empty list of ${UplinkAuthMethods.join(', ')}`);
        else a.authmethods.forEach((m, i) => p.oneOf(m, `${path}.auth.authmethods[${i}]`, UplinkAuthMethods));
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
      if (a.authextra !== undefined && !isObject(a.authextra)) p.add(`${path}.auth.authextra`, 'must be an object');
    }
  }
  if (value.tls !== undefined) {
    if (!isObject(value.tls)) p.add(`${path}.tls`, 'must be an object like { "ca": "/etc/wampgate/cloud-ca.pem" }');
    else {
      p.unknownKeys(value.tls, tlsKeys, `${path}.tls`);
      for (const k of tlsKeys) p.string(value.tls[k], `${path}.tls.${k}`, { message: `must be ${k === 'servername' ? 'a host name' : 'a PEM file path'}` });
      if ((value.tls.cert === undefined) !== (value.tls.key === undefined)) p.add(`${path}.tls`, 'give both cert and key (a client certificate), or neither');
    }
  }
  for (const section of ['reconnect', 'keepalive'] as const) {
    const s = value[section];
    if (s === undefined) continue;
    if (!isObject(s)) {
      p.add(`${path}.${section}`, 'must be an object');
      continue;
    }
    const allowed = section === 'reconnect' ? ['initialDelayMs', 'maxDelayMs', 'jitter', 'healthyAfterMs'] : ['intervalMs', 'timeoutMs'];
    p.unknownKeys(s, allowed, `${path}.${section}`);
    for (const k of allowed)
      if (k !== 'jitter') p.int(s[k], `${path}.${section}.${k}`, { min: (section === 'keepalive' && k === 'intervalMs') || k === 'healthyAfterMs' ? 0 : 1 });
    if (section === 'reconnect') {
      if (s.jitter !== undefined && (typeof s.jitter !== 'number' || s.jitter < 0 || s.jitter > 1))
        p.add(`${path}.reconnect.jitter`, 'must be a number from 0 to 1');
      if (typeof s.initialDelayMs === 'number' && typeof s.maxDelayMs === 'number' && s.maxDelayMs < s.initialDelayMs)
        p.add(`${path}.reconnect.maxDelayMs`, 'must be ≥ initialDelayMs');
    }
  }
  if (value.buffer !== undefined) {
    const b = value.buffer;
    if (!isObject(b)) p.add(`${path}.buffer`, 'must be an object');
    else {
      p.unknownKeys(b, bufferKeys, `${path}.buffer`);
      p.oneOf(b.storage, `${path}.buffer.storage`, ['sqlite', 'memory']);
      p.string(b.path, `${path}.buffer.path`, { message: 'must be a file path' });
      for (const k of ['maxCount', 'maxBytes', 'inflightWindow', 'maxBatch', 'expireIntervalMs', 'maxAttempts', 'maxDeadLetters'] as const)
        p.int(b[k], `${path}.buffer.${k}`, { min: 1 });
      for (const k of ['maxAgeMs', 'replayRatePerSecond'] as const) p.int(b[k], `${path}.buffer.${k}`, { min: 0 });
      p.int(b.maxFileBytes, `${path}.buffer.maxFileBytes`, { min: 64 * 1024 });
      p.oneOf(b.durability, `${path}.buffer.durability`, SqliteDurabilities);
      p.oneOf(b.dropPolicy, `${path}.buffer.dropPolicy`, DropPolicies);
    }
  }

  if (value.forward !== undefined && !Array.isArray(value.forward)) p.add(`${path}.forward`, 'must be a list of forwarding rules');
  const rules = Array.isArray(value.forward) ? value.forward : [];
  const names = new Set<string>();
  const claimed = new Map<string, string>(); // "type direction side uri match" -> rule name: one session cannot subscribe/register the same thing twice
  rules.forEach((r, i) => {
    const rp = `${path}.forward[${i}]`;
    if (!isObject(r))
      return p.add(
        rp,
        'must be an object like { "name": "sensors-up", "direction": "up", "type": "event", "local": "sensors.", "remote": "site.{gatewayId}.sensors." }',
      );
    p.unknownKeys(r, ruleKeys, rp);
    if (typeof r.name !== 'string' || r.name.length === 0) p.add(`${rp}.name`, 'must be a non-empty string');
    else if (names.has(r.name)) p.add(`${rp}.name`, `duplicate rule name "${r.name}"`);
    else names.add(r.name);
    p.oneOf(r.direction, `${rp}.direction`, ForwardDirections);
    p.oneOf(r.type, `${rp}.type`, ForwardTypes);
    p.oneOf(r.match, `${rp}.match`, ['exact', 'prefix', 'wildcard']);
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
    p.int(r.priority, `${rp}.priority`, { min: -1_000_000 });
    p.oneOf(r.dropPolicy, `${rp}.dropPolicy`, DropPolicies);
    p.oneOf(r.order, `${rp}.order`, ForwardOrders);
    p.int(r.offlineCallTimeoutMs, `${rp}.offlineCallTimeoutMs`, { min: 0 });
    const upEvent = r.direction === 'up' && r.type === 'event';
    if (!upEvent && (r.priority !== undefined || r.dropPolicy !== undefined || r.order !== undefined))
      p.add(rp, 'priority, dropPolicy and order apply to upward event rules only (only those are buffered)');
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

/** The `uplink` section: absent = no uplink; present = validated and resolved against the gateway's realms, limits and dataDir. */
export const uplinkSection: ConfigSection<ResolvedUplinkConfig> = {
  key: 'uplink',
  read(raw, path, c, ctx) {
    if (raw === undefined) return undefined;
    const before = c.problems.length;
    c.addAll(validateUplink(raw, path));
    if (c.problems.length > before) return undefined;
    const config = resolveUplinkConfig(raw as UplinkConfig, {
      dataDir: ctx.dataDir,
      firstRealm: ctx.realms[0] ?? 'realm1',
      maxMessageBytes: ctx.limits.maxMessageBytes,
      hostname: hostname(),
    });
    if (!ctx.realms.includes(config.localRealm)) c.add(`${path}.localRealm`, `the gateway has no realm "${config.localRealm}"`);
    return config;
  },
};
