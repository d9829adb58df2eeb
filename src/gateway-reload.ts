// What a live reload changes: compares the running config with a new one and says, per listener,
// realm, limit and part, whether it is kept, changed in place, restarted, added or removed. Pure
// (no I/O): Gateway.reload carries the plan out, tests read it.

import { defaultSessionLimits, type SessionLimits } from './core/limits';
import { configDocument } from './config/section';
import type { GatewayConfig, ListenerConfig, RealmConfig } from './config/types';
import { fingerprint } from './util/fingerprint';

export { fingerprint };

/** What happens to one named thing (a listener, a realm, a part). */
export type Change = 'kept' | 'added' | 'removed' | 'restarted';

export interface ReloadPlan {
  listeners: Record<string, Change>;
  /** `restarted` closes the realm's sessions (its URI check or retained-topic limit changed);
   * roles and authorizer changes are applied in place (`kept` here, counted in `auth`). */
  realms: Record<string, Change>;
  /** Principals, listener authentication or realm permissions changed: authentication and
   * authorization are rebuilt; established sessions stay and meet the new rules on their next
   * action. */
  auth: boolean;
  /** Session limits applied to every session at once. */
  liveLimits: Array<keyof SessionLimits>;
  /** Event history rules or settings changed: applied live (Gateway.reloadHistory). */
  history: boolean;
  /** Settings that changed but take effect only after a restart (said in the log and the answer). */
  restartRequired: string[];
}

const SESSION_LIMIT_KEYS = Object.keys(defaultSessionLimits) as Array<keyof SessionLimits>;

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.name, i]));
}

function compareNamed<T extends { name: string }>(before: readonly T[], after: readonly T[], restartKey: (t: T) => string): Record<string, Change> {
  const out: Record<string, Change> = {};
  const old = byName(before);
  const next = byName(after);
  for (const [name, o] of old) {
    const n = next.get(name);
    out[name] = !n ? 'removed' : restartKey(o) === restartKey(n) ? 'kept' : 'restarted';
  }
  for (const name of next.keys()) if (!old.has(name)) out[name] = 'added';
  return out;
}

/** A listener restarts when anything in it but its authentication changed (auth swaps live). */
const listenerKey = (l: ListenerConfig): string => fingerprint({ ...l, auth: undefined });
/** A realm restarts for what its router objects fixed at creation; permissions swap live. */
const realmKey = (r: RealmConfig): string => fingerprint({ uriCheck: r.uriCheck ?? null, maxRetainedTopics: r.maxRetainedTopics ?? null });
const authKey = (c: GatewayConfig): string =>
  fingerprint({
    listeners: c.listeners.map((l) => [l.name, l.auth ?? null]),
    realms: c.realms.map((r) => [r.name, r.roles ?? null, r.authorizer ?? null]),
  });

/**
 * A listener configured with port 0 took whatever port the system gave it. A new config that names
 * that very port (as one written from `config.get` or the status page does) asks for the listener
 * that is running, not a new one: compare it as bound, or every such reload would restart it.
 */
function asBound(listeners: readonly ListenerConfig[], next: readonly ListenerConfig[], boundPorts: ReadonlyMap<string, number>): ListenerConfig[] {
  const wanted = byName(next);
  return listeners.map((l) => {
    const bound = boundPorts.get(l.name);
    return (l.port ?? 0) === 0 && bound !== undefined && wanted.get(l.name)?.port === bound ? { ...l, port: bound } : l;
  });
}

/** `boundPorts`: listener name -> the TCP port it is bound to now (see asBound). */
export function planReload(current: GatewayConfig, next: GatewayConfig, boundPorts: ReadonlyMap<string, number> = new Map()): ReloadPlan {
  const liveLimits = SESSION_LIMIT_KEYS.filter((k) => current.limits[k] !== next.limits[k]);
  const restartRequired: string[] = [];
  for (const key of Object.keys({ ...current.limits, ...next.limits }) as Array<keyof GatewayConfig['limits']>) {
    if (SESSION_LIMIT_KEYS.includes(key as keyof SessionLimits)) continue;
    // Transport limits are handed to the listeners and the connection guard when they start.
    if (current.limits[key] !== next.limits[key]) restartRequired.push(`limits.${key}`);
  }
  if (current.log.level !== next.log.level) restartRequired.push('log.level');
  if ((current.dataDir ?? null) !== (next.dataDir ?? null)) restartRequired.push('dataDir');
  const historyKey = (c: GatewayConfig): string =>
    fingerprint({ file: configDocument(c).history ?? null, realms: c.realms.map((r) => [r.name, r.history ?? null]) });
  return {
    history: historyKey(current) !== historyKey(next),
    listeners: compareNamed(asBound(current.listeners, next.listeners, boundPorts), next.listeners, listenerKey),
    realms: compareNamed(current.realms, next.realms, realmKey),
    auth: authKey(current) !== authKey(next),
    liveLimits,
    restartRequired,
  };
}

/** Session limits of a config, for Object.assign onto the router's live limits. */
export function sessionLimitsOf(config: GatewayConfig): SessionLimits {
  return Object.fromEntries(SESSION_LIMIT_KEYS.map((k) => [k, config.limits[k]])) as unknown as SessionLimits;
}
