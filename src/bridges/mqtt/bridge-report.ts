// What an MQTT bridge's parts report while it runs: the counters of its status, its last error,
// and warnings rate-limited per kind so a flood of bad payloads cannot flood the log. Shared by
// the link, RPC and the bridge; it does not decide anything.

import type { Logger } from '../../util/logger';

export interface MqttBridgeCounters {
  /** MQTT messages received from the broker (all rules, RPC included). */
  received: number;
  /** MQTT messages the broker accepted from the bridge (QoS 0: written; 1/2: acknowledged). */
  published: number;
  /** WAMP events published from MQTT messages. */
  wampPublished: number;
  /** WAMP events received for WAMP -> MQTT rules. */
  wampReceived: number;
  decodeErrors: number;
  encodeErrors: number;
  /** Messages given up: no connection (QoS 0), pending limit, publish failure, no WAMP session. */
  dropped: number;
  /** Topics/URIs that match a rule's pattern but map to nothing (see the escaping rules). */
  unmappable: number;
  /** MQTT 3.1.1 loop guard: own messages that came back and were not re-imported. */
  loopsSuppressed: number;
  rpcCalls: number;
  rpcTimeouts: number;
  rpcErrors: number;
  /** MQTT requests answered by calling a WAMP procedure. */
  rpcServed: number;
  connects: number;
  connectFailures: number;
}

export class BridgeReport {
  readonly counters: MqttBridgeCounters = {
    received: 0,
    published: 0,
    wampPublished: 0,
    wampReceived: 0,
    decodeErrors: 0,
    encodeErrors: 0,
    dropped: 0,
    unmappable: 0,
    loopsSuppressed: 0,
    rpcCalls: 0,
    rpcTimeouts: 0,
    rpcErrors: 0,
    rpcServed: 0,
    connects: 0,
    connectFailures: 0,
  };
  lastError: string | undefined;
  /** log key -> last time it was logged: a flood of bad payloads must not flood the log. */
  private readonly lastLogged = new Map<string, number>();

  constructor(readonly log: Logger) {}

  /** A problem the user should see in the status: kept as lastError and logged. */
  fail(msg: string, err: unknown): void {
    const text = err === undefined ? msg : `${msg}: ${err instanceof Error ? err.message : String(err)}`;
    this.lastError = text;
    this.log.error(text);
  }

  logLimited(key: string, level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    const last = this.lastLogged.get(key) ?? 0;
    if (now - last < 10_000) return;
    this.lastLogged.set(key, now);
    this.log[level](msg, fields);
  }
}
