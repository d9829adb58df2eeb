// Configuration of one MQTT bridge (an entry of `bridges.mqtt`): the types as written, their
// defaults, and `readMqttBridge`, which reports every problem with its path (DESIGN §3) and
// resolves every default once into MqttBridgeSettings. mqtt-bridge.ts decides what values do.

import type { ConfigProblem } from '../../config/problem';
import { ConfigError } from '../../config/problem';
import { Check, type Obj } from '../../config/validate';
import { isValidUri } from '../../protocol/uri';
import { NETWORK_JITTER } from '../../util/backoff';
import { codecNames, type CodecName } from './payload-codecs';
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

/** A bridge's config with every default resolved: what MqttBridge runs with. */
export interface MqttBridgeSettings {
  name: string;
  realm: string;
  authid: string;
  authrole: string;
  broker: MqttBrokerSettings;
  topics: MqttTopicRuleSettings[];
  rpc: MqttRpcRuleSettings[];
  limits: Required<MqttBridgeLimits>;
}

export interface MqttBrokerSettings extends Omit<MqttBrokerConfig, 'protocolVersion' | 'keepaliveSeconds' | 'cleanStart' | 'connectTimeoutMs' | 'reconnect'> {
  protocolVersion: 4 | 5;
  keepaliveSeconds: number;
  cleanStart: boolean;
  connectTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number; jitter: number };
}

export type MqttTopicRuleSettings = Required<MqttTopicRule>;
export type MqttRpcRuleSettings = Required<MqttRpcRule>;

/** The one place of the bridge's defaults. */
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
const D = mqttBridgeDefaults;

const URL_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:'];
const BRIDGE_KEYS = ['name', 'realm', 'authid', 'authrole', 'broker', 'topics', 'rpc', 'limits'];
const BROKER_KEYS = ['url', 'protocolVersion', 'clientId', 'username', 'password', 'tls', 'keepaliveSeconds', 'cleanStart', 'connectTimeoutMs', 'reconnect'];
const QOS: readonly QoS[] = [0, 1, 2];
const MAX = Number.MAX_SAFE_INTEGER;
/** The MQTT bridge's wording for an unknown key since it was written, kept so no message users see changes. */
const UNKNOWN = (known: readonly string[]): string => `unknown option (expected one of ${known.join(', ')})`;
/** Optional strings of this section: "" is a value, anything else not a string is a problem. */
const STR = { message: 'must be a string', allowEmpty: true } as const;

/** Checks one bridge's config (problems with paths under `path` into `c`) and resolves its defaults. */
export function readMqttBridge(value: unknown, path: string, c: Check): MqttBridgeSettings | undefined {
  const v = c.object(value, path, BRIDGE_KEYS, { required: true, unknown: UNKNOWN });
  if (!v) return undefined;
  const name = c.string(v.name, `${path}.name`, { required: true, message: 'must be a non-empty string' }) ?? '';
  const realm = c.string(v.realm, `${path}.realm`, { required: true, message: 'must be a non-empty string' }) ?? '';
  const authid = c.string(v.authid, `${path}.authid`, STR) ?? `mqtt-bridge:${name}`;
  const authrole = c.string(v.authrole, `${path}.authrole`, STR) ?? D.authrole;
  const broker = readBroker(c, v.broker, `${path}.broker`);
  const version = broker?.protocolVersion ?? D.protocolVersion;
  const topicList = c.list(v.topics, `${path}.topics`) ?? [];
  const rpcList = c.list(v.rpc, `${path}.rpc`) ?? [];
  if (topicList.length === 0 && rpcList.length === 0) c.add(path, 'has no topics and no rpc rules: the bridge would do nothing');
  const topics = topicList.map((rule, i) => readTopicRule(c, rule, `${path}.topics[${i}]`));
  const rpc = rpcList.map((rule, i) => readRpcRule(c, rule, `${path}.rpc[${i}]`, version));
  const l = c.object(v.limits, `${path}.limits`, ['maxPendingPublishes', 'maxPendingRequests', 'loopGuardMs'], { unknown: UNKNOWN }) ?? {};
  const limits = {
    maxPendingPublishes: c.int(l.maxPendingPublishes, `${path}.limits.maxPendingPublishes`, { min: 1, max: MAX }) ?? D.maxPendingPublishes,
    maxPendingRequests: c.int(l.maxPendingRequests, `${path}.limits.maxPendingRequests`, { min: 1, max: MAX }) ?? D.maxPendingRequests,
    loopGuardMs: c.int(l.loopGuardMs, `${path}.limits.loopGuardMs`, { min: 1, max: MAX }) ?? D.loopGuardMs,
  };
  if (!broker || topics.includes(undefined) || rpc.includes(undefined)) return undefined;
  return { name, realm, authid, authrole, broker, topics: topics as MqttTopicRuleSettings[], rpc: rpc as MqttRpcRuleSettings[], limits };
}

/** Every problem of one bridge's config, each with its path under `path`. */
export function validateMqttBridge(value: unknown, path: string): ConfigProblem[] {
  const c = new Check();
  readMqttBridge(value, path, c);
  return c.problems;
}

/** One bridge's settings from its raw config (tests, embedding); throws ConfigError with every problem. */
export function resolveMqttBridge(value: unknown, path = 'mqttBridge'): MqttBridgeSettings {
  const c = new Check();
  const settings = readMqttBridge(value, path, c);
  if (!c.ok || !settings) throw new ConfigError(c.problems);
  return settings;
}

function readBroker(c: Check, value: unknown, path: string): MqttBrokerSettings | undefined {
  const b = c.object(value, path, BROKER_KEYS, { required: true, message: 'must be an object with at least "url"', unknown: UNKNOWN });
  if (!b) return undefined;
  const url = c.string(b.url, `${path}.url`, { required: true, allowEmpty: true, message: 'must be a URL like mqtt://host:1883' });
  if (url !== undefined) {
    let scheme = '';
    try {
      scheme = new URL(url).protocol;
    } catch {
      c.add(`${path}.url`, `"${url}" is not a URL`);
    }
    if (scheme && !URL_SCHEMES.includes(scheme)) c.add(`${path}.url`, `scheme "${scheme}" is not one of mqtt:, mqtts:, ws:, wss:`);
  }
  const protocolVersion =
    c.oneOf(b.protocolVersion, `${path}.protocolVersion`, [4, 5] as const, { message: 'must be 4 (MQTT 3.1.1) or 5' }) ?? D.protocolVersion;
  const out: MqttBrokerSettings = {
    url: url ?? '',
    protocolVersion,
    keepaliveSeconds: c.int(b.keepaliveSeconds, `${path}.keepaliveSeconds`, { min: 0, max: 65535 }) ?? D.keepaliveSeconds,
    cleanStart: c.bool(b.cleanStart, `${path}.cleanStart`) ?? D.cleanStart,
    connectTimeoutMs: c.int(b.connectTimeoutMs, `${path}.connectTimeoutMs`, { min: 1, max: MAX }) ?? D.connectTimeoutMs,
    reconnect: readReconnect(c, b.reconnect, `${path}.reconnect`),
  };
  for (const k of ['clientId', 'username', 'password'] as const) {
    const s = c.string(b[k], `${path}.${k}`, STR);
    if (s !== undefined) out[k] = s;
  }
  if (b.password !== undefined && b.username === undefined) c.add(`${path}.password`, 'needs "username" too');
  const tls = c.object(b.tls, `${path}.tls`, ['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'], { unknown: UNKNOWN });
  if (tls) {
    out.tls = {};
    for (const k of ['ca', 'cert', 'key', 'servername'] as const) {
      const s = c.string(tls[k], `${path}.tls.${k}`, STR);
      if (s !== undefined) out.tls[k] = s;
    }
    if ((tls.cert === undefined) !== (tls.key === undefined)) c.add(`${path}.tls`, 'a client certificate needs both "cert" and "key"');
    const reject = c.bool(tls.rejectUnauthorized, `${path}.tls.rejectUnauthorized`);
    if (reject !== undefined) out.tls.rejectUnauthorized = reject;
  }
  return out;
}

function readReconnect(c: Check, value: unknown, path: string): MqttBrokerSettings['reconnect'] {
  const r = c.object(value, path, ['initialDelayMs', 'maxDelayMs', 'jitter'], { unknown: UNKNOWN }) ?? {};
  const jitter = c.number(r.jitter, `${path}.jitter`, { min: 0, max: 1 });
  const initialDelayMs = c.int(r.initialDelayMs, `${path}.initialDelayMs`, { min: 1, max: MAX });
  const maxDelayMs = c.int(r.maxDelayMs, `${path}.maxDelayMs`, { min: 1, max: MAX });
  if (initialDelayMs !== undefined && maxDelayMs !== undefined && initialDelayMs > maxDelayMs) c.add(path, '"initialDelayMs" must not exceed "maxDelayMs"');
  return { initialDelayMs: initialDelayMs ?? D.reconnectInitialDelayMs, maxDelayMs: maxDelayMs ?? D.reconnectMaxDelayMs, jitter: jitter ?? D.reconnectJitter };
}

function readTopicRule(c: Check, value: unknown, path: string): MqttTopicRuleSettings | undefined {
  const rule = c.object(value, path, ['mqtt', 'wamp', 'direction', 'codec', 'qos', 'retain', 'wampRetain'], {
    required: true,
    message: 'must be an object with "mqtt" and "wamp"',
    unknown: UNKNOWN,
  });
  if (!rule) return undefined;
  const direction =
    c.oneOf(rule.direction, `${path}.direction`, ['mqtt-to-wamp', 'wamp-to-mqtt', 'both'] as const, {
      message: 'must be "mqtt-to-wamp", "wamp-to-mqtt" or "both"',
    }) ?? D.direction;
  const mapping = readMapping(c, rule, path);
  if (mapping && (direction === 'wamp-to-mqtt' || direction === 'both') && !mapping.wampSubscription()) {
    c.add(`${path}.wamp`, 'a WAMP -> MQTT rule whose "#" capture comes first has no WAMP subscription to back it; start the template with a literal component');
  }
  const codec = c.oneOf(rule.codec, `${path}.codec`, codecNames) ?? D.codec;
  const qos = c.oneOf(rule.qos, `${path}.qos`, QOS, { message: 'must be 0, 1 or 2' }) ?? D.qos;
  const retain = c.bool(rule.retain, `${path}.retain`) ?? false;
  const wampRetain =
    c.oneOf(rule.wampRetain, `${path}.wampRetain`, ['mirror', 'always', 'never'] as const, { message: 'must be "mirror", "always" or "never"' }) ??
    D.wampRetain;
  return mapping && { mqtt: mapping.mqtt, wamp: mapping.wamp, direction, codec, qos, retain, wampRetain };
}

function readRpcRule(c: Check, value: unknown, path: string, version: 4 | 5): MqttRpcRuleSettings | undefined {
  const rule = c.object(value, path, ['direction', 'mqtt', 'wamp', 'mode', 'replyTopic', 'codec', 'qos', 'timeoutMs'], {
    required: true,
    message: 'must be an object with "direction", "mqtt" and "wamp"',
    unknown: UNKNOWN,
  });
  if (!rule) return undefined;
  const direction = c.oneOf(rule.direction, `${path}.direction`, ['wamp-to-mqtt', 'mqtt-to-wamp'] as const, {
    required: true,
    message: 'must be "wamp-to-mqtt" or "mqtt-to-wamp"',
  });
  const mapping = readMapping(c, rule, path);
  if (mapping && direction === 'wamp-to-mqtt' && !mapping.wampSubscription()) {
    c.add(`${path}.wamp`, 'a procedure template whose "#" capture comes first cannot be registered; start it with a literal component');
  }
  const mode =
    c.oneOf(rule.mode, `${path}.mode`, ['mqtt5', 'topic-pair'] as const, { message: 'must be "mqtt5" or "topic-pair"' }) ??
    (version === 5 ? 'mqtt5' : 'topic-pair');
  if (mode === 'mqtt5' && version !== 5) c.add(`${path}.mode`, '"mqtt5" needs broker.protocolVersion 5; use "topic-pair" for MQTT 3.1.1');
  checkReplyTopic(c, rule, path, mode);
  const codec = c.oneOf(rule.codec, `${path}.codec`, codecNames) ?? D.codec;
  const qos = c.oneOf(rule.qos, `${path}.qos`, QOS, { message: 'must be 0, 1 or 2' }) ?? D.rpcQos;
  const timeoutMs = c.int(rule.timeoutMs, `${path}.timeoutMs`, { min: 1, max: MAX }) ?? D.rpcTimeoutMs;
  if (!mapping || !direction) return undefined;
  const replyTopic = typeof rule.replyTopic === 'string' ? rule.replyTopic : `${mapping.mqtt}/reply`;
  return { direction, mqtt: mapping.mqtt, wamp: mapping.wamp, mode, replyTopic, codec, qos, timeoutMs };
}

/** topic-pair RPC appends the correlation id as a level: the reply topic mirrors the request's wildcards. */
function checkReplyTopic(c: Check, rule: Obj, path: string, mode: RpcMode): void {
  if (rule.replyTopic !== undefined) {
    if (mode !== 'topic-pair') c.add(`${path}.replyTopic`, 'only applies to mode "topic-pair"');
    if (typeof rule.replyTopic !== 'string') c.add(`${path}.replyTopic`, 'must be an MQTT topic (with the same wildcards as "mqtt")');
    else if (typeof rule.mqtt === 'string') {
      try {
        const req = compileFilter(rule.mqtt).map((l) => l.kind);
        const rep = compileFilter(rule.replyTopic).map((l) => l.kind);
        const sig = (k: string[]) => k.filter((x) => x !== 'literal').join(',');
        if (sig(req) !== sig(rep)) c.add(`${path}.replyTopic`, 'must have the same wildcards, in the same order, as "mqtt"');
        if (rep.includes('multi') || req.includes('multi'))
          c.add(`${path}.mqtt`, 'topic-pair RPC appends the correlation id as a level, so "#" cannot be used');
      } catch (err) {
        if (err instanceof TopicMappingError) c.add(`${path}.replyTopic`, err.message);
      }
    }
  } else if (mode === 'topic-pair' && typeof rule.mqtt === 'string' && rule.mqtt.endsWith('#')) {
    c.add(`${path}.mqtt`, 'topic-pair RPC appends the correlation id as a level, so "#" cannot be used');
  }
}

function readMapping(c: Check, rule: Obj, path: string): TopicMapping | undefined {
  const mqtt = c.string(rule.mqtt, `${path}.mqtt`, { required: true, message: 'must be an MQTT topic filter' });
  const wamp = c.string(rule.wamp, `${path}.wamp`, { required: true, message: 'must be a WAMP URI template' });
  if (mqtt === undefined || wamp === undefined) return undefined;
  try {
    const mapping = new TopicMapping({ mqtt, wamp });
    const literalWamp = mapping.template.every((t) => t.kind === 'literal');
    if (literalWamp && !isValidUri(mapping.wamp, 'loose')) c.add(`${path}.wamp`, `"${mapping.wamp}" is not a valid WAMP URI`);
    if (mapping.wamp.startsWith('wamp.')) c.add(`${path}.wamp`, '"wamp." URIs are reserved for the router');
    if (mapping.captureCount === 0 && !isValidMqttTopic(mapping.mqtt)) c.add(`${path}.mqtt`, `"${mapping.mqtt}" is not a valid MQTT topic`);
    return mapping;
  } catch (err) {
    if (err instanceof TopicMappingError) c.add(`${path}.${err.field}`, err.message);
    else throw err;
    return undefined;
  }
}
