// A small WAMP client session over any Peer (in-process, WebSocket, RawSocket, serial): joining,
// the API (subscribe, publish, register, call, close), reading the router's messages, liveness.
// Outstanding requests are in pending-requests.ts, what it serves in client-handlers.ts.

import type { Dict, Message } from '../protocol/messages';
import { MessageType } from '../protocol/message-types';
import { ErrorUri } from '../protocol/error-uris';
import { MAX_ID, type RequestId } from '../protocol/ids';
import type { Peer } from '../protocol/peer';
import { Keepalive } from '../transports/keepalive';
import {
  withPayload,
  type CallResult,
  type ClientRegistration,
  type ClientSubscription,
  type ConnectOptions,
  type EventHandler,
  type InvocationHandler,
} from './client-api';
import { ClientHandlers } from './client-handlers';
import { PendingRequests } from './pending-requests';
import { WampError } from './wamp-error';

/** A join waits 10 s for WELCOME: covers a cloud router's authentication round trips over a slow
 * link (and PBKDF2 on a loaded Pi), yet a dead peer is noticed before anyone waits much longer. */
const JOIN_TIMEOUT_MS = 10_000;

export { Result } from './client-api';
export type { CallResult, ClientRegistration, ClientSubscription, ConnectOptions, EventHandler, InvocationHandler } from './client-api';

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

export class WampClient {
  sessionId = 0;
  welcome: Dict = {};
  private readonly pending = new PendingRequests();
  private readonly handlers: ClientHandlers;
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
  ) {
    this.handlers = new ClientHandlers((msg) => this.peer.send(msg));
  }

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
        reject(new Error(`no WELCOME within ${this.options.timeoutMs ?? JOIN_TIMEOUT_MS} ms`));
        this.peer.close('join timeout');
      }, this.options.timeoutMs ?? JOIN_TIMEOUT_MS);
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
      (subscription) => this.handlers.addEventHandler(subscription as number, handler),
    )) as number;
    return {
      id,
      topic,
      unsubscribe: async () => {
        if (this.handlers.removeEventHandler(id, handler)) {
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
    this.peer.send(withPayload({ type: MessageType.PUBLISH, request: this.pending.nextId(), options, topic }, args, kwargs));
    return undefined;
  }

  async register(procedure: string, handler: InvocationHandler, options: Dict = {}): Promise<ClientRegistration> {
    const id = (await this.request((request) => ({ type: MessageType.REGISTER, request, options, procedure }))) as number;
    this.handlers.register(id, handler);
    return {
      id,
      procedure,
      unregister: async () => {
        this.handlers.unregister(id);
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
    return this.pending.open(build, (msg) => this.peer.send(msg), onProgress, onAnswer);
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
        return this.pending.settle(msg.request, msg.subscription);
      case MessageType.UNSUBSCRIBED:
        return this.pending.settle(msg.request, undefined);
      case MessageType.PUBLISHED:
        return this.pending.settle(msg.request, msg.publication);
      case MessageType.REGISTERED:
        return this.pending.settle(msg.request, msg.registration);
      case MessageType.UNREGISTERED:
        return this.pending.settle(msg.request, undefined);
      case MessageType.RESULT: {
        const result: CallResult = { args: msg.args ?? [], kwargs: msg.kwargs ?? {}, details: msg.details };
        if (msg.details.progress === true) return this.pending.progress(msg.request, result);
        return this.pending.settle(msg.request, result);
      }
      case MessageType.ERROR:
        return this.pending.fail(msg.request, new WampError(msg.error, msg.args ?? [], msg.kwargs ?? {}, msg.details));
      case MessageType.EVENT:
        return this.handlers.event(msg.subscription, msg.args ?? [], msg.kwargs ?? {}, msg.details);
      case MessageType.INVOCATION:
        return this.handlers.invoke(msg.request, msg.registration, msg.args ?? [], msg.kwargs ?? {}, msg.details);
      case MessageType.INTERRUPT:
        return this.handlers.interrupt(msg.request);
      default:
        return;
    }
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
    while (this.handlers.hasSubscription(id)) id--;
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
    this.pending.rejectAll(err);
    this.handlers.abortAll(err);
    for (const h of this.closeHandlers) h(this.closeReason);
  }
}
