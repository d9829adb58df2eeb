// The `admin` config section: remote administration through the uplink, off by default. Validates
// with paths on the config kit and resolves defaults once; what the procedures do is admin-part.ts's job.

import { defaultGatewayId } from '../config/gateway-id';
import type { ConfigProblem } from '../config/problem';
import { sectionOf, type ConfigSection } from '../config/section';
import type { GatewayConfig } from '../config/types';
import { Check, isObject, type Obj } from '../config/validate';
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
  /** The realm the admin's own session joins: health's realm, else the first. */
  localRealm: string;
}

export const ADMIN_DEFAULTS = { prefix: 'site.{gatewayId}.', confirmWithinS: 300, fleetIntervalS: 60, logsTailMax: 200 } as const;
/** Bounds: a confirm window under 10 s cannot survive one reconnect; over a day nobody remembers it. */
const CONFIRM_RANGE = [10, 86_400] as const;
const KEYS = ['enabled', 'prefix', 'allow', 'confirmWithinS', 'fleetIntervalS', 'logsTailMax'];

/** The section's own rules (no cross-section ones), every problem into `c`; the object when it is one. */
function checkAdmin(c: Check, value: unknown, path: string): Obj | undefined {
  const a = c.object(value, path, KEYS, { required: true, message: 'must be an object like { "enabled": true, "allow": [{ "authrole": "fleet-admin" }] }' });
  if (!a) return undefined;
  c.bool(a.enabled, `${path}.enabled`);
  if (a.prefix !== undefined) {
    const sample = typeof a.prefix === 'string' ? a.prefix.replace('{gatewayId}', 'gw') : '';
    if (typeof a.prefix !== 'string' || !sample.endsWith('.') || !isValidUri(sample.slice(0, -1), 'strict'))
      c.add(`${path}.prefix`, 'must be a URI prefix ending with a dot, e.g. "site.{gatewayId}."');
  }
  const enabled = a.enabled !== false;
  if (a.allow === undefined) {
    if (enabled) c.add(`${path}.allow`, 'name who may administer this gateway, e.g. [{ "authrole": "fleet-admin" }] (nobody is allowed by default)');
  } else if (!Array.isArray(a.allow) || (enabled && a.allow.length === 0)) {
    c.add(`${path}.allow`, 'must be a non-empty list of { "authid": …, "authrole": … }');
  } else {
    a.allow.forEach((entry: unknown, i: number) => {
      const p = `${path}.allow[${i}]`;
      const e = c.object(entry, p, ['authid', 'authrole'], { required: true, message: 'must be an object with authid and/or authrole' });
      if (!e) return;
      if (e.authid === undefined && e.authrole === undefined) c.add(p, 'must name an authid, an authrole or both');
      c.string(e.authid, `${p}.authid`);
      c.string(e.authrole, `${p}.authrole`);
    });
  }
  c.int(a.confirmWithinS, `${path}.confirmWithinS`, { min: CONFIRM_RANGE[0], max: CONFIRM_RANGE[1] });
  c.int(a.fleetIntervalS, `${path}.fleetIntervalS`, { min: 0, max: 86_400 });
  c.int(a.logsTailMax, `${path}.logsTailMax`, { min: 1, max: 10_000 });
  return a;
}

/** The section's problems alone, each with its path (`wampgate check` shows them all). */
export function validateAdmin(value: unknown, path: string): ConfigProblem[] {
  const c = new Check();
  checkAdmin(c, value, path);
  return c.problems;
}

/**
 * The `admin` section: absent or `enabled: false` = no admin part. It speaks through the uplink,
 * so it needs that section, and takes the uplink's gateway id (the same default: the host name)
 * so the cloud sees one name per gateway; its local session joins the realm health reports on.
 */
export const adminSection: ConfigSection<ResolvedAdminConfig> = {
  key: 'admin',
  read(raw, path, c, ctx) {
    if (raw === undefined) return undefined;
    const a = checkAdmin(c, raw, path);
    if (!a || a.enabled === false) return undefined;
    const uplink = ctx.rawSection('uplink');
    if (uplink === undefined) c.add(path, 'remote administration goes through the uplink: configure "uplink" too');
    const uplinkId = isObject(uplink) ? uplink.gatewayId : undefined;
    const gatewayId = typeof uplinkId === 'string' ? uplinkId : defaultGatewayId();
    const health = ctx.rawSection('health');
    const healthRealm = isObject(health) ? health.realm : undefined;
    const prefix = typeof a.prefix === 'string' ? a.prefix : ADMIN_DEFAULTS.prefix;
    return {
      prefix: prefix.replace('{gatewayId}', gatewayId),
      gatewayId,
      allow: Array.isArray(a.allow) ? (a.allow as AdminCaller[]) : [],
      confirmWithinS: typeof a.confirmWithinS === 'number' ? a.confirmWithinS : ADMIN_DEFAULTS.confirmWithinS,
      fleetIntervalS: typeof a.fleetIntervalS === 'number' ? a.fleetIntervalS : ADMIN_DEFAULTS.fleetIntervalS,
      logsTailMax: typeof a.logsTailMax === 'number' ? a.logsTailMax : ADMIN_DEFAULTS.logsTailMax,
      localRealm: typeof healthRealm === 'string' ? healthRealm : (ctx.realms[0] ?? 'realm1'),
    };
  },
};

/** The resolved section, or undefined when admin is off. */
export function resolveAdmin(config: GatewayConfig): ResolvedAdminConfig | undefined {
  return sectionOf(config, adminSection);
}

/** Whether a cloud caller, as disclosed in the INVOCATION details, may administer. */
export function callerAllowed(allow: readonly AdminCaller[], details: Record<string, unknown>): boolean {
  const authid = details.caller_authid;
  const authrole = details.caller_authrole;
  if (typeof authid !== 'string' && typeof authrole !== 'string') return false;
  return allow.some((e) => (e.authid === undefined || e.authid === authid) && (e.authrole === undefined || e.authrole === authrole));
}
