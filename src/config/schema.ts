// Validates a parsed config file and completes it with defaults. Reports every problem with its
// path (e.g. "listeners[1].port: must be an integer from 0 to 65535") instead of stopping at the
// first, and rejects unknown keys so a typo never silently falls back to a default.

import { isValidUri } from '../protocol/uri';
import { serializerNames } from '../serializers';
import { isLoopbackListener } from '../util/loopback';
import { defaultConfig, defaultLimits } from './defaults';
import { ProblemList, type ConfigProblem } from './problem';
import type { GatewayConfig, LimitsConfig, ListenerConfig, RealmConfig } from './types';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Validators of sections owned by other modules (auth, bridges, uplink …), plugged in by the gateway. */
export interface SectionValidators {
  listenerAuth?: (value: unknown, path: string, loopback: boolean) => ConfigProblem[];
  realmRoles?: (value: unknown, path: string) => ConfigProblem[];
  realmAuthorizer?: (value: unknown, path: string) => ConfigProblem[];
  /** Cross-section check once listeners and realms are valid: e.g. remote anonymous access to an allow-all realm. */
  listenerExposure?: (auth: unknown, path: string, loopback: boolean, realms: readonly RealmConfig[]) => ConfigProblem[];
  bridges?: (value: unknown, path: string, realms: readonly string[]) => ConfigProblem[];
  uplink?: (value: unknown, path: string) => ConfigProblem[];
  status?: (value: unknown, path: string) => ConfigProblem[];
  health?: (value: unknown, path: string) => ConfigProblem[];
  realmHistory?: (value: unknown, path: string) => ConfigProblem[];
  history?: (value: unknown, path: string) => ConfigProblem[];
  admin?: (value: unknown, path: string) => ConfigProblem[];
}

const topKeys = ['$schema', 'realms', 'listeners', 'limits', 'log', 'bridges', 'uplink', 'status', 'health', 'history', 'admin', 'dataDir'];
const listenerKeys = ['name', 'type', 'host', 'port', 'unixPath', 'path', 'serializers', 'tls', 'maxConnections', 'auth'];
const realmKeys = ['name', 'uriCheck', 'maxRetainedTopics', 'roles', 'authorizer', 'history'];
const tlsKeys = ['cert', 'key', 'ca', 'requestClientCert'];

function unknownKeys(p: ProblemList, obj: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k)) p.add(path ? `${path}.${k}` : k, `unknown key (allowed: ${allowed.filter((a) => a !== '$schema').join(', ')})`);
}

function positiveInt(p: ProblemList, v: unknown, path: string, min = 1): v is number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min) return true;
  p.add(path, `must be an integer ≥ ${min}`);
  return false;
}

export function validateConfig(raw: unknown, validators: SectionValidators = {}): { config?: GatewayConfig; problems: ConfigProblem[] } {
  const p = new ProblemList();
  if (!isObj(raw)) {
    p.add('(top)', 'the config must be a JSON object');
    return { problems: p.problems };
  }
  unknownKeys(p, raw, topKeys, '');
  const defaults = defaultConfig();

  // realms
  const realms: RealmConfig[] = [];
  if (raw.realms === undefined) realms.push(...defaults.realms);
  else if (!Array.isArray(raw.realms) || raw.realms.length === 0) p.add('realms', 'must be a non-empty list of realms');
  else {
    const seen = new Set<string>();
    raw.realms.forEach((r, i) => {
      const path = `realms[${i}]`;
      if (!isObj(r)) return p.add(path, 'must be an object like { "name": "realm1" }');
      unknownKeys(p, r, realmKeys, path);
      if (typeof r.name !== 'string' || !isValidUri(r.name, 'loose')) p.add(`${path}.name`, 'must be a realm URI such as "realm1"');
      else if (seen.has(r.name)) p.add(`${path}.name`, `duplicate realm "${r.name}"`);
      else seen.add(r.name);
      if (r.uriCheck !== undefined && r.uriCheck !== 'loose' && r.uriCheck !== 'strict') p.add(`${path}.uriCheck`, 'must be "loose" or "strict"');
      if (r.maxRetainedTopics !== undefined) positiveInt(p, r.maxRetainedTopics, `${path}.maxRetainedTopics`, 0);
      if (r.roles !== undefined) {
        if (validators.realmRoles) for (const q of validators.realmRoles(r.roles, `${path}.roles`)) p.add(q.path, q.message);
        else p.add(`${path}.roles`, 'roles are not supported by this build');
      }
      if (r.authorizer !== undefined) {
        if (validators.realmAuthorizer) for (const q of validators.realmAuthorizer(r.authorizer, `${path}.authorizer`)) p.add(q.path, q.message);
        else p.add(`${path}.authorizer`, 'dynamic authorizers are not supported by this build');
      }
      if (r.history !== undefined) {
        if (validators.realmHistory) for (const q of validators.realmHistory(r.history, `${path}.history`)) p.add(q.path, q.message);
        else p.add(`${path}.history`, 'event history is not supported by this build');
      }
      realms.push(r as unknown as RealmConfig);
    });
  }

  // listeners
  const listeners: ListenerConfig[] = [];
  const exposureChecks: Array<{ auth: unknown; path: string; loopback: boolean }> = [];
  if (raw.listeners === undefined) listeners.push(...defaults.listeners);
  else if (!Array.isArray(raw.listeners)) p.add('listeners', 'must be a list of listeners');
  else {
    const names = new Set<string>();
    const endpoints = new Set<string>();
    raw.listeners.forEach((l, i) => {
      const path = `listeners[${i}]`;
      if (!isObj(l)) return p.add(path, 'must be an object like { "name": "ws", "type": "websocket", "port": 8080 }');
      unknownKeys(p, l, listenerKeys, path);
      if (typeof l.name !== 'string' || l.name.length === 0) p.add(`${path}.name`, 'must be a non-empty string');
      else if (names.has(l.name)) p.add(`${path}.name`, `duplicate listener name "${l.name}"`);
      else names.add(l.name);
      if (l.type !== 'websocket' && l.type !== 'rawsocket') p.add(`${path}.type`, 'must be "websocket" or "rawsocket"');
      if (l.unixPath !== undefined) {
        if (l.type !== 'rawsocket') p.add(`${path}.unixPath`, 'only a rawsocket listener can use a Unix socket path');
        if (typeof l.unixPath !== 'string' || !l.unixPath.startsWith('/')) p.add(`${path}.unixPath`, 'must be an absolute path');
        if (l.port !== undefined || l.host !== undefined) p.add(path, 'give either unixPath or host/port, not both');
        if (l.tls !== undefined) p.add(`${path}.tls`, 'TLS is for TCP listeners; a Unix socket is protected by file permissions');
      } else {
        if (typeof l.port !== 'number' || !Number.isInteger(l.port) || l.port < 0 || l.port > 65535)
          p.add(`${path}.port`, 'must be an integer from 0 to 65535');
        if (l.host !== undefined && (typeof l.host !== 'string' || l.host.length === 0)) p.add(`${path}.host`, 'must be a host name or IP address');
        const key = `${String(l.host ?? '127.0.0.1')}:${String(l.port)}`;
        if (l.port !== 0 && endpoints.has(key)) p.add(`${path}.port`, `another listener already uses ${key}`);
        endpoints.add(key);
      }
      if (l.path !== undefined && (l.type !== 'websocket' || typeof l.path !== 'string' || !l.path.startsWith('/')))
        p.add(`${path}.path`, 'is the WebSocket URL path and must start with "/"');
      if (l.serializers !== undefined) {
        if (!Array.isArray(l.serializers) || l.serializers.length === 0)
          p.add(`${path}.serializers`, `must be a non-empty list of ${serializerNames.join(', ')}`);
        else
          l.serializers.forEach((s, j) => {
            if (typeof s !== 'string' || !serializerNames.includes(s as never))
              p.add(`${path}.serializers[${j}]`, `unknown serializer; use ${serializerNames.join(', ')}`);
          });
      }
      if (l.maxConnections !== undefined) positiveInt(p, l.maxConnections, `${path}.maxConnections`);
      if (l.tls !== undefined) {
        if (!isObj(l.tls)) p.add(`${path}.tls`, 'must be an object { "cert": path, "key": path }');
        else {
          unknownKeys(p, l.tls, tlsKeys, `${path}.tls`);
          if (typeof l.tls.cert !== 'string') p.add(`${path}.tls.cert`, 'must be the path of a PEM certificate');
          if (typeof l.tls.key !== 'string') p.add(`${path}.tls.key`, 'must be the path of a PEM private key');
          if (l.tls.ca !== undefined && typeof l.tls.ca !== 'string') p.add(`${path}.tls.ca`, 'must be the path of a PEM CA bundle');
        }
      }
      const loopback = isLoopbackListener(l as { unixPath?: string; host?: string });
      if (l.auth !== undefined) {
        if (validators.listenerAuth) {
          const found = validators.listenerAuth(l.auth, `${path}.auth`, loopback);
          for (const q of found) p.add(q.path, q.message);
          if (found.length === 0) exposureChecks.push({ auth: l.auth, path: `${path}.auth`, loopback });
        } else p.add(`${path}.auth`, 'authentication config is not supported by this build');
      } else if (!loopback) {
        p.add(
          `${path}.auth`,
          `listener on ${String(l.host)} is reachable from the network: configure "auth" (anonymous access is only allowed on loopback by default)`,
        );
      }
      listeners.push(l as unknown as ListenerConfig);
    });
  }

  // limits
  const limits: LimitsConfig = { ...defaultLimits };
  if (raw.limits !== undefined) {
    if (!isObj(raw.limits)) p.add('limits', 'must be an object');
    else {
      unknownKeys(p, raw.limits, Object.keys(defaultLimits), 'limits');
      for (const [k, v] of Object.entries(raw.limits)) {
        if (!(k in defaultLimits)) continue;
        if (k === 'slowConsumerPolicy') {
          if (v !== 'drop' && v !== 'disconnect') p.add('limits.slowConsumerPolicy', 'must be "drop" or "disconnect"');
          else limits.slowConsumerPolicy = v;
        } else if (positiveInt(p, v, `limits.${k}`, k === 'keepaliveIntervalMs' ? 0 : 1)) {
          (limits as unknown as Record<string, number>)[k] = v;
        }
      }
      if (limits.hardQueueBytes < limits.maxQueueBytes) p.add('limits.hardQueueBytes', 'must be ≥ limits.maxQueueBytes');
      // RawSocket cannot announce more than 2^24 bytes (spec: "RawSocket Transport"); a larger
      // limit applies to WebSocket, RawSocket stays at 2^24. 256 MiB keeps a typo from turning
      // the limit off on a 512 MB board.
      if (limits.hardMaxMessageBytes > 256 * 1024 * 1024) p.add('limits.hardMaxMessageBytes', 'must be ≤ 268435456 (256 MiB)');
      if (limits.maxMessageBytes > limits.hardMaxMessageBytes) p.add('limits.maxMessageBytes', 'must be ≤ limits.hardMaxMessageBytes');
      if (limits.preAuthMaxMessageBytes > limits.maxMessageBytes) p.add('limits.preAuthMaxMessageBytes', 'must be ≤ limits.maxMessageBytes');
      if (limits.preAuthBufferBytes > limits.inboundBufferBytes) p.add('limits.preAuthBufferBytes', 'must be ≤ limits.inboundBufferBytes');
      if (limits.maxPendingConnectionsPerAddress > limits.maxPendingConnections)
        p.add('limits.maxPendingConnectionsPerAddress', 'must be ≤ limits.maxPendingConnections');
    }
  }

  // log
  let level = defaults.log.level;
  if (raw.log !== undefined) {
    if (!isObj(raw.log)) p.add('log', 'must be an object like { "level": "info" }');
    else {
      unknownKeys(p, raw.log, ['level'], 'log');
      if (raw.log.level !== undefined) {
        if (raw.log.level === 'debug' || raw.log.level === 'info' || raw.log.level === 'warn' || raw.log.level === 'error') level = raw.log.level;
        else p.add('log.level', 'must be one of debug, info, warn, error');
      }
    }
  }

  if (raw.dataDir !== undefined && (typeof raw.dataDir !== 'string' || raw.dataDir.length === 0)) p.add('dataDir', 'must be a directory path');
  for (const section of ['bridges', 'uplink', 'status', 'health', 'history', 'admin'] as const) {
    if (raw[section] === undefined) continue;
    const validate = validators[section];
    const realmNames = realms.map((r) => r.name);
    if (!validate) p.add(section, `the ${section} section is not supported by this build`);
    else for (const q of validate(raw[section], section, realmNames)) p.add(q.path, q.message);
  }

  if (p.ok && validators.listenerExposure) {
    for (const e of exposureChecks) for (const q of validators.listenerExposure(e.auth, e.path, e.loopback, realms)) p.add(q.path, q.message);
  }

  if (!p.ok) return { problems: p.problems };
  const config: GatewayConfig = { realms, listeners, limits, log: { level } };
  for (const section of ['bridges', 'uplink', 'status', 'health', 'history', 'admin'] as const)
    if (raw[section] !== undefined) config[section] = raw[section] as Obj;
  if (typeof raw.dataDir === 'string') config.dataDir = raw.dataDir;
  return { config, problems: [] };
}
