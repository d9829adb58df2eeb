// Which optional parts this build plugs into config validation and the gateway (auth,
// bridges, uplink, ops). Kept apart from main.ts so tests can load the same wiring.

import { checkAnonymousExposure, validateDynamicAuthorizer, validateListenerAuth, validateRoles, type ListenerAuthConfig } from '../auth/config';
import { bridgesSection } from '../bridges/config';
import { mqttPartFactory } from '../bridges/mqtt/part';
import { serialPartFactory } from '../bridges/serial/part';
import { uplinkPartFactory } from '../uplink/part';
import { uplinkSection } from '../uplink/uplink-section';
import type { ConfigPlugins } from '../config/schema';
import { healthSection, statusSection } from '../ops/ops-config';
import { opsPartFactory } from '../ops/ops-part';
import { historySection, validateRealmHistory } from '../history/history-config';
import type { GatewayOptions } from '../gateway';
import type { PartFactory } from '../gateway-part';
import type { Logger } from '../util/logger';
import { adminPartFactory, type AdminHost } from '../admin/admin-part';
import { adminSection } from '../admin/admin-config';

export const configPlugins: ConfigPlugins = {
  listenerAuth: validateListenerAuth,
  realmRoles: validateRoles,
  realmAuthorizer: validateDynamicAuthorizer,
  realmHistory: validateRealmHistory,
  /** One per top-level section a part owns; a new part adds its section here and its factory below. */
  sections: [bridgesSection, uplinkSection, statusSection, healthSection, historySection, adminSection],
  listenerExposure: (auth, path, loopback, realms) =>
    checkAnonymousExposure(auth as ListenerAuthConfig, path, loopback, realms as Parameters<typeof checkAnonymousExposure>[3]),
};

/** One factory per optional config section; each turns its section into running parts. Parts
 * start in this order and stop in reverse; ops is last so its status listener reports ready
 * only once everything else is up. */
export const partFactories: PartFactory[] = [mqttPartFactory, serialPartFactory, uplinkPartFactory, opsPartFactory];

/** The factories with the admin part, which acts on the process through its host (the CLI's
 * ConfigControl); placed before the uplink so its procedures are offered when the uplink joins. */
export function partFactoriesWith(admin: AdminHost): PartFactory[] {
  return [mqttPartFactory, serialPartFactory, adminPartFactory(admin), uplinkPartFactory, opsPartFactory];
}

export function gatewayOptions(logger: Logger): GatewayOptions {
  return { logger, parts: partFactories };
}
