// The seam between the gateway and its optional parts (bridges, uplink, ops): each part is
// started after the router and listeners, stopped before them, and reports its status. Parts
// reach the router only as WAMP sessions (router.attachLocal), never its internals — except
// ops, which reads the router's counters for metrics.

import type { GatewayConfig } from './config/types';
import type { Router } from './core/router';
import type { Logger } from './util/logger';

export interface PartContext {
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
