// The built-in default config: what `npx wampgate start` runs with no file. Loopback only,
// anonymous only there, limits sized for a 512 MB board.

import { defaultSessionLimits } from '../core/limits';
import { defaultTransportLimits } from '../transports/limits';
import type { GatewayConfig, LimitsConfig } from './types';

export const defaultLimits: LimitsConfig = {
  ...defaultTransportLimits,
  ...defaultSessionLimits,
  // Two of libuv's four pool threads (the rest stay for file and DNS work); 32 waiting drain in
  // about 8 s at half a second each on a Pi, inside the 10 s HELLO timeout.
  ticketCheckConcurrency: 2,
  ticketCheckQueue: 32,
};

export function defaultConfig(): GatewayConfig {
  return {
    realms: [{ name: 'realm1' }],
    listeners: [
      { name: 'websocket', type: 'websocket', host: '127.0.0.1', port: 8080, path: '/ws' },
      { name: 'rawsocket', type: 'rawsocket', host: '127.0.0.1', port: 8081 },
    ],
    limits: { ...defaultLimits },
    log: { level: 'info' },
  };
}
