// Which optional parts this build plugs into config validation and the gateway (auth,
// bridges, uplink, ops). Kept apart from main.ts so tests can load the same wiring.

import { checkAnonymousExposure, validateDynamicAuthorizer, validateListenerAuth, validateRoles, type ListenerAuthConfig } from '../auth/config';
import { validateBridges } from '../bridges/config';
import { mqttPartFactory } from '../bridges/mqtt/part';
import { serialPartFactory } from '../bridges/serial/part';
import { uplinkPartFactory, validateUplink } from '../uplink/part';
import type { SectionValidators } from '../config/schema';
import { opsPartFactory, validateHealth, validateStatus } from '../ops/ops-part';
import { validateHistorySection, validateRealmHistory } from '../history/history-config';
import type { GatewayOptions } from '../gateway';
import type { PartFactory } from '../gateway-part';
import type { Logger } from '../util/logger';
import { adminPartFactory, type AdminHost } from '../admin/admin-part';
import { validateAdmin } from '../admin/admin-config';

export const sectionValidators: SectionValidators = {
  listenerAuth: validateListenerAuth,
  realmRoles: validateRoles,
  realmAuthorizer: validateDynamicAuthorizer,
  bridges: validateBridges,
  uplink: validateUplink,
  status: validateStatus,
  health: validateHealth,
  realmHistory: validateRealmHistory,
  history: validateHistorySection,
  admin: validateAdmin,
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
