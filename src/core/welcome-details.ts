// What a WELCOME says about the session it opens (spec "WELCOME"): the realm, the identity the
// authenticator gave, the router's roles and agent; compact (no feature lists) for peers whose
// receive buffer is small. Sending it belongs to Session.

import type { Dict } from '../protocol/messages';
import type { TransportInfo } from '../protocol/peer';
import { routerRoles } from './features';

/** Below this announced limit the WELCOME leaves out the feature list (see compactWelcome). */
const COMPACT_WELCOME_BELOW = 4096;

/** A serial device or a RawSocket peer announcing the spec's minimum (512 bytes) has a receive
 * buffer of a few hundred bytes; the full feature list alone is ~450 bytes of CBOR. Their roles
 * stay announced, the features are all available. */
export function compactWelcome(transport: TransportInfo, sendLimit: number | undefined): boolean {
  return transport.type === 'serial' || (sendLimit ?? Infinity) < COMPACT_WELCOME_BELOW;
}

export interface WelcomeIdentity {
  realm: string;
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  authextra: Dict | undefined;
}

/** `features` says which optional router features this realm offers (see routerRoles). */
export function welcomeDetails(who: WelcomeIdentity, agent: string, compact: boolean, features: { eventHistory?: boolean } = {}): Dict {
  const details: Dict = {
    realm: who.realm,
    authid: who.authid,
    authrole: who.authrole,
    authmethod: who.authmethod,
    authprovider: who.authprovider,
    roles: compact ? { broker: {}, dealer: {} } : routerRoles(features),
    agent,
  };
  if (who.authextra) details.authextra = who.authextra;
  return details;
}
