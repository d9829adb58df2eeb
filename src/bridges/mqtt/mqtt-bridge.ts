// The MQTT bridge: one MQTT link and one local WAMP session (kept by a SessionKeeper), moving
// events between them by the compiled rules, with RPC both ways and the MQTT 3.1.1 loop guard
// (DESIGN §1: a bridge is a session; §4). The pieces live beside it: rules.ts, mqtt-link.ts,
// rpc.ts, loop-guard.ts; the mapping and payload codecs in topic-mapping.ts and payload-codecs.ts.

import { randomBytes } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import { SessionKeeper, type SessionKeeperOptions } from '../../client/session-keeper';
import type { EventHandler, WampClient } from '../../client/wamp-client';
import type { Dict } from '../../protocol/messages';
import { ErrorUri } from '../../protocol/error-uris';
import type { Logger } from '../../util/logger';
import { BridgeReport, type MqttBridgeCounters } from './bridge-report';
import type { MqttBridgeSettings } from './config';
import { LoopGuard } from './loop-guard';
import { redactUrl } from '../../util/redact-url';
import { MqttLink, type MqttLinkState } from './mqtt-link';
import type { WampPayload } from './payload-codecs';
import { MqttRpc } from './rpc';
import { compileRules, type BridgeRules, type InboundRule, type OutboundRule } from './rules';

export { WAMP_ERROR_PROPERTY } from './rpc';
export type { MqttBridgeCounters } from './bridge-report';

export type MqttBridgeState = MqttLinkState;

export interface MqttBridgeDeps {
  router: SessionKeeperOptions['router'];
  logger: Logger;
}

export interface MqttBridgeStatus {
  name: string;
  broker: string;
  state: MqttBridgeState;
  /** When `state` last changed (ISO 8601). */
  since: string;
  /** The current connection's subscriptions are acknowledged by the broker. */
  subscribed: boolean;
  wamp: 'joining' | 'joined' | 'closed';
  lastError?: string;
  counters: MqttBridgeCounters;
}

export class MqttBridge {
  readonly name: string;
  private readonly config: MqttBridgeSettings;
  private readonly report: BridgeReport;
  private readonly rules: BridgeRules;
  private readonly link: MqttLink;
  private readonly rpc: MqttRpc;
  private readonly loopGuard: LoopGuard | undefined;
  /** The bridge's own WAMP session, rejoined if it is closed under it. */
  private readonly keeper: SessionKeeper;
  private stopping = false;

  /** `config` is resolved by the bridges section (or resolveMqttBridge): checked once, at load. */
  constructor(config: MqttBridgeSettings, deps: MqttBridgeDeps) {
    this.config = config;
    this.name = config.name;
    this.report = new BridgeReport(deps.logger.child(`mqtt-bridge:${config.name}`));
    this.keeper = new SessionKeeper({
      name: `mqtt-bridge:${config.name}`,
      realm: config.realm,
      identity: { authid: config.authid, authrole: config.authrole },
      router: deps.router,
      setup: (wamp) => this.setupWamp(wamp),
      logger: this.report.log,
    });
    const clientId = config.broker.clientId ?? `wampgate-${config.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(3).toString('hex')}`;
    const replyTopicV5 = `wampgate/rpc-reply/${clientId.replace(/[+#/]/g, '_')}`;
    this.rules = compileRules(config, replyTopicV5);
    // MQTT 3.1.1 has no noLocal: remember what was sent where it could come back (DESIGN: loop
    // prevention, docs "Loop prevention").
    if (config.broker.protocolVersion !== 5 && this.rules.outbound.length > 0 && this.rules.inbound.length > 0) {
      this.loopGuard = new LoopGuard(
        config.limits.loopGuardMs,
        this.rules.inbound.map((r) => r.mapping.filter),
      );
    }
    this.link = new MqttLink({
      broker: config.broker,
      clientId,
      subscriptions: this.rules.subscriptions,
      maxPendingPublishes: config.limits.maxPendingPublishes,
      loopGuard: this.loopGuard,
      report: this.report,
      onMessage: (topic, payload, packet) => this.onMessage(topic, payload, packet),
    });
    this.rpc = new MqttRpc({
      name: config.name,
      brokerUrl: config.broker.url,
      rpcOut: this.rules.rpcOut,
      rpcIn: this.rules.rpcIn,
      replyTopicV5,
      maxPendingRequests: config.limits.maxPendingRequests,
      link: this.link,
      session: () => this.keeper.session,
      report: this.report,
    });
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /**
   * Joins the realm, sets up the WAMP subscriptions and registrations, and starts the MQTT
   * connection. Resolves once the first connection attempt settled (connected and subscribed,
   * failed, or the connect timeout passed): a broker that is down never blocks the gateway, the
   * bridge keeps reconnecting. Rejects only on local errors (unreadable TLS files, WAMP join
   * refused).
   */
  async start(): Promise<void> {
    if (this.link.started) throw new Error(`mqtt bridge "${this.name}" already started`);
    this.stopping = false;
    // Before joining: unreadable TLS files must reject start() without leaving a session behind.
    const options = this.link.clientOptions();
    await this.keeper.start();
    await this.link.start(options);
  }

  /** Disconnects from the broker, answers waiting calls with an error, leaves the realm. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.rpc.stop();
    await this.link.stop();
    this.loopGuard?.clear();
    await this.keeper.stop(ErrorUri.closeNormal);
    this.link.stopped();
  }

  status(): MqttBridgeStatus {
    const s: MqttBridgeStatus = {
      name: this.name,
      broker: redactUrl(this.config.broker.url),
      state: this.link.state,
      since: this.link.since.toISOString(),
      subscribed: this.link.subscribed,
      wamp: this.keeper.state,
      counters: { ...this.report.counters },
    };
    if (this.report.lastError !== undefined) s.lastError = this.report.lastError;
    return s;
  }

  // ---- MQTT -> WAMP -----------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const { counters } = this.report;
    counters.received++;
    try {
      if (this.loopGuard?.consume(topic, payload)) {
        counters.loopsSuppressed++;
        return;
      }
      if (this.rpc.onMessage(topic, payload, packet)) return;
      for (const rule of this.rules.inbound) {
        const uri = rule.mapping.mqttToWamp(topic);
        if (uri === undefined) continue;
        this.toWamp(rule, uri, payload, packet.retain);
        return;
      }
      // A filter matched at the broker but no rule here: a topic the mapping cannot express.
      counters.unmappable++;
    } catch (err) {
      // An internal bug on one message must not take down the bridge (DESIGN §3).
      this.report.logLimited('bug', 'error', 'message handling failed', { topic, error: err instanceof Error ? err.stack : String(err) });
    }
  }

  private toWamp(rule: InboundRule, uri: string, payload: Buffer, retained: boolean): void {
    const { counters } = this.report;
    let decoded: WampPayload;
    try {
      decoded = rule.codec.decode(payload);
    } catch (err) {
      counters.decodeErrors++;
      this.report.logLimited('decode', 'warn', 'payload does not decode', {
        topic: uri,
        codec: rule.codec.name,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    const wamp = this.keeper.session;
    if (!wamp || wamp.closed) {
      counters.dropped++;
      return;
    }
    const retain = rule.wampRetain === 'always' || (rule.wampRetain === 'mirror' && retained);
    // exclude_me stays at its default (true): the bridge never gets its own events back.
    wamp.publish(uri, decoded.args, decoded.kwargs, retain ? { retain: true } : {}).catch(() => counters.dropped++);
    counters.wampPublished++;
  }

  // ---- WAMP -> MQTT -----------------------------------------------------------------------

  private outboundHandler(rule: OutboundRule): EventHandler {
    const { counters } = this.report;
    return (args, kwargs, details) => {
      counters.wampReceived++;
      const uri = typeof details.topic === 'string' ? details.topic : rule.subscription.uri;
      const topic = rule.mapping.wampToMqtt(uri);
      if (topic === undefined) {
        counters.unmappable++;
        return;
      }
      let payload: Buffer;
      try {
        payload = rule.codec.encode(args, kwargs);
      } catch (err) {
        counters.encodeErrors++;
        this.report.logLimited('encode', 'warn', 'payload does not encode', {
          topic: uri,
          codec: rule.codec.name,
          error: err instanceof Error ? err.message : String(err),
        });
        return;
      }
      this.link.publish(topic, payload, { qos: rule.qos, retain: rule.retain });
    };
  }

  // ---- WAMP session -----------------------------------------------------------------------

  /** Subscriptions and registrations of the rules; runs on every (re)join of the session. */
  private async setupWamp(wamp: WampClient): Promise<void> {
    // A rule the role may not use is logged and skipped; the other rules keep working.
    const setups: Array<Promise<unknown>> = [];
    for (const rule of this.rules.outbound) {
      const options: Dict = rule.subscription.match === 'exact' ? {} : { match: rule.subscription.match };
      setups.push(
        wamp
          .subscribe(rule.subscription.uri, this.outboundHandler(rule), options)
          .catch((err: unknown) => this.report.fail(`cannot subscribe to "${rule.subscription.uri}"`, err)),
      );
    }
    setups.push(...this.rpc.register(wamp));
    await Promise.all(setups);
  }
}
