// The seam between the gateway and its optional parts (bridges, uplink, ops): each part is
// started after the router and listeners, stopped before them, and reports its status. Parts
// reach the router only as WAMP sessions (`sessions.attachLocal`), never its internals — except
// ops, which reads the router's counters for metrics.

import type { GatewayConfig } from './config/types';
import type { LocalIdentity } from './core/ports';
import type { Router } from './core/router';
import type { Peer } from './protocol/peer';
import { attachLocal } from './transports/local';
import type { Logger } from './util/logger';

export type { LocalIdentity };

/** How a part opens sessions on the router without seeing it. */
export interface LocalSessions {
  /** An in-process session with a preset identity: say HELLO on the returned peer
   * (WampClient.connect / SessionKeeper) to join; see transports/local.ts. */
  attachLocal(name: string, identity: LocalIdentity): Peer;
  /** A transport connection (a serial device) that joins as a preset identity. */
  attach(peer: Peer, identity: LocalIdentity): { readonly id: number; readonly established: boolean };
}

/** The LocalSessions of one router (the gateway's; tests and embedding build parts on a bare one). */
export function localSessions(router: Router): LocalSessions {
  return {
    attachLocal: (name, identity) => attachLocal(router, name, identity),
    attach: (peer, identity) => router.attach(peer, identity),
  };
}

export interface PartContext {
  sessions: LocalSessions;
  /** The names of the configured realms, in config order. */
  realms: readonly string[];
  router: Router;
  config: GatewayConfig;
  logger: Logger;
  /** Where parts keep state (the SQLite buffer): config.dataDir, else ./data. */
  dataDir: string;
  /** Status of every part by name, for the status page and metrics (ops reads it). */
  partStatus(): Record<string, unknown>;
}

export interface GatewayPart {
  readonly name: string;
  start(ctx: PartContext): Promise<void>;
  stop(): Promise<void>;
  status?(): unknown;
}

/** Builds the parts a config asks for; one factory per config section, registered in cli/wiring.ts. */
export type PartFactory = (config: GatewayConfig) => GatewayPart[];
