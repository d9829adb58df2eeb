// An MQTT bridge's connection to its broker: client options (TLS files, MQTT 5 session),
// connect, (re-)subscribe on every CONNACK, reconnect with backoff keeping unacknowledged QoS 1/2
// publishes, and publishing within the pending limit. What a message means is the bridge's and
// RPC's business.

import { readFileSync } from 'node:fs';
import { connect, Store, type IClientOptions, type IClientSubscribeOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Dict } from '../../protocol/messages';
import { Backoff } from '../../util/backoff';
import { redactUrl } from '../../util/redact-url';
import type { BridgeReport } from './bridge-report';
import type { MqttBrokerSettings, QoS } from './config';
import type { LoopGuard } from './loop-guard';

export type MqttLinkState = 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface MqttPublishOptions {
  qos: QoS;
  retain?: boolean;
  properties?: IClientOptions['properties'] & Dict;
}

export interface MqttLinkOptions {
  broker: MqttBrokerSettings;
  clientId: string;
  /** filter -> subscription options: subscribed on every connect. */
  subscriptions: ReadonlyMap<string, IClientSubscribeOptions>;
  maxPendingPublishes: number;
  /** MQTT 3.1.1 with rules both ways: told of every publish. */
  loopGuard: LoopGuard | undefined;
  report: BridgeReport;
  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void;
}

const noop = (): void => undefined;

export class MqttLink {
  private client: MqttClient | undefined;
  private linkState: MqttLinkState = 'stopped';
  private changedAt = new Date();
  private subscribedNow = false;
  private stopping = false;
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pendingPublishes = 0;
  /** Stores kept across reconnect(): unacknowledged QoS 1/2 publishes are resent, not lost. */
  private readonly incomingStore = new Store();
  private readonly outgoingStore = new Store();
  /** Set while start() waits for the first connect attempt to settle. */
  private firstAttempt: (() => void) | undefined;

  constructor(private readonly options: MqttLinkOptions) {
    this.backoff = new Backoff(options.broker.reconnect);
  }

  get state(): MqttLinkState {
    return this.linkState;
  }

  /** When `state` last changed. */
  get since(): Date {
    return this.changedAt;
  }

  /** The current connection's subscriptions are acknowledged by the broker. */
  get subscribed(): boolean {
    return this.subscribedNow;
  }

  get started(): boolean {
    return this.client !== undefined;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Reads the TLS files: call it before anything that must be undone when they are unreadable. */
  clientOptions(): IClientOptions {
    const b = this.options.broker;
    const o: IClientOptions = {
      protocolVersion: b.protocolVersion,
      clientId: this.options.clientId,
      keepalive: b.keepaliveSeconds,
      clean: b.cleanStart,
      connectTimeout: b.connectTimeoutMs,
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
    if (b.protocolVersion === 5 && o.clean === false) o.properties = { sessionExpiryInterval: 3600 };
    return o;
  }

  /**
   * Connects; resolves once the first attempt settled (connected and subscribed, failed, or the
   * connect timeout passed): a broker that is down never blocks the gateway, the link keeps
   * reconnecting.
   */
  async start(clientOptions: IClientOptions): Promise<void> {
    this.stopping = false;
    const settled = new Promise<void>((resolve) => (this.firstAttempt = resolve));
    this.setState('connecting');
    const client = connect(this.options.broker.url, clientOptions);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload, packet) => this.options.onMessage(topic, payload, packet));
    const limit = this.options.broker.connectTimeoutMs + 1000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise<void>((r) => (timer = setTimeout(r, limit)))]);
    clearTimeout(timer);
    this.firstAttempt = undefined;
  }

  /** Disconnects (gracefully when connected) and stops reconnecting; the state stays until stopped(). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
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

  /** The bridge is fully stopped (its session left too). */
  stopped(): void {
    this.setState('stopped');
  }

  /** Publishes to the broker within the pending limit; counts what is dropped. */
  publish(topic: string, payload: Buffer, opts: MqttPublishOptions, onError?: (err: Error) => void): boolean {
    const { report } = this.options;
    const client = this.client;
    if (!client || (opts.qos === 0 && !client.connected) || this.pendingPublishes >= this.options.maxPendingPublishes) {
      report.counters.dropped++;
      onError?.(new Error(client?.connected ? 'too many pending publishes' : 'not connected to the broker'));
      return false;
    }
    this.options.loopGuard?.sending(topic, payload);
    this.pendingPublishes++;
    try {
      client.publish(topic, payload, opts as never, (err) => {
        this.pendingPublishes--;
        if (err) {
          report.counters.dropped++;
          report.logLimited('publish', 'warn', 'publish failed', { topic, error: err.message });
          onError?.(err);
        } else report.counters.published++;
      });
    } catch (err) {
      this.pendingPublishes--;
      report.counters.dropped++;
      onError?.(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    return true;
  }

  private setState(state: MqttLinkState): void {
    if (this.linkState === state) return;
    this.linkState = state;
    this.changedAt = new Date();
  }

  private onConnect(): void {
    const { report } = this.options;
    report.counters.connects++;
    this.backoff.reset();
    this.setState('connected');
    report.log.info('connected', { broker: redactUrl(this.options.broker.url), clientId: this.options.clientId });
    const client = this.client;
    if (!client || this.options.subscriptions.size === 0) {
      this.subscribedNow = true;
      this.firstAttempt?.();
      return;
    }
    const map: Record<string, IClientSubscribeOptions> = Object.fromEntries(this.options.subscriptions);
    client.subscribe(map, (err, granted) => {
      if (err) {
        report.fail('subscribe failed', err);
        return;
      }
      for (const g of granted ?? []) {
        if (g.qos === 128 || g.qos > 2) report.fail(`broker refused subscription to "${g.topic}"`, undefined);
      }
      this.subscribedNow = true;
      this.firstAttempt?.();
    });
  }

  private onClose(): void {
    const { report } = this.options;
    this.subscribedNow = false;
    if (this.stopping) return;
    if (this.linkState === 'connected') report.log.warn('connection lost', { broker: redactUrl(this.options.broker.url) });
    else report.counters.connectFailures++;
    this.setState('reconnecting');
    this.firstAttempt?.();
    if (this.reconnectTimer) return;
    // Jitter keeps a fleet of gateways from reconnecting in lockstep after a broker restart.
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.stopping || !this.client) return;
      try {
        this.client.reconnect({ incomingStore: this.incomingStore, outgoingStore: this.outgoingStore });
      } catch (err) {
        report.fail('reconnect failed', err);
        this.onClose();
      }
    }, delay);
  }

  private onError(err: Error): void {
    this.options.report.lastError = err.message;
    this.options.report.logLimited('error', 'warn', 'mqtt client error', { error: err.message });
  }
}
