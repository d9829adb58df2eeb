// The `admin` config section: remote administration through the uplink, off by default. Validates
// with paths and resolves defaults once; what the procedures do is admin-part.ts's job.

import { hostname } from 'node:os';
import type { ConfigProblem } from '../config/problem';
import type { GatewayConfig } from '../config/types';
import { isValidUri } from '../protocol/uri';

/** Who may call the admin procedures: a cloud caller matches an entry when every field the entry
 * names equals what the cloud disclosed. */
export interface AdminCaller {
  authid?: string;
  authrole?: string;
}

export interface AdminConfig {
  enabled?: boolean;
  /** Cloud URI prefix for this gateway; `{gatewayId}` is replaced. Procedures are `<prefix>admin.<name>`,
   * fleet events `<prefix>health` and `<prefix>admin.on_change`. */
  prefix?: string;
  allow?: AdminCaller[];
  /** How long an applied config waits for config.confirm when the call names no confirmWithinS. */
  confirmWithinS?: number;
  /** How often status goes up as `<prefix>health` (0: never). */
  fleetIntervalS?: number;
  /** The most log lines logs.tail returns. */
  logsTailMax?: number;
}

export interface ResolvedAdminConfig {
  prefix: string;
  gatewayId: string;
  allow: AdminCaller[];
  confirmWithinS: number;
  fleetIntervalS: number;
  logsTailMax: number;
}

export const ADMIN_DEFAULTS = { prefix: 'site.{gatewayId}.', confirmWithinS: 300, fleetIntervalS: 60, logsTailMax: 200 } as const;
/** Bounds: a confirm window under 10 s cannot survive one reconnect; over a day nobody remembers it. */
const CONFIRM_RANGE = [10, 86_400] as const;
const KEYS = ['enabled', 'prefix', 'allow', 'confirmWithinS', 'fleetIntervalS', 'logsTailMax'];

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function validateAdmin(value: unknown, path: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (p: string, message: string): void => void problems.push({ path: p, message });
  if (!isObj(value)) {
    add(path, 'must be an object like { "enabled": true, "allow": [{ "authrole": "fleet-admin" }] }');
    return problems;
  }
  for (const k of Object.keys(value)) if (!KEYS.includes(k)) add(`${path}.${k}`, `unknown key (allowed: ${KEYS.join(', ')})`);
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') add(`${path}.enabled`, 'must be true or false');
  if (value.prefix !== undefined) {
    const sample = typeof value.prefix === 'string' ? value.prefix.replace('{gatewayId}', 'gw') : '';
    if (typeof value.prefix !== 'string' || !sample.endsWith('.') || !isValidUri(sample.slice(0, -1), 'strict'))
      add(`${path}.prefix`, 'must be a URI prefix ending with a dot, e.g. "site.{gatewayId}."');
  }
  const enabled = value.enabled !== false;
  if (value.allow === undefined) {
    if (enabled) add(`${path}.allow`, 'name who may administer this gateway, e.g. [{ "authrole": "fleet-admin" }] (nobody is allowed by default)');
  } else if (!Array.isArray(value.allow) || (enabled && value.allow.length === 0)) {
    add(`${path}.allow`, 'must be a non-empty list of { "authid": …, "authrole": … }');
  } else {
    value.allow.forEach((entry: unknown, i: number) => {
      const p = `${path}.allow[${i}]`;
      if (!isObj(entry)) return add(p, 'must be an object with authid and/or authrole');
      for (const k of Object.keys(entry)) if (k !== 'authid' && k !== 'authrole') add(`${p}.${k}`, 'unknown key (allowed: authid, authrole)');
      if (entry.authid === undefined && entry.authrole === undefined) add(p, 'must name an authid, an authrole or both');
      for (const k of ['authid', 'authrole'] as const)
        if (entry[k] !== undefined && (typeof entry[k] !== 'string' || entry[k] === '')) add(`${p}.${k}`, 'must be a non-empty string');
    });
  }
  const int = (k: string, min: number, max: number): void => {
    const v = value[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max))
      add(`${path}.${k}`, `must be an integer from ${min} to ${max}`);
  };
  int('confirmWithinS', CONFIRM_RANGE[0], CONFIRM_RANGE[1]);
  int('fleetIntervalS', 0, 86_400);
  int('logsTailMax', 1, 10_000);
  return problems;
}

/** The section with defaults, or undefined when admin is off. The gateway id is the uplink's (the
 * same default: the host name), so the cloud sees one name per gateway. */
export function resolveAdmin(config: GatewayConfig): ResolvedAdminConfig | undefined {
  const a = config.admin as AdminConfig | undefined;
  if (!a || a.enabled === false) return undefined;
  const uplinkId = (config.uplink as { gatewayId?: unknown } | undefined)?.gatewayId;
  const gatewayId =
    typeof uplinkId === 'string'
      ? uplinkId
      : (hostname()
          .split('.')[0]
          ?.replace(/[^\w-]/g, '_') ?? 'gateway');
  return {
    prefix: (a.prefix ?? ADMIN_DEFAULTS.prefix).replace('{gatewayId}', gatewayId),
    gatewayId,
    allow: a.allow ?? [],
    confirmWithinS: a.confirmWithinS ?? ADMIN_DEFAULTS.confirmWithinS,
    fleetIntervalS: a.fleetIntervalS ?? ADMIN_DEFAULTS.fleetIntervalS,
    logsTailMax: a.logsTailMax ?? ADMIN_DEFAULTS.logsTailMax,
  };
}

/** Whether a cloud caller, as disclosed in the INVOCATION details, may administer. */
export function callerAllowed(allow: readonly AdminCaller[], details: Record<string, unknown>): boolean {
  const authid = details.caller_authid;
  const authrole = details.caller_authrole;
  if (typeof authid !== 'string' && typeof authrole !== 'string') return false;
  return allow.some((e) => (e.authid === undefined || e.authid === authid) && (e.authrole === undefined || e.authrole === authrole));
}
