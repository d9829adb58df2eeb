// The ops part's two config sections, `status` (the loopback status page) and `health` (the
// health topic): validated with paths, defaults resolved once, typed. Both are optional and
// default to on. What the values do is ops-part.ts's business.

import { defaultLimits } from '../config/defaults';
import { problemsOf, sectionOf, type ConfigSection } from '../config/section';
import type { GatewayConfig } from '../config/types';
import { Check } from '../config/validate';
import { isLoopbackHost } from '../util/loopback';
import { DEFAULT_STEP_MS } from './series';

export const DEFAULT_STATUS_HOST = '127.0.0.1';
export const DEFAULT_STATUS_PORT = 8089;
/** Health is sampled every 10 s: cheap on a Pi Zero, and a problem shows within one status-page refresh. */
export const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
const DEFAULT_HEALTH_TOPIC = 'wampgate.health';

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

export const statusSection: ConfigSection<StatusSettings> = {
  key: 'status',
  read(raw, path, c) {
    const s =
      raw === undefined
        ? {}
        : c.object(raw, path, ['enabled', 'host', 'port', 'allowRemote', 'sampleIntervalMs'], {
            message: 'must be an object like { "enabled": true, "host": "127.0.0.1", "port": 8089 }',
          });
    if (!s) return undefined;
    const enabled = c.bool(s.enabled, `${path}.enabled`) ?? true;
    const allowRemote = c.bool(s.allowRemote, `${path}.allowRemote`) ?? false;
    const port = c.int(s.port, `${path}.port`, { min: 0, max: 65535 }) ?? DEFAULT_STATUS_PORT;
    // The rings hold one hour: 1 s is 3,601 points per series, 60 s still shows an hour's shape.
    const sampleIntervalMs =
      c.int(s.sampleIntervalMs, `${path}.sampleIntervalMs`, { min: 1000, max: 60_000, message: 'must be an integer from 1000 to 60000 (milliseconds)' }) ??
      DEFAULT_STEP_MS;
    const host = c.string(s.host, `${path}.host`, { message: 'must be a host name or IP address' }) ?? DEFAULT_STATUS_HOST;
    if (!isLoopbackHost(host) && s.allowRemote !== true && s.enabled !== false) {
      // The page has no authentication and shows authids and peer addresses: opt in explicitly.
      c.add(
        `${path}.host`,
        `"${host}" is reachable from the network and the status page has no authentication; set "allowRemote": true to allow it, or use 127.0.0.1 and an SSH tunnel`,
      );
    }
    return { enabled, host, port, allowRemote, sampleIntervalMs };
  },
};

export const healthSection: ConfigSection<HealthSettings> = {
  key: 'health',
  read(raw, path, c, ctx) {
    const h =
      raw === undefined
        ? {}
        : c.object(raw, path, ['enabled', 'intervalMs', 'topic', 'realm'], {
            message: 'must be an object like { "intervalMs": 10000, "topic": "wampgate.health" }',
          });
    if (!h) return undefined;
    const enabled = c.bool(h.enabled, `${path}.enabled`) ?? true;
    // Below a second the polls themselves become a measurable load on a Pi Zero.
    const intervalMs =
      c.int(h.intervalMs, `${path}.intervalMs`, { min: 1000, message: 'must be an integer ≥ 1000 (milliseconds)' }) ?? DEFAULT_HEALTH_INTERVAL_MS;
    const topic = c.uri(h.topic, `${path}.topic`, { strict: true, message: 'must be a topic URI such as "wampgate.health"' }) ?? DEFAULT_HEALTH_TOPIC;
    const realm = c.uri(h.realm, `${path}.realm`, { message: 'must be the name of a configured realm' });
    if (realm !== undefined && enabled && !ctx.realms.includes(realm)) c.add(`${path}.realm`, `no realm "${realm}" (configured: ${ctx.realms.join(', ')})`);
    return { enabled, intervalMs, topic, realm: realm ?? ctx.realms[0] };
  },
};

/** The `status` section's problems alone (`wampgate status` reads only this section). */
export const validateStatus = problemsOf(statusSection);
export const validateHealth = problemsOf(healthSection);

/** A `status` section read outside a config load (`wampgate status`): bad values fall back to the defaults. */
export function statusSettings(raw: unknown): StatusSettings {
  const ctx = { realms: [], limits: defaultLimits, dataDir: '', rawSection: () => undefined };
  return statusSection.read(raw, 'status', new Check(), ctx) ?? (statusSection.read(undefined, 'status', new Check(), ctx) as StatusSettings);
}

/** Both sections of a config, resolved. */
export function opsSettings(config: GatewayConfig): { status: StatusSettings; health: HealthSettings } {
  return { status: sectionOf(config, statusSection) as StatusSettings, health: sectionOf(config, healthSection) as HealthSettings };
}

/** Where `wampgate status` finds the listener: a wildcard bind is reached on loopback. */
export function statusUrl(settings: Pick<StatusSettings, 'host' | 'port'>, port = settings.port): string {
  let host = settings.host;
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}
