// Which optional parts this build plugs into config validation and the gateway (auth,
// bridges, uplink, ops). Kept apart from main.ts so tests can load the same wiring.

import type { SectionValidators } from '../config/schema';
import type { GatewayOptions } from '../gateway';
import type { PartFactory } from '../gateway-part';
import type { Logger } from '../util/logger';

export const sectionValidators: SectionValidators = {};

/** One factory per optional config section; each turns its section into running parts. */
export const partFactories: PartFactory[] = [];

export function gatewayOptions(logger: Logger): GatewayOptions {
  return { logger, parts: partFactories };
}
