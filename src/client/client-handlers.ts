// What the client serves: subscription id -> event handlers, registration id -> invocation
// handler, and the invocations running now (INTERRUPT aborts them). EVENT and INVOCATION are
// delivered here; answers (YIELD, ERROR) go back through `send`. Requests belong to WampClient.

import { ErrorUri } from '../protocol/error-uris';
import type { RequestId } from '../protocol/ids';
import { MessageType } from '../protocol/message-types';
import type { Dict, Message } from '../protocol/messages';
import type { PeerRefusal } from '../protocol/peer';
import { Result, withPayload, type EventHandler, type InvocationHandler } from './client-api';
import { WampError } from './wamp-error';

export class ClientHandlers {
  /** subscription id -> handlers: several local subscribe() calls may share one subscription. */
  private readonly subscriptions = new Map<number, Set<EventHandler>>();
  /** registration id -> handler */
  private readonly registrations = new Map<number, InvocationHandler>();
  /** invocation request id -> abort controller: INTERRUPT aborts the running handler. */
  private readonly invocations = new Map<number, AbortController>();

  /** `send` answers as Peer.send does: true when written, otherwise why not. */
  constructor(private readonly send: (msg: Message) => boolean | PeerRefusal) {}

  addEventHandler(subscription: number, handler: EventHandler): void {
    let handlers = this.subscriptions.get(subscription);
    if (!handlers) this.subscriptions.set(subscription, (handlers = new Set()));
    handlers.add(handler);
  }

  /** Removes one handler; true when that was the subscription's last (time to UNSUBSCRIBE). */
  removeEventHandler(subscription: number, handler: EventHandler): boolean {
    const set = this.subscriptions.get(subscription);
    set?.delete(handler);
    if (set && set.size === 0) {
      this.subscriptions.delete(subscription);
      return true;
    }
    return false;
  }

  hasSubscription(subscription: number): boolean {
    return this.subscriptions.has(subscription);
  }

  register(registration: number, handler: InvocationHandler): void {
    this.registrations.set(registration, handler);
  }

  unregister(registration: number): void {
    this.registrations.delete(registration);
  }

  event(subscription: number, args: unknown[], kwargs: Dict, details: Dict): void {
    const handlers = this.subscriptions.get(subscription);
    if (!handlers) return;
    for (const h of handlers) {
      try {
        h(args, kwargs, details);
      } catch (err) {
        process.emitWarning(`wampgate client: event handler threw: ${String(err)}`);
      }
    }
  }

  invoke(request: RequestId, registration: number, args: unknown[], kwargs: Dict, details: Dict): void {
    const handler = this.registrations.get(registration);
    if (!handler) {
      this.send({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request, details: {}, error: ErrorUri.noSuchRegistration });
      return;
    }
    const controller = new AbortController();
    this.invocations.set(request, controller);
    const progress =
      details.receive_progress === true
        ? (pargs?: unknown[], pkwargs?: Dict) => {
            if (controller.signal.aborted) return;
            // A progress chunk our own transport refuses ends the call with that error: the
            // caller must not miss part of the result without knowing it.
            if (!this.answer(request, withPayload({ type: MessageType.YIELD, request, options: { progress: true } }, pargs, pkwargs))) {
              this.invocations.delete(request);
              controller.abort(new WampError(ErrorUri.canceled));
            }
          }
        : undefined;
    const fullDetails = { ...details, signal: controller.signal, ...(progress ? { progress } : {}) };
    Promise.resolve()
      .then(() => handler(args, kwargs, fullDetails))
      .then(
        (value) => {
          if (controller.signal.aborted && this.invocations.get(request) !== controller) return;
          this.invocations.delete(request);
          if (value instanceof Result) this.answer(request, withPayload({ type: MessageType.YIELD, request, options: {} }, value.args, value.kwargs));
          else this.answer(request, withPayload({ type: MessageType.YIELD, request, options: {} }, value === undefined ? [] : [value]));
        },
        (err: unknown) => {
          this.invocations.delete(request);
          const e = err instanceof WampError ? err : new WampError(ErrorUri.runtimeError, [err instanceof Error ? err.message : String(err)]);
          this.answer(
            request,
            withPayload({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request, details: {}, error: e.error }, e.args, e.kwargs),
          );
        },
      );
  }

  /**
   * Sends a YIELD or ERROR for `request`. One our own transport refuses (larger than the router
   * announced it accepts, or not representable in this serializer) is replaced by an ERROR that
   * fits and says why, so the caller is answered instead of waiting for its timeout. Returns
   * whether the answer itself went out.
   */
  private answer(request: RequestId, msg: Message): boolean {
    const sent = this.send(msg);
    if (sent === true) return true;
    const refusal: PeerRefusal | { reason: 'too-large' } = sent === false ? { reason: 'too-large' } : sent;
    const error = refusal.reason === 'not-representable' ? ErrorUri.invalidPayload : ErrorUri.payloadSizeExceeded;
    const message =
      refusal.reason === 'not-representable'
        ? `the callee's answer could not be serialized: ${refusal.message}`
        : "the callee's answer is larger than the router accepts from it";
    const kwargs = 'bytes' in refusal ? { message_bytes: refusal.bytes, limit_bytes: refusal.limit } : {};
    this.send({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request, details: {}, error, args: [message], kwargs });
    return false;
  }

  /** INTERRUPT: aborts the running handler's signal. */
  interrupt(request: number): void {
    this.invocations.get(request)?.abort(new WampError(ErrorUri.canceled));
  }

  /** The session ended: every running handler's signal aborts with `err`. */
  abortAll(err: Error): void {
    for (const c of this.invocations.values()) c.abort(err);
    this.invocations.clear();
  }
}
