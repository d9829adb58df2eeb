// A small WAMP client session over any Peer (in-process, WebSocket, RawSocket, serial). The
// router's own sessions (meta API, bridges, uplink) and the tests use it. It is deliberately
// separate from router code: it decodes only what a client must, and keeps its own request IDs.

import type { Dict, Message } from '../protocol/messages';
import { MessageType } from '../protocol/message-types';
import { ErrorUri } from '../protocol/error-uris';
import { MAX_ID, SequentialIds, type RequestId } from '../protocol/ids';
import type { Peer } from '../protocol/peer';
import { Keepalive } from '../transports/keepalive';
import { WampError } from './wamp-error';

export interface CallResult {
  args: unknown[];
  kwargs: Dict;
  details: Dict;
}

export type EventHandler = (args: unknown[], kwargs: Dict, details: Dict) => void;
export type InvocationHandler = (
  args: unknown[],
  kwargs: Dict,
  details: Dict & { progress?: (args?: unknown[], kwargs?: Dict) => void; signal: AbortSignal },
) => unknown;

export interface ClientSubscription {
  id: number;
  topic: string;
  unsubscribe(): Promise<void>;
}
export interface ClientRegistration {
  id: number;
  procedure: string;
  unregister(): Promise<void>;
}

export interface ConnectOptions {
  realm: string;
  authid?: string;
  /** The role to join as, for routers that let a principal choose among its roles. */
  authrole?: string;
  authmethods?: string[];
  authextra?: Dict;
  /** Answers a CHALLENGE: returns the signature for AUTHENTICATE. */
  onChallenge?: (authmethod: string, extra: Dict) => string | Promise<string>;
  /** Rejects the join if no WELCOME arrives by then. Default 10 s. */
  timeoutMs?: number;
  /**
   * WAMP-level liveness, for links whose transport pings the other end may not understand (a
   * RawSocket PING read as a 16 MiB length by Autobahn|Python/Crossbar.io): every `intervalMs` the
   * session sends a probe the router must answer, and closes the transport when nothing at all
   * arrived within `timeoutMs` of it. Any inbound message proves the router alive. Off by default.
   */
  liveness?: { intervalMs: number; timeoutMs: number };
}

/** A handler's return value that sets both args and kwargs of the RESULT. */
export class Result {
  constructor(
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
  ) {}
}

const clientRoles = {
  publisher: { features: { publisher_exclusion: true, publisher_identification: true, subscriber_blackwhite_listing: true, payload_passthru_mode: true } },
  subscriber: { features: { pattern_based_subscription: true, publisher_identification: true } },
  caller: { features: { progressive_call_results: true, call_canceling: true, call_timeout: true, caller_identification: true } },
  callee: {
    features: {
      progressive_call_results: true,
      call_canceling: true,
      pattern_based_registration: true,
      shared_registration: true,
      caller_identification: true,
    },
  },
};

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (r: CallResult) => void;
}

export class WampClient {
  sessionId = 0;
  welcome: Dict = {};
  private readonly requestIds = new SequentialIds();
  /** request id -> the promise waiting for its answer (SUBSCRIBED, RESULT, ERROR …). */
  private readonly pending = new Map<number, Pending>();
  /** subscription id -> handlers: several local subscribe() calls may share one subscription. */
  private readonly subscriptions = new Map<number, Set<EventHandler>>();
  /** registration id -> handler */
  private readonly registrations = new Map<number, InvocationHandler>();
  /** invocation request id -> abort controller: INTERRUPT aborts the running handler. */
  private readonly invocations = new Map<number, AbortController>();
  private closeHandlers: Array<(reason: string) => void> = [];
  private joined!: { resolve(): void; reject(err: Error): void };
  private goodbyeSent: (() => void) | undefined;
  private isClosed = false;
  private liveness: Keepalive | undefined;
  /** Liveness probes sent / answered (by anything arriving), for status and tests. */
  readonly probes = { sent: 0, timeouts: 0 };
  closeReason = '';

  private constructor(
    readonly peer: Peer,
    private readonly options: ConnectOptions,
  ) {}

  static connect(peer: Peer, options: ConnectOptions): Promise<WampClient> {
    const client = new WampClient(peer, options);
    return client.join().then(() => client);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  private join(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no WELCOME within ${this.options.timeoutMs ?? 10_000} ms`));
        this.peer.close('join timeout');
      }, this.options.timeoutMs ?? 10_000);
      this.joined = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.peer.setListener({
        onMessage: (msg) => this.onMessage(msg),
        onProtocolViolation: (reason) => {
          this.peer.send({ type: MessageType.ABORT, details: { message: reason }, reason: ErrorUri.protocolViolation });
          this.peer.close(reason);
        },
        onClose: (reason) => this.onTransportClose(reason),
      });
      const details: Dict = { roles: clientRoles, agent: 'wampgate-client' };
      if (this.options.authid !== undefined) details.authid = this.options.authid;
      if (this.options.authrole !== undefined) details.authrole = this.options.authrole;
      if (this.options.authmethods) details.authmethods = this.options.authmethods;
      if (this.options.authextra) details.authextra = this.options.authextra;
      this.peer.send({ type: MessageType.HELLO, realm: this.options.realm, details });
    });
  }

  // ---- API --------------------------------------------------------------------------------

  async subscribe(topic: string, handler: EventHandler, options: Dict = {}): Promise<ClientSubscription> {
    // The handler is installed the moment SUBSCRIBED arrives, not when the promise resumes us:
    // retained events follow SUBSCRIBED immediately and would otherwise find no handler.
    const id = (await this.request(
      (request) => ({ type: MessageType.SUBSCRIBE, request, options, topic }),
      undefined,
      (subscription) => {
        const sid = subscription as number;
        let handlers = this.subscriptions.get(sid);
        if (!handlers) this.subscriptions.set(sid, (handlers = new Set()));
        handlers.add(handler);
      },
    )) as number;
    return {
      id,
      topic,
      unsubscribe: async () => {
        const set = this.subscriptions.get(id);
        set?.delete(handler);
        if (set && set.size === 0) {
          this.subscriptions.delete(id);
          await this.request((request) => ({ type: MessageType.UNSUBSCRIBE, request, subscription: id as never }));
        }
      },
    };
  }

  /**
   * Resolves at once, or with the publication id when options.acknowledge is true. An acknowledged
   * publication that cannot cross the transport (over the limit the router announced, or not
   * encodable) rejects with wampgate.error.not_sendable instead of waiting for an answer that
   * cannot come.
   */
  async publish(topic: string, args?: unknown[], kwargs?: Dict, options: Dict = {}): Promise<number | undefined> {
    if (options.acknowledge === true) {
      return (await this.request((request) => withPayload({ type: MessageType.PUBLISH, request, options, topic }, args, kwargs))) as number;
    }
    this.ensureOpen();
    this.peer.send(withPayload({ type: MessageType.PUBLISH, request: this.requestIds.next() as RequestId, options, topic }, args, kwargs));
    return undefined;
  }

  async register(procedure: string, handler: InvocationHandler, options: Dict = {}): Promise<ClientRegistration> {
    const id = (await this.request((request) => ({ type: MessageType.REGISTER, request, options, procedure }))) as number;
    this.registrations.set(id, handler);
    return {
      id,
      procedure,
      unregister: async () => {
        this.registrations.delete(id);
        await this.request((request) => ({ type: MessageType.UNREGISTER, request, registration: id as never }));
      },
    };
  }

  call(
    procedure: string,
    args?: unknown[],
    kwargs?: Dict,
    options: Dict & { onProgress?: (r: CallResult) => void; signal?: AbortSignal; cancelMode?: string } = {},
  ): Promise<CallResult> {
    const { onProgress, signal, cancelMode, ...wireOptions } = options;
    if (onProgress) wireOptions.receive_progress = true;
    let requestId = 0;
    const promise = this.request((request) => {
      requestId = request;
      return withPayload({ type: MessageType.CALL, request, options: wireOptions, procedure }, args, kwargs);
    }, onProgress) as Promise<CallResult>;
    signal?.addEventListener('abort', () => {
      if (this.pending.has(requestId))
        this.peer.send({ type: MessageType.CANCEL, request: requestId as RequestId, options: { mode: cancelMode ?? 'killnowait' } });
    });
    return promise;
  }

  /** GOODBYE, then wait for the router's reply (or the transport closing). */
  async close(reason: string = ErrorUri.closeNormal): Promise<void> {
    if (this.isClosed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.goodbyeSent = () => {
        clearTimeout(timer);
        resolve();
      };
      this.peer.send({ type: MessageType.GOODBYE, details: {}, reason });
    });
    this.peer.close('goodbye');
  }

  // ---- internals --------------------------------------------------------------------------

  private ensureOpen(): void {
    if (this.isClosed) throw new WampError(ErrorUri.canceled, [`session closed: ${this.closeReason}`]);
  }

  private request(build: (request: RequestId) => Message, onProgress?: (r: CallResult) => void, onAnswer?: (value: unknown) => void): Promise<unknown> {
    this.ensureOpen();
    const request = this.requestIds.next() as RequestId;
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        resolve: onAnswer
          ? (value) => {
              onAnswer(value);
              resolve(value);
            }
          : resolve,
        reject,
      };
      if (onProgress) entry.onProgress = onProgress;
      this.pending.set(request, entry);
      if (!this.peer.send(build(request))) {
        // The message never left: no answer will come, so settle it here.
        this.pending.delete(request);
        reject(new WampError(ErrorUri.notSendable, ['the message cannot cross this transport: larger than the peer accepts, or not encodable']));
      }
    });
  }

  private settle(request: number, value: unknown): void {
    const p = this.pending.get(request);
    if (!p) return;
    this.pending.delete(request);
    p.resolve(value);
  }

  private onMessage(msg: Message): void {
    this.liveness?.alive();
    switch (msg.type) {
      case MessageType.WELCOME:
        this.sessionId = msg.session;
        this.welcome = msg.details;
        this.startLiveness();
        this.joined.resolve();
        return;
      case MessageType.CHALLENGE: {
        const answer = this.options.onChallenge;
        if (!answer) {
          this.peer.send({ type: MessageType.ABORT, details: {}, reason: ErrorUri.noAuthMethod });
          this.joined.reject(new WampError(ErrorUri.noAuthMethod, ['challenge received but no onChallenge given']));
          this.peer.close('no challenge handler');
          return;
        }
        Promise.resolve()
          .then(() => answer(msg.authmethod, msg.extra))
          .then(
            (signature) => this.peer.send({ type: MessageType.AUTHENTICATE, signature, extra: {} }),
            (err: unknown) => {
              this.joined.reject(err instanceof Error ? err : new Error(String(err)));
              this.peer.close('challenge failed');
            },
          );
        return;
      }
      case MessageType.ABORT:
        this.closeReason = msg.reason;
        this.joined.reject(new WampError(msg.reason, typeof msg.details.message === 'string' ? [msg.details.message] : []));
        this.peer.close(msg.reason);
        return;
      case MessageType.GOODBYE:
        this.closeReason = msg.reason;
        if (this.goodbyeSent) this.goodbyeSent();
        else this.peer.send({ type: MessageType.GOODBYE, details: {}, reason: ErrorUri.goodbyeAndOut });
        this.peer.close(msg.reason);
        return;
      case MessageType.SUBSCRIBED:
        return this.settle(msg.request, msg.subscription);
      case MessageType.UNSUBSCRIBED:
        return this.settle(msg.request, undefined);
      case MessageType.PUBLISHED:
        return this.settle(msg.request, msg.publication);
      case MessageType.REGISTERED:
        return this.settle(msg.request, msg.registration);
      case MessageType.UNREGISTERED:
        return this.settle(msg.request, undefined);
      case MessageType.RESULT: {
        const result: CallResult = { args: msg.args ?? [], kwargs: msg.kwargs ?? {}, details: msg.details };
        if (msg.details.progress === true) {
          this.pending.get(msg.request)?.onProgress?.(result);
          return;
        }
        return this.settle(msg.request, result);
      }
      case MessageType.ERROR: {
        const p = this.pending.get(msg.request);
        if (!p) return;
        this.pending.delete(msg.request);
        p.reject(new WampError(msg.error, msg.args ?? [], msg.kwargs ?? {}, msg.details));
        return;
      }
      case MessageType.EVENT: {
        const handlers = this.subscriptions.get(msg.subscription);
        if (!handlers) return;
        for (const h of handlers) {
          try {
            h(msg.args ?? [], msg.kwargs ?? {}, msg.details);
          } catch (err) {
            process.emitWarning(`wampgate client: event handler threw: ${String(err)}`);
          }
        }
        return;
      }
      case MessageType.INVOCATION:
        return this.invoke(msg.request, msg.registration, msg.args ?? [], msg.kwargs ?? {}, msg.details);
      case MessageType.INTERRUPT:
        this.invocations.get(msg.request)?.abort(new WampError(ErrorUri.canceled));
        return;
      default:
        return;
    }
  }

  private invoke(request: RequestId, registration: number, args: unknown[], kwargs: Dict, details: Dict): void {
    const handler = this.registrations.get(registration);
    if (!handler) {
      this.peer.send({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request, details: {}, error: ErrorUri.noSuchRegistration });
      return;
    }
    const controller = new AbortController();
    this.invocations.set(request, controller);
    const progress =
      details.receive_progress === true
        ? (pargs?: unknown[], pkwargs?: Dict) => {
            if (!controller.signal.aborted) this.peer.send(withPayload({ type: MessageType.YIELD, request, options: { progress: true } }, pargs, pkwargs));
          }
        : undefined;
    const fullDetails = { ...details, signal: controller.signal, ...(progress ? { progress } : {}) };
    Promise.resolve()
      .then(() => handler(args, kwargs, fullDetails))
      .then(
        (value) => {
          if (controller.signal.aborted && this.invocations.get(request) !== controller) return;
          this.invocations.delete(request);
          if (value instanceof Result) this.peer.send(withPayload({ type: MessageType.YIELD, request, options: {} }, value.args, value.kwargs));
          else this.peer.send(withPayload({ type: MessageType.YIELD, request, options: {} }, value === undefined ? [] : [value]));
        },
        (err: unknown) => {
          this.invocations.delete(request);
          const e = err instanceof WampError ? err : new WampError(ErrorUri.runtimeError, [err instanceof Error ? err.message : String(err)]);
          this.peer.send(withPayload({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request, details: {}, error: e.error }, e.args, e.kwargs));
        },
      );
  }

  private startLiveness(): void {
    const options = this.options.liveness;
    if (!options || options.intervalMs <= 0) return;
    this.liveness = new Keepalive({
      intervalMs: options.intervalMs,
      timeoutMs: options.timeoutMs,
      sendPing: () => this.sendProbe(),
      onTimeout: () => {
        this.probes.timeouts++;
        this.peer.close(`keepalive timeout: no reply from the router within ${options.timeoutMs} ms`);
      },
    });
    this.liveness.start();
  }

  /**
   * The probe is an UNSUBSCRIBE of a subscription this session does not hold. Every router must
   * answer it (spec: ERROR wamp.error.no_such_subscription), it needs no authorization (so no
   * denial is logged and no dynamic authorizer is called at the cloud), and it touches no
   * application: a map lookup at the router. A CALL to a meta procedure would cost an
   * authorization check, and a router may have no meta API at all.
   */
  private sendProbe(): void {
    if (this.isClosed) return;
    let id = MAX_ID;
    while (this.subscriptions.has(id)) id--;
    this.probes.sent++;
    this.request((request) => ({ type: MessageType.UNSUBSCRIBE, request, subscription: id as never })).catch(() => undefined);
  }

  private onTransportClose(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.liveness?.stop();
    if (!this.closeReason) this.closeReason = reason;
    this.joined.reject(new Error(`transport closed before WELCOME: ${reason}`));
    this.goodbyeSent?.();
    const err = new WampError(ErrorUri.canceled, [`session closed: ${this.closeReason}`]);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const c of this.invocations.values()) c.abort(err);
    this.invocations.clear();
    for (const h of this.closeHandlers) h(this.closeReason);
  }
}

function withPayload<T extends Message>(msg: T, args?: unknown[], kwargs?: Dict): T {
  const m = msg as T & { args?: unknown[]; kwargs?: Dict };
  if (args !== undefined) m.args = args;
  if (kwargs !== undefined && Object.keys(kwargs).length > 0) m.kwargs = kwargs;
  return msg;
}
