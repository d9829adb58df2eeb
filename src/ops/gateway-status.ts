// Owns assembling the GatewayStatus snapshot (status-types.ts) from the gateway's read-only view:
// the router's counters, the listeners with their sessions, every part's typed PartStatus, and
// the two sections users rely on in /status.json (`bridges`, `uplink`) derived from the parts by
// role. Does not own rendering the snapshot nor sampling it.

import type { GatewayView, PartStatus } from '../gateway-part';
import { VERSION } from '../util/version';
import type { HealthSnapshot } from './health';
import { routerStatus } from './router-status';
import type { BridgeStatus, GatewayStatus, ListenerStatus, UplinkStatus } from './status-types';

/** A bridge-role part as the `bridges` entries of /status.json have always looked (plus `traffic`). */
export function bridgeStatus(p: PartStatus): BridgeStatus {
  const b: BridgeStatus = { name: p.name, kind: p.kind, state: p.state, since: p.since, lastError: p.lastError, counters: p.counters };
  if (p.traffic) b.traffic = p.traffic;
  return b;
}

/** The uplink-role part as the `uplink` section of /status.json has always looked. */
export function uplinkStatus(p: PartStatus): UplinkStatus {
  const u: UplinkStatus = { state: p.state, since: p.since, lastError: p.lastError };
  if (p.target !== undefined) u.url = p.target;
  if (p.realm !== undefined) u.realm = p.realm;
  if (p.buffer) u.buffer = p.buffer;
  if (p.replay) u.replay = p.replay;
  return u;
}

export interface StatusSources {
  gateway: GatewayView;
  /** Listeners bound and every part started, and not stopping. */
  ready: boolean;
  /** Router uptime on a monotonic clock (a Pi's wall clock can jump by years at NTP sync). */
  uptimeSeconds: number;
  health: HealthSnapshot | null;
}

/** The status right now, without series. */
export function gatewayStatus(src: StatusSources): GatewayStatus {
  const g = src.gateway;
  const parts = g.parts();
  const perListener = g.router.sessionsByListener();
  const listeners: ListenerStatus[] = g.listeners().map((l) => ({ name: l.name, type: l.type, address: l.address, sessions: perListener.get(l.name) ?? 0 }));
  const all = Object.values(parts);
  const status: GatewayStatus = {
    generatedAt: Date.now(),
    version: VERSION,
    ready: src.ready,
    router: routerStatus(g.router, { uptimeSeconds: src.uptimeSeconds }),
    listeners,
    bridges: all.filter((p) => p.role === 'bridge').map(bridgeStatus),
    parts,
    health: src.health,
  };
  const uplink = all.find((p) => p.role === 'uplink');
  if (uplink) status.uplink = uplinkStatus(uplink);
  return status;
}

/** The parts that are neither bridges nor the uplink (ops, and any new part of role `service`), in start order. */
export function serviceParts(status: GatewayStatus): PartStatus[] {
  return Object.values(status.parts ?? {}).filter((p) => p.role === 'service');
}
