// The gateway's name towards the cloud when the uplink section names none: the host name's first
// label with anything outside [A-Za-z0-9_-] replaced, so it fits in a URI component. One rule
// for the uplink and the admin prefix, so the cloud sees one name per gateway.

import { hostname } from 'node:os';

export function defaultGatewayId(host: string = hostname()): string {
  return host.split('.')[0]?.replace(/[^\w-]/g, '_') ?? 'gateway';
}
