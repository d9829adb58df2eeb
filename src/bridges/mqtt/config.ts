// Configuration of one MQTT bridge: the types, their defaults, and `validateMqttBridge`, which
// reports every problem with its path (DESIGN §3). Owns the shape only; the gateway config
// loader decides where in the file it lives, and mqtt-bridge.ts what the values do.

import type { ConfigProblem } from '../../config/problem';
import { ProblemList } from '../../config/problem';
import { isValidUri } from '../../protocol/uri';
import { NETWORK_JITTER } from '../../util/backoff';
import { isCodecName, type CodecName } from './payload-codecs';
import { compileFilter, isValidMqttTopic, TopicMapping, TopicMappingError } from './topic-mapping';

export type QoS = 0 | 1 | 2;
export type TopicDirection = 'mqtt-to-wamp' | 'wamp-to-mqtt' | 'both';
export type RpcDirection = 'wamp-to-mqtt' | 'mqtt-to-wamp';
/** mqtt5: response topic + correlation data properties; topic-pair: correlation id as the last level. */
export type RpcMode = 'mqtt5' | 'topic-pair';
/** What MQTT -> WAMP does with WAMP retention: follow the MQTT retain flag, or always / never retain. */
export type WampRetain = 'mirror' | 'always' | 'never';

export interface MqttTlsConfig {
  /** File paths (PEM). `ca` replaces the system CAs; `cert` + `key` is a client certificate. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Default true. Only for test benches: false accepts any server certificate. */
  rejectUnauthorized?: boolean;
  /** SNI / certificate host name when it differs from the URL's host. */
  servername?: string;
}

export interface MqttBrokerConfig {
  /** mqtt://host:1883, mqtts://host:8883, ws://host/mqtt, wss://host/mqtt */
  url: string;
  /** 5 (default) or 4 (= MQTT 3.1.1). */
  protocolVersion?: 4 | 5;
  /** Default `wampgate-<bridge name>-<random>`. Fix it when the broker keeps a session (cleanStart false). */
  clientId?: string;
  username?: string;
  password?: string;
  tls?: MqttTlsConfig;
  /** Default 30. */
  keepaliveSeconds?: number;
  /** Default true: no broker-side session; the bridge re-subscribes after every connect anyway. */
  cleanStart?: boolean;
  /** Default 10000: a CONNECT without CONNACK by then counts as a failed attempt. */
  connectTimeoutMs?: number;
  /** Reconnect backoff: doubles from initialDelayMs up to maxDelayMs; up to `jitter` (0..1, default 0.5) of each delay is taken off at random. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; jitter?: number };
}

export interface MqttTopicRule {
  /** MQTT topic filter with + and # (captures {1}, {2}… in order). */
  mqtt: string;
  /** WAMP topic URI template with whole-component placeholders {n}. */
  wamp: string;
  /** Default 'mqtt-to-wamp'. */
  direction?: TopicDirection;
  /** Default 'json'. */
  codec?: CodecName;
  /** MQTT -> WAMP: the subscription's maximum QoS; WAMP -> MQTT: the publish QoS. Default 0. */
  qos?: QoS;
  /** WAMP -> MQTT: publish with the MQTT retain flag. Default false. */
  retain?: boolean;
  /** MQTT -> WAMP: WAMP retention of the published event. Default 'mirror'. */
  wampRetain?: WampRetain;
}

export interface MqttRpcRule {
  /**
   * wamp-to-mqtt: the bridge registers `wamp` (a procedure template); a call publishes a request
   * on `mqtt` (a filter used as a template) and answers the caller with the device's reply.
   * mqtt-to-wamp: the bridge subscribes to `mqtt`; a request calls `wamp` and the result is
   * published as the reply.
   */
  direction: RpcDirection;
  mqtt: string;
  wamp: string;
  /** Default 'mqtt5' on an MQTT 5 connection, 'topic-pair' on 3.1.1. */
  mode?: RpcMode;
  /** topic-pair only: the reply topic (same wildcards as `mqtt`). Default `mqtt` + "/reply". */
  replyTopic?: string;
  /** Default 'json'. */
  codec?: CodecName;
  /** Default 1. */
  qos?: QoS;
  /** wamp-to-mqtt: how long to wait for the reply. Default 5000. */
  timeoutMs?: number;
}

export interface MqttBridgeLimits {
  /** WAMP -> MQTT publishes and RPC requests handed to the MQTT client and not yet sent/acknowledged. Default 10000. */
  maxPendingPublishes?: number;
  /** wamp-to-mqtt RPC calls waiting for a reply, per bridge. Default 1000. */
  maxPendingRequests?: number;
  /** MQTT 3.1.1 loop guard: how long a sent (topic, payload) is remembered. Default 10000. */
  loopGuardMs?: number;
}

export interface MqttBridgeConfig {
  /** Unique among bridges: names the local session, the log component and the status entry. */
  name: string;
  realm: string;
  /** Default `mqtt-bridge:<name>`. */
  authid?: string;
  /** Default 'mqtt-bridge'. Grant this role what the rules need (subscribe/publish/register/call). */
  authrole?: string;
  broker: MqttBrokerConfig;
  topics?: MqttTopicRule[];
  rpc?: MqttRpcRule[];
  limits?: MqttBridgeLimits;
}

export const mqttBridgeDefaults = {
  authrole: 'mqtt-bridge',
  protocolVersion: 5 as 4 | 5,
  keepaliveSeconds: 30,
  cleanStart: true,
  connectTimeoutMs: 10_000,
  reconnectInitialDelayMs: 500,
  reconnectMaxDelayMs: 30_000,
  reconnectJitter: NETWORK_JITTER,
  direction: 'mqtt-to-wamp' as TopicDirection,
  codec: 'json' as CodecName,
  qos: 0 as QoS,
  rpcQos: 1 as QoS,
  wampRetain: 'mirror' as WampRetain,
  rpcTimeoutMs: 5000,
  maxPendingPublishes: 10_000,
  maxPendingRequests: 1000,
  loopGuardMs: 10_000,
} as const;

const URL_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one bridge's config; returns every problem found, each with its path under `path`. */
export function validateMqttBridge(value: unknown, path: string): ConfigProblem[] {
  const p = new ProblemList();
  if (!isObject(value)) {
    p.add(path, 'must be an object');
    return p.problems;
  }
  unknownKeys(p, value, path, ['name', 'realm', 'authid', 'authrole', 'broker', 'topics', 'rpc', 'limits']);
  if (typeof value.name !== 'string' || value.name.length === 0) p.add(`${path}.name`, 'must be a non-empty string');
  if (typeof value.realm !== 'string' || value.realm.length === 0) p.add(`${path}.realm`, 'must be a non-empty string');
  optString(p, value, 'authid', path);
  optString(p, value, 'authrole', path);
  const version = validateBroker(p, value.broker, `${path}.broker`);

  if (value.topics !== undefined && !Array.isArray(value.topics)) p.add(`${path}.topics`, 'must be a list');
  if (value.rpc !== undefined && !Array.isArray(value.rpc)) p.add(`${path}.rpc`, 'must be a list');
  const topics = Array.isArray(value.topics) ? (value.topics as unknown[]) : [];
  const rpc = Array.isArray(value.rpc) ? (value.rpc as unknown[]) : [];
  if (topics.length === 0 && rpc.length === 0) p.add(path, 'has no topics and no rpc rules: the bridge would do nothing');
  topics.forEach((rule, i) => validateTopicRule(p, rule, `${path}.topics[${i}]`));
  rpc.forEach((rule, i) => validateRpcRule(p, rule, `${path}.rpc[${i}]`, version));

  if (value.limits !== undefined) {
    const lp = `${path}.limits`;
    if (!isObject(value.limits)) p.add(lp, 'must be an object');
    else {
      unknownKeys(p, value.limits, lp, ['maxPendingPublishes', 'maxPendingRequests', 'loopGuardMs']);
      for (const k of ['maxPendingPublishes', 'maxPendingRequests', 'loopGuardMs']) optInt(p, value.limits, k, lp, 1);
    }
  }
  return p.problems;
}

function validateBroker(p: ProblemList, broker: unknown, path: string): 4 | 5 {
  if (!isObject(broker)) {
    p.add(path, 'must be an object with at least "url"');
    return 5;
  }
  unknownKeys(p, broker, path, [
    'url',
    'protocolVersion',
    'clientId',
    'username',
    'password',
    'tls',
    'keepaliveSeconds',
    'cleanStart',
    'connectTimeoutMs',
    'reconnect',
  ]);
  if (typeof broker.url !== 'string') p.add(`${path}.url`, 'must be a URL like mqtt://host:1883');
  else {
    let scheme = '';
    try {
      scheme = new URL(broker.url).protocol;
    } catch {
      p.add(`${path}.url`, `"${broker.url}" is not a URL`);
    }
    if (scheme && !URL_SCHEMES.includes(scheme)) p.add(`${path}.url`, `scheme "${scheme}" is not one of mqtt:, mqtts:, ws:, wss:`);
  }
  let version: 4 | 5 = 5;
  if (broker.protocolVersion !== undefined) {
    if (broker.protocolVersion === 4 || broker.protocolVersion === 5) version = broker.protocolVersion;
    else p.add(`${path}.protocolVersion`, 'must be 4 (MQTT 3.1.1) or 5');
  }
  optString(p, broker, 'clientId', path);
  optString(p, broker, 'username', path);
  optString(p, broker, 'password', path);
  if (broker.password !== undefined && broker.username === undefined) p.add(`${path}.password`, 'needs "username" too');
  optInt(p, broker, 'keepaliveSeconds', path, 0, 65535);
  optInt(p, broker, 'connectTimeoutMs', path, 1);
  if (broker.cleanStart !== undefined && typeof broker.cleanStart !== 'boolean') p.add(`${path}.cleanStart`, 'must be true or false');
  if (broker.tls !== undefined) {
    const tp = `${path}.tls`;
    if (!isObject(broker.tls)) p.add(tp, 'must be an object');
    else {
      unknownKeys(p, broker.tls, tp, ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername']);
      for (const k of ['ca', 'cert', 'key', 'servername']) optString(p, broker.tls, k, tp);
      if ((broker.tls.cert === undefined) !== (broker.tls.key === undefined)) p.add(tp, 'a client certificate needs both "cert" and "key"');
      if (broker.tls.rejectUnauthorized !== undefined && typeof broker.tls.rejectUnauthorized !== 'boolean')
        p.add(`${tp}.rejectUnauthorized`, 'must be true or false');
    }
  }
  if (broker.reconnect !== undefined) {
    const rp = `${path}.reconnect`;
    if (!isObject(broker.reconnect)) p.add(rp, 'must be an object');
    else {
      unknownKeys(p, broker.reconnect, rp, ['initialDelayMs', 'maxDelayMs', 'jitter']);
      const j = broker.reconnect.jitter;
      if (j !== undefined && (typeof j !== 'number' || !(j >= 0 && j <= 1))) p.add(`${rp}.jitter`, 'must be a number from 0 to 1');
      optInt(p, broker.reconnect, 'initialDelayMs', rp, 1);
      optInt(p, broker.reconnect, 'maxDelayMs', rp, 1);
      const a = broker.reconnect.initialDelayMs;
      const b = broker.reconnect.maxDelayMs;
      if (typeof a === 'number' && typeof b === 'number' && a > b) p.add(rp, '"initialDelayMs" must not exceed "maxDelayMs"');
    }
  }
  return version;
}

function validateTopicRule(p: ProblemList, rule: unknown, path: string): void {
  if (!isObject(rule)) {
    p.add(path, 'must be an object with "mqtt" and "wamp"');
    return;
  }
  unknownKeys(p, rule, path, ['mqtt', 'wamp', 'direction', 'codec', 'qos', 'retain', 'wampRetain']);
  const direction = rule.direction ?? mqttBridgeDefaults.direction;
  if (direction !== 'mqtt-to-wamp' && direction !== 'wamp-to-mqtt' && direction !== 'both') {
    p.add(`${path}.direction`, 'must be "mqtt-to-wamp", "wamp-to-mqtt" or "both"');
  }
  const mapping = validateMapping(p, rule, path);
  if (mapping && (direction === 'wamp-to-mqtt' || direction === 'both') && !mapping.wampSubscription()) {
    p.add(`${path}.wamp`, 'a WAMP -> MQTT rule whose "#" capture comes first has no WAMP subscription to back it; start the template with a literal component');
  }
  codecOf(p, rule, path);
  qosOf(p, rule, path);
  if (rule.retain !== undefined && typeof rule.retain !== 'boolean') p.add(`${path}.retain`, 'must be true or false');
  if (rule.wampRetain !== undefined && rule.wampRetain !== 'mirror' && rule.wampRetain !== 'always' && rule.wampRetain !== 'never') {
    p.add(`${path}.wampRetain`, 'must be "mirror", "always" or "never"');
  }
}

function validateRpcRule(p: ProblemList, rule: unknown, path: string, version: 4 | 5): void {
  if (!isObject(rule)) {
    p.add(path, 'must be an object with "direction", "mqtt" and "wamp"');
    return;
  }
  unknownKeys(p, rule, path, ['direction', 'mqtt', 'wamp', 'mode', 'replyTopic', 'codec', 'qos', 'timeoutMs']);
  if (rule.direction !== 'wamp-to-mqtt' && rule.direction !== 'mqtt-to-wamp') p.add(`${path}.direction`, 'must be "wamp-to-mqtt" or "mqtt-to-wamp"');
  const mapping = validateMapping(p, rule, path);
  if (mapping && rule.direction === 'wamp-to-mqtt' && !mapping.wampSubscription()) {
    p.add(`${path}.wamp`, 'a procedure template whose "#" capture comes first cannot be registered; start it with a literal component');
  }
  const mode = rule.mode ?? (version === 5 ? 'mqtt5' : 'topic-pair');
  if (mode !== 'mqtt5' && mode !== 'topic-pair') p.add(`${path}.mode`, 'must be "mqtt5" or "topic-pair"');
  else if (mode === 'mqtt5' && version !== 5) p.add(`${path}.mode`, '"mqtt5" needs broker.protocolVersion 5; use "topic-pair" for MQTT 3.1.1');
  if (rule.replyTopic !== undefined) {
    if (mode !== 'topic-pair') p.add(`${path}.replyTopic`, 'only applies to mode "topic-pair"');
    if (typeof rule.replyTopic !== 'string') p.add(`${path}.replyTopic`, 'must be an MQTT topic (with the same wildcards as "mqtt")');
    else if (typeof rule.mqtt === 'string') {
      try {
        const req = compileFilter(rule.mqtt).map((l) => l.kind);
        const rep = compileFilter(rule.replyTopic).map((l) => l.kind);
        const sig = (k: string[]) => k.filter((x) => x !== 'literal').join(',');
        if (sig(req) !== sig(rep)) p.add(`${path}.replyTopic`, 'must have the same wildcards, in the same order, as "mqtt"');
        if (rep.includes('multi') || req.includes('multi'))
          p.add(`${path}.mqtt`, 'topic-pair RPC appends the correlation id as a level, so "#" cannot be used');
      } catch (err) {
        if (err instanceof TopicMappingError) p.add(`${path}.replyTopic`, err.message);
      }
    }
  } else if (mode === 'topic-pair' && typeof rule.mqtt === 'string' && rule.mqtt.endsWith('#')) {
    p.add(`${path}.mqtt`, 'topic-pair RPC appends the correlation id as a level, so "#" cannot be used');
  }
  codecOf(p, rule, path);
  qosOf(p, rule, path);
  optInt(p, rule, 'timeoutMs', path, 1);
}

function validateMapping(p: ProblemList, rule: Record<string, unknown>, path: string): TopicMapping | undefined {
  let ok = true;
  if (typeof rule.mqtt !== 'string') {
    p.add(`${path}.mqtt`, 'must be an MQTT topic filter');
    ok = false;
  }
  if (typeof rule.wamp !== 'string') {
    p.add(`${path}.wamp`, 'must be a WAMP URI template');
    ok = false;
  }
  if (!ok) return undefined;
  try {
    const mapping = new TopicMapping({ mqtt: rule.mqtt as string, wamp: rule.wamp as string });
    const literalWamp = mapping.template.every((t) => t.kind === 'literal');
    if (literalWamp && !isValidUri(mapping.wamp, 'loose')) p.add(`${path}.wamp`, `"${mapping.wamp}" is not a valid WAMP URI`);
    if (mapping.wamp.startsWith('wamp.')) p.add(`${path}.wamp`, '"wamp." URIs are reserved for the router');
    if (mapping.captureCount === 0 && !isValidMqttTopic(mapping.mqtt)) p.add(`${path}.mqtt`, `"${mapping.mqtt}" is not a valid MQTT topic`);
    return mapping;
  } catch (err) {
    if (err instanceof TopicMappingError) p.add(`${path}.${err.field}`, err.message);
    else throw err;
    return undefined;
  }
}

function codecOf(p: ProblemList, rule: Record<string, unknown>, path: string): void {
  if (rule.codec !== undefined && !isCodecName(rule.codec)) p.add(`${path}.codec`, 'must be one of json, text, raw, cbor, msgpack');
}

function qosOf(p: ProblemList, rule: Record<string, unknown>, path: string): void {
  if (rule.qos !== undefined && rule.qos !== 0 && rule.qos !== 1 && rule.qos !== 2) p.add(`${path}.qos`, 'must be 0, 1 or 2');
}

function optString(p: ProblemList, obj: Record<string, unknown>, key: string, path: string): void {
  if (obj[key] !== undefined && typeof obj[key] !== 'string') p.add(`${path}.${key}`, 'must be a string');
}

function optInt(p: ProblemList, obj: Record<string, unknown>, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const v = obj[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) p.add(`${path}.${key}`, `must be an integer from ${min} to ${max}`);
}

function unknownKeys(p: ProblemList, obj: Record<string, unknown>, path: string, known: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) p.add(`${path}.${k}`, `unknown option (expected one of ${known.join(', ')})`);
}
