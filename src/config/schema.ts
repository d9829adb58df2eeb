// Validates a parsed config file and completes it with defaults. Reports every problem with its
// path (e.g. "listeners[1].port: must be an integer from 0 to 65535") instead of stopping at the
// first, and rejects unknown keys so a typo never silently falls back to a default.

import { serializerNames } from '../serializers';
import { isLoopbackListener } from '../util/loopback';
import { defaultConfig, defaultLimits } from './defaults';
import type { ConfigProblem } from './problem';
import { ConfigSections, sectionContext, type ConfigSection } from './section';
import type { GatewayConfig, LimitsConfig, ListenerConfig, RealmConfig } from './types';
import { Check, isObject } from './validate';

/** Validators of config owned by other modules, plugged in by the wiring (cli/wiring.ts): auth's
 * parts of listeners and realms, and the parts' top-level sections. */
export interface ConfigPlugins {
  listenerAuth?: (value: unknown, path: string, loopback: boolean) => ConfigProblem[];
  realmRoles?: (value: unknown, path: string) => ConfigProblem[];
  realmAuthorizer?: (value: unknown, path: string) => ConfigProblem[];
  /** Cross-section check once listeners and realms are valid: e.g. remote anonymous access to an allow-all realm. */
  listenerExposure?: (auth: unknown, path: string, loopback: boolean, realms: readonly RealmConfig[]) => ConfigProblem[];
  realmHistory?: (value: unknown, path: string) => ConfigProblem[];
  /** The parts' sections (bridges, uplink, status, health …), each read with its own key. */
  sections?: ReadonlyArray<ConfigSection<unknown>>;
}

const coreKeys = ['$schema', 'realms', 'listeners', 'limits', 'log', 'dataDir'];
/** Sections this project's parts own: a build without one says so instead of "unknown key". */
const partKeys = ['bridges', 'uplink', 'status', 'health', 'history', 'admin'];
const listenerKeys = ['name', 'type', 'host', 'port', 'unixPath', 'path', 'serializers', 'tls', 'maxConnections', 'auth'];
const realmKeys = ['name', 'uriCheck', 'maxRetainedTopics', 'roles', 'authorizer', 'history'];
const tlsKeys = ['cert', 'key', 'ca', 'requestClientCert'];

/** Limits where 0 is a meaningful setting (off, or none reserved) rather than a mistake. */
const ZERO_MEANS_OFF = new Set(['keepaliveIntervalMs', 'knownAddressPendingReserve', 'knownAddressesMax']);

export function validateConfig(raw: unknown, plugins: ConfigPlugins = {}): { config?: GatewayConfig; problems: ConfigProblem[] } {
  const c = new Check();
  if (!isObject(raw)) {
    c.add('(top)', 'the config must be a JSON object');
    return { problems: c.problems };
  }
  const sections = plugins.sections ?? [];
  c.unknownKeys(raw, [...coreKeys, ...new Set([...partKeys, ...sections.map((s) => s.key)])], '');
  const defaults = defaultConfig();
  const realms = raw.realms === undefined ? defaults.realms : checkRealms(c, raw.realms, plugins);
  const exposureChecks: Array<{ auth: unknown; path: string; loopback: boolean }> = [];
  const listeners = raw.listeners === undefined ? defaults.listeners : checkListeners(c, raw.listeners, plugins, exposureChecks);
  const limits = checkLimits(c, raw.limits);
  let level = defaults.log.level;
  const log = c.object(raw.log, 'log', ['level'], { message: 'must be an object like { "level": "info" }' });
  if (log) level = c.oneOf(log.level, 'log.level', ['debug', 'info', 'warn', 'error'] as const) ?? level;
  const dataDir = c.string(raw.dataDir, 'dataDir', { message: 'must be a directory path' });

  const resolved = new ConfigSections();
  const ctx = sectionContext({ realms, limits, ...(dataDir !== undefined ? { dataDir } : {}) }, raw);
  for (const key of partKeys)
    if (raw[key] !== undefined && !sections.some((s) => s.key === key)) c.add(key, `the ${key} section is not supported by this build`);
  for (const section of sections) {
    resolved.set(section, section.read(raw[section.key], section.key, c, ctx), raw[section.key]);
  }

  if (c.ok && plugins.listenerExposure) {
    for (const e of exposureChecks) c.addAll(plugins.listenerExposure(e.auth, e.path, e.loopback, realms));
  }

  if (!c.ok) return { problems: c.problems };
  const config: GatewayConfig = { realms, listeners, limits, log: { level }, sections: resolved };
  if (dataDir !== undefined) config.dataDir = dataDir;
  return { config, problems: [] };
}

function checkRealms(c: Check, value: unknown, plugins: ConfigPlugins): RealmConfig[] {
  const realms: RealmConfig[] = [];
  const list = c.list(value, 'realms', { nonEmpty: true, message: 'must be a non-empty list of realms' });
  const seen = new Set<string>();
  list?.forEach((r, i) => {
    const path = `realms[${i}]`;
    if (!c.object(r, path, realmKeys, { required: true, message: 'must be an object like { "name": "realm1" }' }) || !isObject(r)) return;
    const name = c.uri(r.name, `${path}.name`, { required: true, message: 'must be a realm URI such as "realm1"' });
    if (name !== undefined && seen.has(name)) c.add(`${path}.name`, `duplicate realm "${name}"`);
    else if (name !== undefined) seen.add(name);
    c.oneOf(r.uriCheck, `${path}.uriCheck`, ['loose', 'strict'], { message: 'must be "loose" or "strict"' });
    c.int(r.maxRetainedTopics, `${path}.maxRetainedTopics`, { min: 0 });
    if (r.roles !== undefined) {
      if (plugins.realmRoles) c.addAll(plugins.realmRoles(r.roles, `${path}.roles`));
      else c.add(`${path}.roles`, 'roles are not supported by this build');
    }
    if (r.authorizer !== undefined) {
      if (plugins.realmAuthorizer) c.addAll(plugins.realmAuthorizer(r.authorizer, `${path}.authorizer`));
      else c.add(`${path}.authorizer`, 'dynamic authorizers are not supported by this build');
    }
    if (r.history !== undefined) {
      if (plugins.realmHistory) c.addAll(plugins.realmHistory(r.history, `${path}.history`));
      else c.add(`${path}.history`, 'event history is not supported by this build');
    }
    realms.push(r as unknown as RealmConfig);
  });
  return realms;
}

function checkListeners(
  c: Check,
  value: unknown,
  plugins: ConfigPlugins,
  exposureChecks: Array<{ auth: unknown; path: string; loopback: boolean }>,
): ListenerConfig[] {
  const listeners: ListenerConfig[] = [];
  const names = new Set<string>();
  const endpoints = new Set<string>();
  c.list(value, 'listeners', { message: 'must be a list of listeners' })?.forEach((l, i) => {
    const path = `listeners[${i}]`;
    if (
      !c.object(l, path, listenerKeys, { required: true, message: 'must be an object like { "name": "ws", "type": "websocket", "port": 8080 }' }) ||
      !isObject(l)
    )
      return;
    const name = c.string(l.name, `${path}.name`, { required: true, message: 'must be a non-empty string' });
    if (name !== undefined && names.has(name)) c.add(`${path}.name`, `duplicate listener name "${name}"`);
    else if (name !== undefined) names.add(name);
    c.oneOf(l.type, `${path}.type`, ['websocket', 'rawsocket'], { required: true, message: 'must be "websocket" or "rawsocket"' });
    if (l.unixPath !== undefined) {
      if (l.type !== 'rawsocket') c.add(`${path}.unixPath`, 'only a rawsocket listener can use a Unix socket path');
      if (typeof l.unixPath !== 'string' || !l.unixPath.startsWith('/')) c.add(`${path}.unixPath`, 'must be an absolute path');
      if (l.port !== undefined || l.host !== undefined) c.add(path, 'give either unixPath or host/port, not both');
      if (l.tls !== undefined) c.add(`${path}.tls`, 'TLS is for TCP listeners; a Unix socket is protected by file permissions');
    } else {
      c.int(l.port, `${path}.port`, { required: true, min: 0, max: 65535, message: 'must be an integer from 0 to 65535' });
      c.string(l.host, `${path}.host`, { message: 'must be a host name or IP address' });
      const key = `${String(l.host ?? '127.0.0.1')}:${String(l.port)}`;
      if (l.port !== 0 && endpoints.has(key)) c.add(`${path}.port`, `another listener already uses ${key}`);
      endpoints.add(key);
    }
    if (l.path !== undefined && (l.type !== 'websocket' || typeof l.path !== 'string' || !l.path.startsWith('/')))
      c.add(`${path}.path`, 'is the WebSocket URL path and must start with "/"');
    const known = serializerNames.join(', ');
    c.list(l.serializers, `${path}.serializers`, { nonEmpty: true, message: `must be a non-empty list of ${known}` })?.forEach((s, j) =>
      c.oneOf(s, `${path}.serializers[${j}]`, serializerNames, { message: `unknown serializer; use ${known}` }),
    );
    c.int(l.maxConnections, `${path}.maxConnections`, { min: 1 });
    const tls = c.object(l.tls, `${path}.tls`, tlsKeys, { message: 'must be an object { "cert": path, "key": path }' });
    if (tls) {
      c.string(tls.cert, `${path}.tls.cert`, { required: true, message: 'must be the path of a PEM certificate' });
      c.string(tls.key, `${path}.tls.key`, { required: true, message: 'must be the path of a PEM private key' });
      c.string(tls.ca, `${path}.tls.ca`, { message: 'must be the path of a PEM CA bundle' });
    }
    const loopback = isLoopbackListener(l as { unixPath?: string; host?: string });
    if (l.auth !== undefined) {
      if (plugins.listenerAuth) {
        const found = plugins.listenerAuth(l.auth, `${path}.auth`, loopback);
        c.addAll(found);
        if (found.length === 0) exposureChecks.push({ auth: l.auth, path: `${path}.auth`, loopback });
      } else c.add(`${path}.auth`, 'authentication config is not supported by this build');
    } else if (!loopback) {
      c.add(
        `${path}.auth`,
        `listener on ${String(l.host)} is reachable from the network: configure "auth" (anonymous access is only allowed on loopback by default)`,
      );
    }
    listeners.push(l as unknown as ListenerConfig);
  });
  return listeners;
}

function checkLimits(c: Check, value: unknown): LimitsConfig {
  const limits: LimitsConfig = { ...defaultLimits };
  const raw = c.object(value, 'limits', Object.keys(defaultLimits));
  if (!raw) return limits;
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in defaultLimits)) continue;
    if (k === 'slowConsumerPolicy') {
      limits.slowConsumerPolicy =
        c.oneOf(v, 'limits.slowConsumerPolicy', ['drop', 'disconnect'], { message: 'must be "drop" or "disconnect"' }) ?? limits.slowConsumerPolicy;
    } else {
      const n = c.int(v, `limits.${k}`, { min: ZERO_MEANS_OFF.has(k) ? 0 : 1 });
      if (n !== undefined) (limits as unknown as Record<string, number>)[k] = n;
    }
  }
  if (limits.hardQueueBytes < limits.maxQueueBytes) c.add('limits.hardQueueBytes', 'must be ≥ limits.maxQueueBytes');
  // RawSocket cannot announce more than 2^24 bytes (spec: "RawSocket Transport"); a larger
  // limit applies to WebSocket, RawSocket stays at 2^24. 256 MiB keeps a typo from turning
  // the limit off on a 512 MB board.
  if (limits.hardMaxMessageBytes > 256 * 1024 * 1024) c.add('limits.hardMaxMessageBytes', 'must be ≤ 268435456 (256 MiB)');
  if (limits.maxMessageBytes > limits.hardMaxMessageBytes) c.add('limits.maxMessageBytes', 'must be ≤ limits.hardMaxMessageBytes');
  if (limits.preAuthMaxMessageBytes > limits.maxMessageBytes) c.add('limits.preAuthMaxMessageBytes', 'must be ≤ limits.maxMessageBytes');
  if (limits.preAuthBufferBytes > limits.inboundBufferBytes) c.add('limits.preAuthBufferBytes', 'must be ≤ limits.inboundBufferBytes');
  if (limits.maxPendingConnectionsPerAddress > limits.maxPendingConnections)
    c.add('limits.maxPendingConnectionsPerAddress', 'must be ≤ limits.maxPendingConnections');
  return limits;
}
