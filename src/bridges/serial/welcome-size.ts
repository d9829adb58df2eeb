// The size of the WELCOME the router sends a frame-mode device, so `wampgate check` can refuse a
// maxFrameBytes the device could never join through. Mirrors the compact WELCOME of
// core/session.ts welcome() for a serial peer (no feature list); the frame-mode tests compare it
// with the WELCOME a device really receives, so the two cannot drift apart unnoticed.

import { cborSerializer } from '../../serializers/cbor';
import { AGENT } from '../../util/version';

/** The largest session ID (spec "IDs": up to 2^53): the ID with the longest encoding. */
const LONGEST_SESSION_ID = 2 ** 53;

/** CBOR bytes of the WELCOME a frame-mode port's device gets, at its longest. */
export function frameWelcomeBytes(identity: { realm: string; authid: string; authrole: string }): number {
  const details = {
    realm: identity.realm,
    authid: identity.authid,
    authrole: identity.authrole,
    // A preset identity (the port's) joins so (core/session.ts handleHello).
    authmethod: 'trusted',
    authprovider: 'local',
    roles: { broker: {}, dealer: {} },
    agent: AGENT,
  };
  return cborSerializer.encode([2, LONGEST_SESSION_ID, details]).length;
}
