// RPC across an MQTT bridge, both ways: a WAMP procedure answered by a device (request published,
// reply correlated by MQTT 5 correlation data or a topic-pair id, timeouts, a pending limit), and
// an MQTT request answered by calling a WAMP procedure. Connection and session belong to others.

import { randomBytes } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import { Result, type CallResult, type InvocationHandler, type WampClient } from '../../client/wamp-client';
import { WampError } from '../../client/wamp-error';
import type { Dict } from '../../protocol/messages';
import type { BridgeReport } from './bridge-report';
import { PayloadCodecError, type PayloadCodec, type WampPayload } from './payload-codecs';
import type { RpcRule } from './rules';
import { fillFilter, matchFilter, type WampSubscriptionSpec } from './topic-mapping';
import { redactUrl } from '../../util/redact-url';
import type { MqttLink } from './mqtt-link';
import { ErrorUri } from '../../protocol/error-uris';

/** MQTT 5 user property that carries a WAMP error URI on an RPC reply (both directions). */
export const WAMP_ERROR_PROPERTY = 'wamp-error';

interface PendingRequest {
  rule: RpcRule;
  timer: NodeJS.Timeout;
  resolve(value: Result): void;
  reject(err: Error): void;
}

export interface MqttRpcOptions {
  /** The bridge's name, for the error a stopped bridge gives waiting callers. */
  name: string;
  brokerUrl: string;
  rpcOut: readonly RpcRule[];
  rpcIn: readonly RpcRule[];
  /** MQTT 5 response topic of this bridge's wamp-to-mqtt requests (one per client id). */
  replyTopicV5: string;
  maxPendingRequests: number;
  link: MqttLink;
  /** The bridge's WAMP session, when it has one. */
  session(): WampClient | undefined;
  report: BridgeReport;
}

export class MqttRpc {
  /** correlation id -> the WAMP call waiting for the device's reply. */
  private readonly pendingRequests = new Map<string, PendingRequest>();
  private correlationSeq = 0;
  /** Distinguishes this run's correlation ids from a previous run's late replies. */
  private readonly correlationTag = randomBytes(4).toString('hex');

  constructor(private readonly options: MqttRpcOptions) {}

  /** Registers the WAMP procedures of the wamp-to-mqtt rules; runs on every (re)join. */
  register(wamp: WampClient): Array<Promise<unknown>> {
    const setups: Array<Promise<unknown>> = [];
    for (const rule of this.options.rpcOut) {
      const reg = rule.mapping.wampSubscription();
      if (!reg) continue;
      const options: Dict = reg.match === 'exact' ? {} : { match: reg.match };
      setups.push(
        wamp.register(reg.uri, this.rpcOutHandler(rule, reg), options).catch((err: unknown) => this.options.report.fail(`cannot register "${reg.uri}"`, err)),
      );
    }
    return setups;
  }

  /** Handles `topic` when it is an RPC reply or request; false when it is neither. */
  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): boolean {
    if (this.options.rpcOut.length > 0 && this.onRpcReply(topic, payload, packet)) return true;
    return this.options.rpcIn.length > 0 && this.onRpcRequest(topic, payload, packet);
  }

  /** Answers every waiting call with an error. */
  stop(): void {
    for (const [id, p] of this.pendingRequests) {
      clearTimeout(p.timer);
      p.reject(new WampError(ErrorUri.canceled, [`mqtt bridge "${this.options.name}" stopped`]));
      this.pendingRequests.delete(id);
    }
  }

  // ---- WAMP procedure -> MQTT request -----------------------------------------------------

  private rpcOutHandler(rule: RpcRule, reg: WampSubscriptionSpec): InvocationHandler {
    const { counters } = this.options.report;
    return (args, kwargs, details) => {
      counters.rpcCalls++;
      const procedure = typeof details.procedure === 'string' ? details.procedure : reg.uri;
      const topic = rule.mapping.wampToMqtt(procedure);
      if (topic === undefined) {
        counters.unmappable++;
        throw new WampError(ErrorUri.invalidUri, [`"${procedure}" maps to no MQTT topic`]);
      }
      if (!this.options.link.connected) throw new WampError(ErrorUri.mqttUnavailable, [`not connected to ${redactUrl(this.options.brokerUrl)}`]);
      if (this.pendingRequests.size >= this.options.maxPendingRequests) {
        throw new WampError(ErrorUri.mqttBusy, ['too many MQTT requests waiting for a reply']);
      }
      let payload: Buffer;
      try {
        payload = rule.codec.encode(args, kwargs);
      } catch (err) {
        counters.encodeErrors++;
        throw new WampError(ErrorUri.invalidArgument, [err instanceof Error ? err.message : String(err)]);
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
            counters.rpcTimeouts++;
            reject(new WampError(ErrorUri.mqttTimeout, [`no reply to the request on "${topic}" within ${rule.timeoutMs} ms`]));
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
        details.signal.addEventListener('abort', () => entry.reject(new WampError(ErrorUri.canceled)));
        const onError = (err: Error): void => {
          counters.rpcErrors++;
          entry.reject(new WampError(ErrorUri.mqttUnavailable, [err.message]));
        };
        if (rule.mode === 'mqtt5') {
          this.options.link.publish(
            topic,
            payload,
            { qos: rule.qos, properties: { responseTopic: this.options.replyTopicV5, correlationData: Buffer.from(id) } },
            onError,
          );
        } else {
          this.options.link.publish(`${topic}/${id}`, payload, { qos: rule.qos }, onError);
        }
      });
    };
  }

  /** Settles a waiting call when `topic` is one of its replies; false when it is not a reply. */
  private onRpcReply(topic: string, payload: Buffer, packet: IPublishPacket): boolean {
    const { counters } = this.options.report;
    let id: string | undefined;
    let pending: PendingRequest | undefined;
    if (topic === this.options.replyTopicV5) {
      const cd = packet.properties?.correlationData;
      id = cd ? Buffer.from(cd).toString() : undefined;
      pending = id === undefined ? undefined : this.pendingRequests.get(id);
      if (!pending) return true; // late (after a timeout) or foreign: nothing waits for it
    } else {
      for (const rule of this.options.rpcOut) {
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
      counters.decodeErrors++;
      counters.rpcErrors++;
      pending.reject(new WampError(ErrorUri.mqttBadReply, [err instanceof Error ? err.message : String(err)]));
      return true;
    }
    const errorUri = userProperty(packet, WAMP_ERROR_PROPERTY);
    if (errorUri !== undefined) {
      counters.rpcErrors++;
      pending.reject(new WampError(errorUri, decoded.args, decoded.kwargs));
    } else pending.resolve(new Result(decoded.args, decoded.kwargs));
    return true;
  }

  // ---- MQTT request -> WAMP call -> MQTT reply --------------------------------------------

  private onRpcRequest(topic: string, payload: Buffer, packet: IPublishPacket): boolean {
    for (const rule of this.options.rpcIn) {
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
        this.options.report.counters.unmappable++;
        return true;
      }
      this.serveRequest(rule, procedure, payload, replyTo, correlation);
      return true;
    }
    return false;
  }

  private serveRequest(rule: RpcRule, procedure: string, payload: Buffer, replyTo: string | undefined, correlation: Buffer | undefined): void {
    const { counters } = this.options.report;
    const reply = (body: Buffer, errorUri?: string): void => {
      if (replyTo === undefined) return; // a request without a response topic is fire-and-forget
      const properties: Dict = {};
      if (rule.mode === 'mqtt5') {
        if (correlation) properties.correlationData = correlation;
        if (errorUri !== undefined) properties.userProperties = { [WAMP_ERROR_PROPERTY]: errorUri };
      }
      this.options.link.publish(replyTo, body, rule.mode === 'mqtt5' ? { qos: rule.qos, properties } : { qos: rule.qos });
    };
    const replyError = (uri: string, args: unknown[], kwargs: Dict): void => {
      counters.rpcErrors++;
      if (rule.mode === 'mqtt5') reply(encodeOr(rule.codec, args, kwargs), uri);
      // topic-pair has no header for it: the error travels as a payload object (docs "RPC").
      else reply(encodeOr(rule.codec, [], { error: uri, args, kwargs }, uri));
    };
    let decoded: WampPayload;
    try {
      decoded = rule.codec.decode(payload);
    } catch (err) {
      counters.decodeErrors++;
      replyError(ErrorUri.invalidArgument, [err instanceof Error ? err.message : String(err)], {});
      return;
    }
    const wamp = this.options.session();
    if (!wamp || wamp.closed) {
      counters.dropped++;
      replyError(ErrorUri.canceled, ['the bridge has no WAMP session'], {});
      return;
    }
    wamp.call(procedure, decoded.args, decoded.kwargs).then(
      (result: CallResult) => {
        counters.rpcServed++;
        let body: Buffer;
        try {
          body = rule.codec.encode(result.args, result.kwargs);
        } catch (err) {
          counters.encodeErrors++;
          replyError(ErrorUri.invalidArgument, [`result does not encode: ${err instanceof Error ? err.message : String(err)}`], {});
          return;
        }
        reply(body);
      },
      (err: unknown) => {
        if (err instanceof WampError) replyError(err.error, err.args, err.kwargs);
        else replyError(ErrorUri.runtimeError, [String(err)], {});
      },
    );
  }
}

function encodeOr(codec: PayloadCodec, args: unknown[], kwargs: Dict, fallback?: string): Buffer {
  try {
    return codec.encode(args, kwargs);
  } catch (err) {
    if (!(err instanceof PayloadCodecError)) throw err;
    return Buffer.from(fallback ?? '', 'utf8');
  }
}

function userProperty(packet: IPublishPacket, name: string): string | undefined {
  const v = packet.properties?.userProperties?.[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}
