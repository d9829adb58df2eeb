// Which optional parts this build plugs into config validation and the gateway (auth,
// bridges, uplink, ops). Kept apart from main.ts so tests can load the same wiring.

import { checkAnonymousExposure, validateDynamicAuthorizer, validateListenerAuth, validateRoles, type ListenerAuthConfig } from '../auth/config';
import type { SectionValidators } from '../config/schema';
import type { GatewayOptions } from '../gateway';
import type { PartFactory } from '../gateway-part';
import type { Logger } from '../util/logger';

export const sectionValidators: SectionValidators = {
  listenerAuth: validateListenerAuth,
  realmRoles: validateRoles,
  realmAuthorizer: validateDynamicAuthorizer,
  listenerExposure: (auth, path, loopback, realms) =>
    checkAnonymousExposure(auth as ListenerAuthConfig, path, loopback, realms as Parameters<typeof checkAnonymousExposure>[3]),
};

/** One factory per optional config section; each turns its section into running parts. */
export const partFactories: PartFactory[] = [];

export function gatewayOptions(logger: Logger): GatewayOptions {
  return { logger, parts: partFactories };
}
