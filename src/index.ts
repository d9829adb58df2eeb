// The embedding API: start a router in-process, attach in-process sessions that skip
// serialization, and reach every building block an application or test needs.

export { Gateway, type GatewayOptions } from './gateway';
export { Router, type RouterOptions } from './core/router';
export type { RealmOptions } from './core/realm';
export type { SessionLimits } from './core/limits';
export { WampClient, Result, type CallResult, type ConnectOptions } from './client/wamp-client';
export { WampError } from './client/wamp-error';
export { defaultConfig } from './config/defaults';
export { validateConfig } from './config/schema';
export { loadConfigFile } from './config/load';
export { sectionOf, withSection, type ConfigSection } from './config/section';
export { ConfigError, type ConfigProblem } from './config/problem';
export type { GatewayConfig } from './config/types';
export { attachLocal, createLocalPair } from './transports/local';
export { startWebSocketServer } from './transports/websocket/server';
export { startRawSocketServer } from './transports/rawsocket/server';
export { connectWebSocket } from './transports/websocket/client';
export { connectRawSocket } from './transports/rawsocket/client';
export { ErrorUri } from './protocol/error-uris';
export type { Peer, TransportInfo } from './protocol/peer';
export type { Authenticator, Authorizer, LocalIdentity } from './core/ports';
export { anonymousOnLoopback } from './auth/anonymous';
export { startMetaApi, type MetaApis } from './meta/meta-api';
export { AGENT, VERSION } from './util/version';
export { createLogger, type Logger } from './util/logger';

import { Gateway } from './gateway';
import { defaultConfig } from './config/defaults';
import type { GatewayConfig } from './config/types';
import { WampClient } from './client/wamp-client';
import type { Router } from './core/router';
import { attachLocal } from './transports/local';

/** Starts a gateway in this process (default config unless given). */
export function startGateway(config: GatewayConfig = defaultConfig(), options?: import('./gateway').GatewayOptions): Promise<Gateway> {
  return Gateway.start(config, options);
}

/** Joins `realm` as an in-process session with the given identity: no sockets, no serialization. */
export function connectLocal(router: Router, options: { realm: string; authid: string; authrole: string; name?: string }): Promise<WampClient> {
  const peer = attachLocal(router, options.name ?? options.authid, { authid: options.authid, authrole: options.authrole });
  return WampClient.connect(peer, { realm: options.realm });
}
