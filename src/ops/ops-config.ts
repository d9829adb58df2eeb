// Owns the ops part's two config sections, `status` (the loopback status listener and its
// sampling) and `health` (the board health published over WAMP): validating each with paths, and
// completing them with defaults once. Does not own what runs from them (ops-part.ts).

import type { ConfigProblem } from '../config/problem';
import type { GatewayConfig } from '../config/types';
import { isValidUri } from '../protocol/uri';
import { isLoopbackHost } from '../util/loopback';
import { DEFAULT_STEP_MS } from './series';

export const DEFAULT_STATUS_HOST = '127.0.0.1';
export const DEFAULT_STATUS_PORT = 8089;

export interface StatusSettings {
  enabled: boolean;
  host: string;
  port: number;
  allowRemote: boolean;
  /** How often the page's last-hour series are sampled. */
  sampleIntervalMs: number;
}

export interface HealthSettings {
  enabled: boolean;
  intervalMs: number;
  topic: string;
  /** Undefined only when the config has no realm at all (the schema forbids that). */
  realm: string | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function unknownKeys(obj: Obj, allowed: readonly string[], path: string, out: ConfigProblem[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) out.push({ path: `${path}.${k}`, message: `unknown key (allowed: ${allowed.join(', ')})` });
}

const STATUS_KEYS = ['enabled', 'host', 'port', 'allowRemote', 'sampleIntervalMs'] as const;
const HEALTH_KEYS = ['enabled', 'intervalMs', 'topic', 'realm'] as const;

/** The `status` section: every problem, each with its path. */
export function validateStatus(value: unknown, path: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isObj(value)) return [{ path, message: 'must be an object like { "enabled": true, "host": "127.0.0.1", "port": 8089 }' }];
  unknownKeys(value, STATUS_KEYS, path, out);
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') out.push({ path: `${path}.enabled`, message: 'must be true or false' });
  if (value.allowRemote !== undefined && typeof value.allowRemote !== 'boolean') out.push({ path: `${path}.allowRemote`, message: 'must be true or false' });
  if (value.port !== undefined && (typeof value.port !== 'number' || !Number.isInteger(value.port) || value.port < 0 || value.port > 65535)) {
    out.push({ path: `${path}.port`, message: 'must be an integer from 0 to 65535' });
  }
  if (
    value.sampleIntervalMs !== undefined &&
    (typeof value.sampleIntervalMs !== 'number' ||
      !Number.isInteger(value.sampleIntervalMs) ||
      value.sampleIntervalMs < 1000 ||
      value.sampleIntervalMs > 60_000)
  ) {
    // The rings hold one hour: 1 s is 3,601 points per series, 60 s still shows an hour's shape.
    out.push({ path: `${path}.sampleIntervalMs`, message: 'must be an integer from 1000 to 60000 (milliseconds)' });
  }
  if (value.host !== undefined) {
    if (typeof value.host !== 'string' || value.host.length === 0) out.push({ path: `${path}.host`, message: 'must be a host name or IP address' });
    else if (!isLoopbackHost(value.host) && value.allowRemote !== true && value.enabled !== false) {
      // The page has no authentication and shows authids and peer addresses: opt in explicitly.
      out.push({
        path: `${path}.host`,
        message: `"${value.host}" is reachable from the network and the status page has no authentication; set "allowRemote": true to allow it, or use 127.0.0.1 and an SSH tunnel`,
      });
    }
  }
  return out;
}

/** The `health` section: every problem, each with its path. Whether `realm` exists is checked at start. */
export function validateHealth(value: unknown, path: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (!isObj(value)) return [{ path, message: 'must be an object like { "intervalMs": 10000, "topic": "wampgate.health" }' }];
  unknownKeys(value, HEALTH_KEYS, path, out);
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') out.push({ path: `${path}.enabled`, message: 'must be true or false' });
  if (value.intervalMs !== undefined && (typeof value.intervalMs !== 'number' || !Number.isInteger(value.intervalMs) || value.intervalMs < 1000)) {
    // Below a second the polls themselves become a measurable load on a Pi Zero.
    out.push({ path: `${path}.intervalMs`, message: 'must be an integer ≥ 1000 (milliseconds)' });
  }
  if (value.topic !== undefined && (typeof value.topic !== 'string' || !isValidUri(value.topic, 'strict'))) {
    out.push({ path: `${path}.topic`, message: 'must be a topic URI such as "wampgate.health"' });
  }
  if (value.realm !== undefined && (typeof value.realm !== 'string' || !isValidUri(value.realm, 'loose'))) {
    out.push({ path: `${path}.realm`, message: 'must be the name of a configured realm' });
  }
  return out;
}

/** The validated sections completed with defaults. Sections are optional: defaults are "on". */
export function opsSettings(config: GatewayConfig): { status: StatusSettings; health: HealthSettings } {
  const h = config.health ?? {};
  return {
    status: statusSettings(config.status),
    health: {
      enabled: h.enabled !== false,
      intervalMs: typeof h.intervalMs === 'number' ? h.intervalMs : 10_000,
      topic: typeof h.topic === 'string' ? h.topic : 'wampgate.health',
      realm: typeof h.realm === 'string' ? h.realm : config.realms[0]?.name,
    },
  };
}

/** A validated `status` section (or none) completed with defaults. */
export function statusSettings(section: Record<string, unknown> | undefined): StatusSettings {
  const s = section ?? {};
  return {
    enabled: s.enabled !== false,
    host: typeof s.host === 'string' ? s.host : DEFAULT_STATUS_HOST,
    port: typeof s.port === 'number' ? s.port : DEFAULT_STATUS_PORT,
    allowRemote: s.allowRemote === true,
    sampleIntervalMs: typeof s.sampleIntervalMs === 'number' ? s.sampleIntervalMs : DEFAULT_STEP_MS,
  };
}

/** Where `wampgate status` finds the listener: a wildcard bind is reached on loopback. */
export function statusUrl(settings: Pick<StatusSettings, 'host' | 'port'>, port = settings.port): string {
  let host = settings.host;
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}
