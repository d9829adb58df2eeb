// An MQTT bridge's rules compiled from its config: which MQTT messages become WAMP events, which
// WAMP events become MQTT messages, the RPC rules both ways, and the MQTT subscriptions they all
// need. Pure: no connection, no session; what a rule does at run time is the bridge's and RPC's.

import type { IClientSubscribeOptions } from 'mqtt';
import type { MqttBridgeSettings, QoS, RpcMode, WampRetain } from './config';
import { payloadCodecs, type PayloadCodec } from './payload-codecs';
import { compileFilter, TopicMapping, type FilterLevel, type WampSubscriptionSpec } from './topic-mapping';

/** MQTT -> WAMP: a subscription's messages published as WAMP events. */
export interface InboundRule {
  mapping: TopicMapping;
  codec: PayloadCodec;
  wampRetain: WampRetain;
}

/** WAMP -> MQTT: a WAMP subscription's events published as MQTT messages. */
export interface OutboundRule {
  mapping: TopicMapping;
  codec: PayloadCodec;
  qos: QoS;
  retain: boolean;
  subscription: WampSubscriptionSpec;
}

export interface RpcRule {
  mapping: TopicMapping;
  codec: PayloadCodec;
  qos: QoS;
  mode: RpcMode;
  timeoutMs: number;
  /** topic-pair: the request filter plus one '+' level for the correlation id. */
  requestWithId: FilterLevel[];
  /** topic-pair: the reply topic filter (same wildcards as the request). */
  reply: FilterLevel[];
  /** topic-pair: reply filter plus one '+' level for the correlation id. */
  replyWithId: FilterLevel[];
}

export interface BridgeRules {
  inbound: InboundRule[];
  outbound: OutboundRule[];
  /** WAMP procedure -> MQTT request. */
  rpcOut: RpcRule[];
  /** MQTT request -> WAMP call. */
  rpcIn: RpcRule[];
  /** filter -> subscription options: what is (re-)subscribed on every connect. */
  subscriptions: Map<string, IClientSubscribeOptions>;
}

/** `replyTopicV5`: the MQTT 5 response topic of this bridge's WAMP -> MQTT requests. */
export function compileRules(config: MqttBridgeSettings, replyTopicV5: string): BridgeRules {
  const rules: BridgeRules = { inbound: [], outbound: [], rpcOut: [], rpcIn: [], subscriptions: new Map() };
  const v5 = config.broker.protocolVersion === 5;
  const addSubscription = (filter: string, opts: IClientSubscribeOptions): void => {
    const prev = rules.subscriptions.get(filter);
    if (prev && prev.qos >= opts.qos) return;
    rules.subscriptions.set(filter, { ...prev, ...opts });
  };

  for (const rule of config.topics) {
    const mapping = new TopicMapping({ mqtt: rule.mqtt, wamp: rule.wamp });
    const codec = payloadCodecs[rule.codec];
    const { qos, direction } = rule;
    if (direction !== 'wamp-to-mqtt') {
      rules.inbound.push({ mapping, codec, wampRetain: rule.wampRetain });
      // noLocal: the broker does not send back what this client published (MQTT 5 §3.8.3.1);
      // retainAsPublished: live retained publishes keep their flag, so WAMP retention follows.
      addSubscription(rule.mqtt, v5 ? { qos, nl: true, rap: true } : { qos });
    }
    if (direction !== 'mqtt-to-wamp') {
      const subscription = mapping.wampSubscription();
      if (subscription) rules.outbound.push({ mapping, codec, qos, retain: rule.retain, subscription });
    }
  }
  for (const r of config.rpc) {
    const mapping = new TopicMapping({ mqtt: r.mqtt, wamp: r.wamp });
    const { mode, replyTopic: replyFilter } = r;
    const rule: RpcRule = {
      mapping,
      codec: payloadCodecs[r.codec],
      qos: r.qos,
      mode,
      timeoutMs: r.timeoutMs,
      requestWithId: compileFilter(`${r.mqtt}/+`),
      reply: compileFilter(replyFilter),
      replyWithId: compileFilter(`${replyFilter}/+`),
    };
    const opts: IClientSubscribeOptions = v5 ? { qos: rule.qos, nl: true } : { qos: rule.qos };
    if (r.direction === 'wamp-to-mqtt') {
      rules.rpcOut.push(rule);
      addSubscription(mode === 'mqtt5' ? replyTopicV5 : `${replyFilter}/+`, opts);
    } else {
      rules.rpcIn.push(rule);
      addSubscription(mode === 'mqtt5' ? r.mqtt : `${r.mqtt}/+`, opts);
    }
  }
  return rules;
}
