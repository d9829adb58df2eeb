// The MQTT bridge: one MQTT client connection and one local WAMP session, moving events and
// calls between them by the configured rules (DESIGN §1: a bridge is a session; §4). Owns the
// MQTT connection (reconnect with backoff, re-subscribe), loop prevention and RPC correlation;
// not the mapping (topic-mapping.ts), the payload rules (payload-codecs.ts) nor routing.

import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, Store, type IClientOptions, type IClientSubscribeOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { SessionKeeper } from '../../client/session-keeper';
import { Result, type WampClient, type CallResult, type EventHandler, type InvocationHandler } from '../../client/wamp-client';
import { WampError } from '../../client/wamp-error';
import { ConfigError } from '../../config/problem';
import type { Dict } from '../../protocol/messages';
import type { Peer } from '../../protocol/peer';
import type { Logger } from '../../util/logger';
import { mqttBridgeDefaults as D, validateMqttBridge, type MqttBridgeConfig, type QoS, type RpcMode, type WampRetain } from './config';
import { payloadCodecs, PayloadCodecError, type PayloadCodec, type WampPayload } from './payload-codecs';
import { compileFilter, fillFilter, matchFilter, TopicMapping, type FilterLevel, type WampSubscriptionSpec } from './topic-mapping';

/** Error URIs a WAMP caller can get from a bridged procedure (docs/mqtt-bridge.md "RPC"). */
export const MqttBridgeErrorUri = {
  timeout: 'wampgate.error.mqtt_timeout',
  unavailable: 'wampgate.error.mqtt_unavailable',
  busy: 'wampgate.error.mqtt_busy',
  badReply: 'wampgate.error.mqtt_bad_reply',
} as const;

/** MQTT 5 user property that carries a WAMP error URI on an RPC reply (both directions). */
export const WAMP_ERROR_PROPERTY = 'wamp-error';

export type MqttBridgeState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface MqttBridgeDeps {
  router: { attachLocal(name: string, identity: { authid: string; authrole: string }): Peer };
  logger: Logger;
}

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

interface InboundRule {
  mapping: TopicMapping;
  codec: PayloadCodec;
  wampRetain: WampRetain;
}

interface OutboundRule {
  mapping: TopicMapping;
  codec: PayloadCodec;
  qos: QoS;
  retain: boolean;
  subscription: WampSubscriptionSpec;
}

interface RpcRule {
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

interface PendingRequest {
  rule: RpcRule;
  timer: NodeJS.Timeout;
  resolve(value: Result): void;
  reject(err: Error): void;
}

const noop = (): void => undefined;

export class MqttBridge {
  readonly name: string;
  private readonly config: MqttBridgeConfig;
  private readonly log: Logger;
  private readonly version: 4 | 5;
  private readonly clientId: string;
  private readonly inbound: InboundRule[] = [];
  private readonly outbound: OutboundRule[] = [];
  private readonly rpcOut: RpcRule[] = [];
  private readonly rpcIn: RpcRule[] = [];
  /** MQTT 5 response topic of this bridge's wamp-to-mqtt requests (one per client id). */
  private readonly replyTopicV5: string;
  /** filter -> subscription options: what is (re-)subscribed on every connect. */
  private readonly mqttSubscriptions = new Map<string, IClientSubscribeOptions>();
  /** correlation id -> the WAMP call waiting for the device's reply. */
  private readonly pendingRequests = new Map<string, PendingRequest>();
  private readonly loopGuard: LoopGuard | undefined;
  private readonly counters: MqttBridgeCounters = {
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
  private client: MqttClient | undefined;
  /** The bridge's own WAMP session, rejoined if it is closed under it. */
  private readonly keeper: SessionKeeper;
  private state: MqttBridgeState = 'stopped';
  private since = new Date();
  private subscribed = false;
  private lastError: string | undefined;
  private stopping = false;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pendingPublishes = 0;
  private correlationSeq = 0;
  /** Distinguishes this run's correlation ids from a previous run's late replies. */
  private readonly correlationTag = randomBytes(4).toString('hex');
  /** Stores kept across reconnect(): unacknowledged QoS 1/2 publishes are resent, not lost. */
  private readonly incomingStore = new Store();
  private readonly outgoingStore = new Store();
  /** Set while start() waits for the first connect attempt to settle. */
  private firstAttempt: (() => void) | undefined;
  /** log key -> last time it was logged: a flood of bad payloads must not flood the log. */
  private readonly lastLogged = new Map<string, number>();

  constructor(config: MqttBridgeConfig, deps: MqttBridgeDeps) {
    const problems = validateMqttBridge(config, 'mqttBridge');
    if (problems.length > 0) throw new ConfigError(problems);
    this.config = config;
    this.name = config.name;
    this.log = deps.logger.child(`mqtt-bridge:${config.name}`);
    this.keeper = new SessionKeeper({
      name: `mqtt-bridge:${config.name}`,
      realm: config.realm,
      identity: { authid: config.authid ?? `mqtt-bridge:${config.name}`, authrole: config.authrole ?? D.authrole },
      router: deps.router,
      setup: (wamp) => this.setupWamp(wamp),
      logger: this.log,
    });
    this.version = config.broker.protocolVersion ?? D.protocolVersion;
    this.clientId = config.broker.clientId ?? `wampgate-${config.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(3).toString('hex')}`;
    this.replyTopicV5 = `wampgate/rpc-reply/${this.clientId.replace(/[+#/]/g, '_')}`;
    const v5 = this.version === 5;

    for (const rule of config.topics ?? []) {
      const mapping = new TopicMapping({ mqtt: rule.mqtt, wamp: rule.wamp });
      const codec = payloadCodecs[rule.codec ?? D.codec];
      const qos = rule.qos ?? D.qos;
      const direction = rule.direction ?? D.direction;
      if (direction !== 'wamp-to-mqtt') {
        this.inbound.push({ mapping, codec, wampRetain: rule.wampRetain ?? D.wampRetain });
        // noLocal: the broker does not send back what this client published (MQTT 5 §3.8.3.1);
        // retainAsPublished: live retained publishes keep their flag, so WAMP retention follows.
        this.addSubscription(rule.mqtt, v5 ? { qos, nl: true, rap: true } : { qos });
      }
      if (direction !== 'mqtt-to-wamp') {
        const subscription = mapping.wampSubscription();
        if (subscription) this.outbound.push({ mapping, codec, qos, retain: rule.retain ?? false, subscription });
      }
    }
    for (const r of config.rpc ?? []) {
      const mapping = new TopicMapping({ mqtt: r.mqtt, wamp: r.wamp });
      const mode: RpcMode = r.mode ?? (v5 ? 'mqtt5' : 'topic-pair');
      const replyFilter = r.replyTopic ?? `${r.mqtt}/reply`;
      const rule: RpcRule = {
        mapping,
        codec: payloadCodecs[r.codec ?? D.codec],
        qos: r.qos ?? D.rpcQos,
        mode,
        timeoutMs: r.timeoutMs ?? D.rpcTimeoutMs,
        requestWithId: compileFilter(`${r.mqtt}/+`),
        reply: compileFilter(replyFilter),
        replyWithId: compileFilter(`${replyFilter}/+`),
      };
      const opts: IClientSubscribeOptions = v5 ? { qos: rule.qos, nl: true } : { qos: rule.qos };
      if (r.direction === 'wamp-to-mqtt') {
        this.rpcOut.push(rule);
        this.addSubscription(mode === 'mqtt5' ? this.replyTopicV5 : `${replyFilter}/+`, opts);
      } else {
        this.rpcIn.push(rule);
        this.addSubscription(mode === 'mqtt5' ? r.mqtt : `${r.mqtt}/+`, opts);
      }
    }
    // MQTT 3.1.1 has no noLocal: remember what was sent where it could come back (DESIGN: loop
    // prevention, docs "Loop prevention").
    if (!v5 && this.outbound.length > 0 && this.inbound.length > 0) this.loopGuard = new LoopGuard(config.limits?.loopGuardMs ?? D.loopGuardMs);
  }

  private addSubscription(filter: string, opts: IClientSubscribeOptions): void {
    const prev = this.mqttSubscriptions.get(filter);
    if (prev && prev.qos >= opts.qos) return;
    this.mqttSubscriptions.set(filter, { ...prev, ...opts });
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
    if (this.client) throw new Error(`mqtt bridge "${this.name}" already started`);
    this.stopping = false;
    // Before joining: unreadable TLS files must reject start() without leaving a session behind.
    const options = this.clientOptions();
    await this.keeper.start();
    const settled = new Promise<void>((resolve) => (this.firstAttempt = resolve));
    this.setState('connecting');
    const client = connect(this.config.broker.url, options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    const limit = (this.config.broker.connectTimeoutMs ?? D.connectTimeoutMs) + 1000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise<void>((r) => (timer = setTimeout(r, limit)))]);
    clearTimeout(timer);
    this.firstAttempt = undefined;
  }

  /** Disconnects from the broker, answers waiting calls with an error, leaves the realm. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    for (const [id, p] of this.pendingRequests) {
      clearTimeout(p.timer);
      p.reject(new WampError('wamp.error.canceled', [`mqtt bridge "${this.name}" stopped`]));
      this.pendingRequests.delete(id);
    }
    const client = this.client;
    if (client) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        try {
          // Graceful DISCONNECT when connected (the broker then drops no will); forced otherwise.
          client.end(!client.connected, {}, () => {
            clearTimeout(timer);
            resolve();
          });
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
      client.removeAllListeners();
      client.on('error', noop);
    }
    this.loopGuard?.clear();
    await this.keeper.stop('wamp.close.normal');
    this.setState('stopped');
  }

  status(): MqttBridgeStatus {
    const s: MqttBridgeStatus = {
      name: this.name,
      broker: redactUrl(this.config.broker.url),
      state: this.state,
      since: this.since.toISOString(),
      subscribed: this.subscribed,
      wamp: this.keeper.state,
      counters: { ...this.counters },
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private setState(state: MqttBridgeState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = new Date();
  }

  private clientOptions(): IClientOptions {
    const b = this.config.broker;
    const o: IClientOptions = {
      protocolVersion: this.version,
      clientId: this.clientId,
      keepalive: b.keepaliveSeconds ?? D.keepaliveSeconds,
      clean: b.cleanStart ?? D.cleanStart,
      connectTimeout: b.connectTimeoutMs ?? D.connectTimeoutMs,
      // The bridge runs its own backoff (mqtt.js only knows a fixed period) and re-subscribes
      // itself on every CONNACK, whether or not the broker kept a session.
      reconnectPeriod: 0,
      resubscribe: false,
      // QoS 0 while offline is dropped and counted by the bridge, not queued without bound.
      queueQoSZero: false,
      incomingStore: this.incomingStore,
      outgoingStore: this.outgoingStore,
    };
    if (b.username !== undefined) o.username = b.username;
    if (b.password !== undefined) o.password = b.password;
    if (b.tls) {
      if (b.tls.ca !== undefined) o.ca = readFileSync(b.tls.ca);
      if (b.tls.cert !== undefined) o.cert = readFileSync(b.tls.cert);
      if (b.tls.key !== undefined) o.key = readFileSync(b.tls.key);
      if (b.tls.rejectUnauthorized !== undefined) o.rejectUnauthorized = b.tls.rejectUnauthorized;
      if (b.tls.servername !== undefined) o.servername = b.tls.servername;
    }
    if (this.version === 5 && o.clean === false) o.properties = { sessionExpiryInterval: 3600 };
    return o;
  }

  // ---- MQTT connection --------------------------------------------------------------------

  private onConnect(): void {
    this.counters.connects++;
    this.reconnectAttempt = 0;
    this.setState('connected');
    this.log.info('connected', { broker: redactUrl(this.config.broker.url), clientId: this.clientId });
    const client = this.client;
    if (!client || this.mqttSubscriptions.size === 0) {
      this.subscribed = true;
      this.firstAttempt?.();
      return;
    }
    const map: Record<string, IClientSubscribeOptions> = Object.fromEntries(this.mqttSubscriptions);
    client.subscribe(map, (err, granted) => {
      if (err) {
        this.fail('subscribe failed', err);
        return;
      }
      for (const g of granted ?? []) {
        if (g.qos === 128 || g.qos > 2) this.fail(`broker refused subscription to "${g.topic}"`, undefined);
      }
      this.subscribed = true;
      this.firstAttempt?.();
    });
  }

  private onClose(): void {
    this.subscribed = false;
    if (this.stopping) return;
    if (this.state === 'connected') this.log.warn('connection lost', { broker: redactUrl(this.config.broker.url) });
    else this.counters.connectFailures++;
    this.setState('reconnecting');
    this.firstAttempt?.();
    if (this.reconnectTimer) return;
    const r = this.config.broker.reconnect ?? {};
    const initial = r.initialDelayMs ?? D.reconnectInitialDelayMs;
    const max = r.maxDelayMs ?? D.reconnectMaxDelayMs;
    const base = Math.min(max, initial * 2 ** Math.min(this.reconnectAttempt, 20));
    // Jitter keeps a fleet of gateways from reconnecting in lockstep after a broker restart.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.reconnectAttempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopping || !this.client) return;
      try {
        this.client.reconnect({ incomingStore: this.incomingStore, outgoingStore: this.outgoingStore });
      } catch (err) {
        this.fail('reconnect failed', err);
        this.onClose();
      }
    }, delay);
  }

  private onError(err: Error): void {
    this.lastError = err.message;
    this.logLimited('error', 'warn', 'mqtt client error', { error: err.message });
  }

  private fail(msg: string, err: unknown): void {
    const text = err === undefined ? msg : `${msg}: ${err instanceof Error ? err.message : String(err)}`;
    this.lastError = text;
    this.log.error(text);
  }

  private logLimited(key: string, level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    const last = this.lastLogged.get(key) ?? 0;
    if (now - last < 10_000) return;
    this.lastLogged.set(key, now);
    this.log[level](msg, fields);
  }

  /** Publishes to the broker within the pending limit; counts what is dropped. */
  private publishMqtt(
    topic: string,
    payload: Buffer,
    opts: { qos: QoS; retain?: boolean; properties?: IClientOptions['properties'] & Dict },
    onError?: (err: Error) => void,
  ): boolean {
    const client = this.client;
    const max = this.config.limits?.maxPendingPublishes ?? D.maxPendingPublishes;
    if (!client || (opts.qos === 0 && !client.connected) || this.pendingPublishes >= max) {
      this.counters.dropped++;
      onError?.(new Error(client?.connected ? 'too many pending publishes' : 'not connected to the broker'));
      return false;
    }
    if (this.loopGuard && this.inbound.some((r) => matchFilter(r.mapping.filter, topic))) this.loopGuard.remember(topic, payload);
    this.pendingPublishes++;
    try {
      client.publish(topic, payload, opts as never, (err) => {
        this.pendingPublishes--;
        if (err) {
          this.counters.dropped++;
          this.logLimited('publish', 'warn', 'publish failed', { topic, error: err.message });
          onError?.(err);
        } else this.counters.published++;
      });
    } catch (err) {
      this.pendingPublishes--;
      this.counters.dropped++;
      onError?.(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    return true;
  }

  // ---- MQTT -> WAMP -----------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    this.counters.received++;
    try {
      if (this.loopGuard?.consume(topic, payload)) {
        this.counters.loopsSuppressed++;
        return;
      }
      if (this.rpcOut.length > 0 && this.onRpcReply(topic, payload, packet)) return;
      if (this.rpcIn.length > 0 && this.onRpcRequest(topic, payload, packet)) return;
      for (const rule of this.inbound) {
        const uri = rule.mapping.mqttToWamp(topic);
        if (uri === undefined) continue;
        this.toWamp(rule, uri, payload, packet.retain);
        return;
      }
      // A filter matched at the broker but no rule here: a topic the mapping cannot express.
      this.counters.unmappable++;
    } catch (err) {
      // An internal bug on one message must not take down the bridge (DESIGN §3).
      this.logLimited('bug', 'error', 'message handling failed', { topic, error: err instanceof Error ? err.stack : String(err) });
    }
  }

  private toWamp(rule: InboundRule, uri: string, payload: Buffer, retained: boolean): void {
    let decoded: WampPayload;
    try {
      decoded = rule.codec.decode(payload);
    } catch (err) {
      this.counters.decodeErrors++;
      this.logLimited('decode', 'warn', 'payload does not decode', {
        topic: uri,
        codec: rule.codec.name,
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    const wamp = this.keeper.session;
    if (!wamp || wamp.closed) {
      this.counters.dropped++;
      return;
    }
    const retain = rule.wampRetain === 'always' || (rule.wampRetain === 'mirror' && retained);
    // exclude_me stays at its default (true): the bridge never gets its own events back.
    wamp.publish(uri, decoded.args, decoded.kwargs, retain ? { retain: true } : {}).catch(() => this.counters.dropped++);
    this.counters.wampPublished++;
  }

  // ---- WAMP -> MQTT -----------------------------------------------------------------------

  private outboundHandler(rule: OutboundRule): EventHandler {
    return (args, kwargs, details) => {
      this.counters.wampReceived++;
      const uri = typeof details.topic === 'string' ? details.topic : rule.subscription.uri;
      const topic = rule.mapping.wampToMqtt(uri);
      if (topic === undefined) {
        this.counters.unmappable++;
        return;
      }
      let payload: Buffer;
      try {
        payload = rule.codec.encode(args, kwargs);
      } catch (err) {
        this.counters.encodeErrors++;
        this.logLimited('encode', 'warn', 'payload does not encode', {
          topic: uri,
          codec: rule.codec.name,
          error: err instanceof Error ? err.message : String(err),
        });
        return;
      }
      this.publishMqtt(topic, payload, { qos: rule.qos, retain: rule.retain });
    };
  }

  // ---- WAMP session -----------------------------------------------------------------------

  /** Subscriptions and registrations of the rules; runs on every (re)join of the session. */
  private async setupWamp(wamp: WampClient): Promise<void> {
    // A rule the role may not use is logged and skipped; the other rules keep working.
    const setups: Array<Promise<unknown>> = [];
    for (const rule of this.outbound) {
      const options: Dict = rule.subscription.match === 'exact' ? {} : { match: rule.subscription.match };
      setups.push(
        wamp
          .subscribe(rule.subscription.uri, this.outboundHandler(rule), options)
          .catch((err: unknown) => this.fail(`cannot subscribe to "${rule.subscription.uri}"`, err)),
      );
    }
    for (const rule of this.rpcOut) {
      const reg = rule.mapping.wampSubscription();
      if (!reg) continue;
      const options: Dict = reg.match === 'exact' ? {} : { match: reg.match };
      setups.push(wamp.register(reg.uri, this.rpcOutHandler(rule, reg), options).catch((err: unknown) => this.fail(`cannot register "${reg.uri}"`, err)));
    }
    await Promise.all(setups);
  }

  // ---- RPC: WAMP procedure -> MQTT request ------------------------------------------------

  private rpcOutHandler(rule: RpcRule, reg: WampSubscriptionSpec): InvocationHandler {
    return (args, kwargs, details) => {
      this.counters.rpcCalls++;
      const procedure = typeof details.procedure === 'string' ? details.procedure : reg.uri;
      const topic = rule.mapping.wampToMqtt(procedure);
      if (topic === undefined) {
        this.counters.unmappable++;
        throw new WampError('wamp.error.invalid_uri', [`"${procedure}" maps to no MQTT topic`]);
      }
      if (!this.client?.connected) throw new WampError(MqttBridgeErrorUri.unavailable, [`not connected to ${redactUrl(this.config.broker.url)}`]);
      if (this.pendingRequests.size >= (this.config.limits?.maxPendingRequests ?? D.maxPendingRequests)) {
        throw new WampError(MqttBridgeErrorUri.busy, ['too many MQTT requests waiting for a reply']);
      }
      let payload: Buffer;
      try {
        payload = rule.codec.encode(args, kwargs);
      } catch (err) {
        this.counters.encodeErrors++;
        throw new WampError('wamp.error.invalid_argument', [err instanceof Error ? err.message : String(err)]);
      }
      const id = `${this.correlationTag}${(++this.correlationSeq).toString(36)}`;
      return new Promise<Result>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(entry.timer);
          this.pendingRequests.delete(id);
        };
        const entry: PendingRequest = {
          rule,
          timer: setTimeout(() => {
            this.pendingRequests.delete(id);
            this.counters.rpcTimeouts++;
            reject(new WampError(MqttBridgeErrorUri.timeout, [`no reply to the request on "${topic}" within ${rule.timeoutMs} ms`]));
          }, rule.timeoutMs),
          resolve: (value) => {
            done();
            resolve(value);
          },
          reject: (err) => {
            done();
            reject(err);
          },
        };
        this.pendingRequests.set(id, entry);
        details.signal.addEventListener('abort', () => entry.reject(new WampError('wamp.error.canceled')));
        const onError = (err: Error): void => {
          this.counters.rpcErrors++;
          entry.reject(new WampError(MqttBridgeErrorUri.unavailable, [err.message]));
        };
        if (rule.mode === 'mqtt5') {
          this.publishMqtt(topic, payload, { qos: rule.qos, properties: { responseTopic: this.replyTopicV5, correlationData: Buffer.from(id) } }, onError);
        } else {
          this.publishMqtt(`${topic}/${id}`, payload, { qos: rule.qos }, onError);
        }
      });
    };
  }

  /** Settles a waiting call when `topic` is one of its replies; false when it is not a reply. */
  private onRpcReply(topic: string, payload: Buffer, packet: IPublishPacket): boolean {
    let id: string | undefined;
    let pending: PendingRequest | undefined;
    if (topic === this.replyTopicV5) {
      const cd = packet.properties?.correlationData;
      id = cd ? Buffer.from(cd).toString() : undefined;
      pending = id === undefined ? undefined : this.pendingRequests.get(id);
      if (!pending) return true; // late (after a timeout) or foreign: nothing waits for it
    } else {
      for (const rule of this.rpcOut) {
        if (rule.mode !== 'topic-pair') continue;
        const captures = matchFilter(rule.replyWithId, topic);
        if (!captures) continue;
        const last = captures[captures.length - 1];
        id = typeof last === 'string' ? last : undefined;
        pending = id === undefined ? undefined : this.pendingRequests.get(id);
        if (!pending) return true;
        break;
      }
      if (!pending) return false;
    }
    let decoded: WampPayload;
    try {
      decoded = pending.rule.codec.decode(payload);
    } catch (err) {
      this.counters.decodeErrors++;
      this.counters.rpcErrors++;
      pending.reject(new WampError(MqttBridgeErrorUri.badReply, [err instanceof Error ? err.message : String(err)]));
      return true;
    }
    const errorUri = userProperty(packet, WAMP_ERROR_PROPERTY);
    if (errorUri !== undefined) {
      this.counters.rpcErrors++;
      pending.reject(new WampError(errorUri, decoded.args, decoded.kwargs));
    } else pending.resolve(new Result(decoded.args, decoded.kwargs));
    return true;
  }

  // ---- RPC: MQTT request -> WAMP call -> MQTT reply ---------------------------------------

  private onRpcRequest(topic: string, payload: Buffer, packet: IPublishPacket): boolean {
    for (const rule of this.rpcIn) {
      let requestTopic = topic;
      let replyTo: string | undefined;
      let correlation: Buffer | undefined;
      if (rule.mode === 'mqtt5') {
        if (!matchFilter(rule.mapping.filter, topic)) continue;
        const rt = packet.properties?.responseTopic;
        replyTo = typeof rt === 'string' ? rt : undefined;
        const cd = packet.properties?.correlationData;
        correlation = cd ? Buffer.from(cd) : undefined;
      } else {
        const captures = matchFilter(rule.requestWithId, topic);
        if (!captures) continue;
        const id = captures.pop();
        requestTopic = topic.slice(0, topic.lastIndexOf('/'));
        replyTo = `${fillFilter(rule.reply, captures)}/${typeof id === 'string' ? id : ''}`;
      }
      const procedure = rule.mapping.mqttToWamp(requestTopic);
      if (procedure === undefined) {
        this.counters.unmappable++;
        return true;
      }
      this.serveRequest(rule, procedure, payload, replyTo, correlation);
      return true;
    }
    return false;
  }

  private serveRequest(rule: RpcRule, procedure: string, payload: Buffer, replyTo: string | undefined, correlation: Buffer | undefined): void {
    const reply = (body: Buffer, errorUri?: string): void => {
      if (replyTo === undefined) return; // a request without a response topic is fire-and-forget
      const properties: Dict = {};
      if (rule.mode === 'mqtt5') {
        if (correlation) properties.correlationData = correlation;
        if (errorUri !== undefined) properties.userProperties = { [WAMP_ERROR_PROPERTY]: errorUri };
      }
      this.publishMqtt(replyTo, body, rule.mode === 'mqtt5' ? { qos: rule.qos, properties } : { qos: rule.qos });
    };
    const replyError = (uri: string, args: unknown[], kwargs: Dict): void => {
      this.counters.rpcErrors++;
      if (rule.mode === 'mqtt5') reply(this.encodeOr(rule.codec, args, kwargs), uri);
      // topic-pair has no header for it: the error travels as a payload object (docs "RPC").
      else reply(this.encodeOr(rule.codec, [], { error: uri, args, kwargs }, uri));
    };
    let decoded: WampPayload;
    try {
      decoded = rule.codec.decode(payload);
    } catch (err) {
      this.counters.decodeErrors++;
      replyError('wamp.error.invalid_argument', [err instanceof Error ? err.message : String(err)], {});
      return;
    }
    const wamp = this.keeper.session;
    if (!wamp || wamp.closed) {
      this.counters.dropped++;
      replyError('wamp.error.canceled', ['the bridge has no WAMP session'], {});
      return;
    }
    wamp.call(procedure, decoded.args, decoded.kwargs).then(
      (result: CallResult) => {
        this.counters.rpcServed++;
        let body: Buffer;
        try {
          body = rule.codec.encode(result.args, result.kwargs);
        } catch (err) {
          this.counters.encodeErrors++;
          replyError('wamp.error.invalid_argument', [`result does not encode: ${err instanceof Error ? err.message : String(err)}`], {});
          return;
        }
        reply(body);
      },
      (err: unknown) => {
        if (err instanceof WampError) replyError(err.error, err.args, err.kwargs);
        else replyError('wamp.error.runtime_error', [String(err)], {});
      },
    );
  }

  private encodeOr(codec: PayloadCodec, args: unknown[], kwargs: Dict, fallback?: string): Buffer {
    try {
      return codec.encode(args, kwargs);
    } catch (err) {
      if (!(err instanceof PayloadCodecError)) throw err;
      return Buffer.from(fallback ?? '', 'utf8');
    }
  }
}

function userProperty(packet: IPublishPacket, name: string): string | undefined {
  const v = packet.properties?.userProperties?.[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** The broker URL without credentials, for logs and status. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * MQTT 3.1.1 loop guard: (topic, payload) pairs this bridge just published, consumed when they
 * come back. A multiset with a time limit: a device publishing the very same bytes on the same
 * topic within `ttlMs` of the bridge is taken for the echo (documented trade-off).
 */
class LoopGuard {
  /** "topic\0sha1(payload)" -> how many sends are outstanding, and when the newest expires. */
  private readonly sent = new Map<string, { count: number; expires: number }>();
  private nextSweep = 0;

  constructor(private readonly ttlMs: number) {}

  remember(topic: string, payload: Buffer): void {
    const now = Date.now();
    if (now >= this.nextSweep) this.sweep(now);
    const key = keyOf(topic, payload);
    const e = this.sent.get(key);
    if (e) {
      e.count++;
      e.expires = now + this.ttlMs;
    } else this.sent.set(key, { count: 1, expires: now + this.ttlMs });
  }

  consume(topic: string, payload: Buffer): boolean {
    if (this.sent.size === 0) return false;
    const key = keyOf(topic, payload);
    const e = this.sent.get(key);
    if (!e) return false;
    if (e.expires < Date.now()) {
      this.sent.delete(key);
      return false;
    }
    if (--e.count === 0) this.sent.delete(key);
    return true;
  }

  clear(): void {
    this.sent.clear();
  }

  private sweep(now: number): void {
    for (const [k, e] of this.sent) if (e.expires < now) this.sent.delete(k);
    this.nextSweep = now + this.ttlMs;
  }
}

function keyOf(topic: string, payload: Buffer): string {
  return `${topic}\u0000${createHash('sha1').update(payload).digest('base64')}`;
}
