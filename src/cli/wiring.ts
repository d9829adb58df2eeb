// Which optional parts this build plugs into config validation and the gateway (auth,
// bridges, uplink, ops). Kept apart from main.ts so tests can load the same wiring.

import { checkAnonymousExposure, validateDynamicAuthorizer, validateListenerAuth, validateRoles, type ListenerAuthConfig } from '../auth/config';
import { validateBridges } from '../bridges/config';
import { mqttPartFactory } from '../bridges/mqtt/part';
import type { SectionValidators } from '../config/schema';
import type { GatewayOptions } from '../gateway';
import type { PartFactory } from '../gateway-part';
import type { Logger } from '../util/logger';

export const sectionValidators: SectionValidators = {
  listenerAuth: validateListenerAuth,
  realmRoles: validateRoles,
  realmAuthorizer: validateDynamicAuthorizer,
  bridges: validateBridges,
  listenerExposure: (auth, path, loopback, realms) =>
    checkAnonymousExposure(auth as ListenerAuthConfig, path, loopback, realms as Parameters<typeof checkAnonymousExposure>[3]),
};

/** One factory per optional config section; each turns its section into running parts. */
export const partFactories: PartFactory[] = [mqttPartFactory];

export function gatewayOptions(logger: Logger): GatewayOptions {
  return { logger, parts: partFactories };
}
