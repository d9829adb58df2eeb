// The dealer of one realm (spec: "Remote Procedure Calls" and the Advanced Profile's RPC
// features): registrations in a URI index, shared registrations with invocation policies,
// caller disclosure, progressive results, canceling and dealer-enforced call timeouts.
// Synchronous routing; timers are the only deferred work.

import { ErrorUri } from '../protocol/error-uris';
import { SequentialIds, type RegistrationId, type RequestId } from '../protocol/ids';
import { MessageType } from '../protocol/message-types';
import type { Call, Cancel, Dict, ErrorMessage, Invocation, Register, Result, Unregister, Yield } from '../protocol/messages';
import type { MatchPolicy } from '../protocol/uri';
import { describeValue, type Logger } from '../util/logger';
import type { SessionLimits } from './limits';
import { copyPassthru, copyPayload } from './payload-passthru';
import type { Realm } from './realm';
import type { Session } from './session';
import { tooLargeWords } from './session-outbound';
import { invokePolicies, pickCallee, type InvokePolicy, type Registration } from './registration';
import { UriIndex } from './uri-index';

export { invokePolicies, type InvokePolicy, type Registration } from './registration';

/** The largest call timeout a Node timer can carry (2^31 - 1 ms). */
export const MAX_CALL_TIMEOUT_MS = 2 ** 31 - 1;

export type CancelMode = 'skip' | 'kill' | 'killnowait';

interface PendingInvocation {
  caller: Session;
  callRequest: RequestId;
  callee: Session;
  invocationRequest: RequestId;
  receiveProgress: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Set once the caller canceled; decides what happens to the callee's late answer. */
  canceled: CancelMode | undefined;
}

export class Dealer {
  /** pattern -> registration: exact, prefix, wildcard; best match per spec precedence. */
  private readonly index = new UriIndex<Registration>();
  /** registration id -> registration: UNREGISTER and the meta API look up by id. */
  private readonly byId = new Map<RegistrationId, Registration>();
  /** callee -> its registrations: cleanup on leave, per-session limits. */
  private readonly byCallee = new Map<Session, Set<Registration>>();
  /** callee -> (INVOCATION request id -> pending): matches YIELD/ERROR to the call. */
  private readonly byInvocation = new Map<Session, Map<number, PendingInvocation>>();
  /** caller -> (CALL request id -> pending): matches CANCEL, bounds outstanding calls. */
  private readonly byCall = new Map<Session, Map<number, PendingInvocation>>();
  private readonly registrationIds = new SequentialIds();
  private readonly log: Logger;

  constructor(
    private readonly realm: Realm,
    private readonly limits: SessionLimits,
    logger: Logger,
  ) {
    this.log = logger.child('dealer');
  }

  register(session: Session, msg: Register, match: MatchPolicy): void {
    const invoke = msg.options.invoke ?? 'single';
    if (!invokePolicies.includes(invoke as InvokePolicy)) {
      session.sendError(msg.type, msg.request, ErrorUri.invalidArgument, [`unknown invocation policy ${describeValue(invoke)}`]);
      return;
    }
    const mine = this.byCallee.get(session);
    if ((mine?.size ?? 0) + this.realm.broker.subscriptionCount(session) >= this.limits.maxSubscriptionsPerSession) {
      session.sendError(msg.type, msg.request, ErrorUri.limitExceeded, [
        `at most ${this.limits.maxSubscriptionsPerSession} subscriptions and registrations per session`,
      ]);
      return;
    }
    let reg = this.index.get(msg.procedure, match);
    if (reg && msg.options.force_reregister === true && this.mayTakeOver(session, reg)) {
      // Crossbar.io's `force_reregister`: a client that reconnected takes over what its previous,
      // not yet detected dead session still holds, so callers are not routed into the dead one.
      // Only from sessions of the same authid and authrole: never another principal's procedure.
      for (const old of [...reg.callees]) this.revoke(old, reg);
      this.log.info('registration taken over by a new session of the same principal', {
        procedure: msg.procedure,
        authid: session.authid,
        session: session.id,
      });
      reg = this.index.get(msg.procedure, match);
    }
    const created = !reg;
    if (reg) {
      // spec "Shared Registration": joining needs the same policy, and never for `single`.
      if (reg.invoke === 'single' || reg.invoke !== invoke || reg.callees.includes(session)) {
        session.sendError(msg.type, msg.request, ErrorUri.procedureAlreadyExists, [
          `procedure "${msg.procedure}" is already registered${reg.invoke !== invoke ? ` with invocation policy ${reg.invoke}` : ''}`,
        ]);
        return;
      }
    } else {
      reg = {
        id: this.registrationIds.next() as RegistrationId,
        uri: msg.procedure,
        match,
        invoke: invoke as InvokePolicy,
        created: new Date().toISOString(),
        callees: [],
        discloseCaller: session.trusted && msg.options.disclose_caller === true,
        forwardTimeout: msg.options.forward_timeout === true,
        nextIndex: 0,
      };
      this.index.set(reg.uri, match, reg);
      this.byId.set(reg.id, reg);
    }
    reg.callees.push(session);
    if (mine) mine.add(reg);
    else this.byCallee.set(session, new Set([reg]));
    session.send({ type: MessageType.REGISTERED, request: msg.request, registration: reg.id });
    if (created) this.realm.emit('onRegistrationCreate', session, reg);
    this.realm.emit('onRegister', session, reg);
  }

  unregister(session: Session, msg: Unregister): void {
    const reg = this.byId.get(msg.registration);
    if (!reg || !reg.callees.includes(session)) {
      session.sendError(msg.type, msg.request, ErrorUri.noSuchRegistration);
      return;
    }
    this.byCallee.get(session)?.delete(reg);
    this.detach(session, reg);
    session.send({ type: MessageType.UNREGISTERED, request: msg.request });
  }

  call(caller: Session, msg: Call, discloseByRole: boolean): void {
    const found = this.index.matchBest(msg.procedure);
    if (!found) {
      caller.sendError(msg.type, msg.request, ErrorUri.noSuchProcedure, [`no callee registered procedure "${msg.procedure}"`]);
      return;
    }
    const calls = this.byCall.get(caller);
    if (calls?.has(msg.request)) {
      caller.sendError(msg.type, msg.request, ErrorUri.invalidArgument, [`request id ${msg.request} is already in use by an outstanding call`]);
      return;
    }
    if ((calls?.size ?? 0) >= this.limits.maxPendingCalls) {
      caller.sendError(msg.type, msg.request, ErrorUri.limitExceeded, [`at most ${this.limits.maxPendingCalls} outstanding calls per session`]);
      return;
    }
    const timeout = msg.options.timeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0)) {
      caller.sendError(msg.type, msg.request, ErrorUri.invalidArgument, ['option timeout must be a non-negative integer (milliseconds)']);
      return;
    }
    // Node's timers take at most 2^31 - 1 ms (24.8 days) and fire after 1 ms for anything
    // larger: a huge timeout would time the call out at once (found by the fuzzer).
    if (typeof timeout === 'number' && timeout > MAX_CALL_TIMEOUT_MS) {
      caller.sendError(msg.type, msg.request, ErrorUri.invalidArgument, [`option timeout must be at most ${MAX_CALL_TIMEOUT_MS} ms (24.8 days)`]);
      return;
    }
    const reg = found.value;
    const callee = pickCallee(reg);
    const details: Dict = {};
    if (reg.match !== 'exact') details.procedure = msg.procedure;
    if (msg.options.disclose_me === true || discloseByRole || reg.discloseCaller) {
      details.caller = caller.id;
      details.caller_authid = caller.authid;
      details.caller_authrole = caller.authrole;
    }
    const receiveProgress = msg.options.receive_progress === true && callee.supports('callee', 'progressive_call_results');
    if (receiveProgress) details.receive_progress = true;
    if (timeout && reg.forwardTimeout) details.timeout = timeout;
    copyPassthru(msg.options, details);

    const invocationRequest = callee.invocationIds.next() as RequestId;
    const pending: PendingInvocation = { caller, callRequest: msg.request, callee, invocationRequest, receiveProgress, timer: undefined, canceled: undefined };
    mapFor(this.byInvocation, callee).set(invocationRequest, pending);
    mapFor(this.byCall, caller).set(msg.request, pending);
    if (timeout && !reg.forwardTimeout) {
      pending.timer = setTimeout(() => this.timeout(pending), timeout);
    }
    const invocation: Invocation = { type: MessageType.INVOCATION, request: invocationRequest, registration: reg.id, details };
    copyPayload(msg, invocation);
    const sent = callee.send(invocation);
    if (sent === 'too-large') {
      this.finish(pending);
      const over = tooLargeWords('INVOCATION', callee.outbound, "the callee's");
      caller.sendError(MessageType.CALL, msg.request, ErrorUri.payloadSizeExceeded, over.args, over.kwargs);
    } else if (sent === 'not-representable') {
      this.finish(pending);
      caller.sendError(MessageType.CALL, msg.request, ErrorUri.invalidPayload, [
        `the call's arguments cannot be delivered to the callee: ${callee.outbound.lastRefusal} (the callee's serializer)`,
      ]);
    }
  }

  yield(callee: Session, msg: Yield): void {
    const pending = this.byInvocation.get(callee)?.get(msg.request);
    if (!pending) return; // a late answer to a canceled or timed-out call: dropped by design
    const progress = msg.options.progress === true;
    if (progress && !pending.receiveProgress) return; // the caller did not ask for progress
    if (!progress) this.finish(pending);
    if (pending.canceled === 'skip' || pending.canceled === 'killnowait') return;
    const details: Dict = progress ? { progress: true } : {};
    copyPassthru(msg.options, details);
    const result: Result = { type: MessageType.RESULT, request: pending.callRequest, details };
    copyPayload(msg, result);
    const sent = pending.caller.send(result);
    if (sent === 'too-large' || sent === 'not-representable') {
      // Never a silent loss: the caller learns why its call has no result.
      if (progress) {
        this.finish(pending);
        pending.canceled = 'skip';
      }
      if (sent === 'too-large') {
        const over = tooLargeWords('RESULT', pending.caller.outbound, 'your');
        pending.caller.sendError(MessageType.CALL, pending.callRequest, ErrorUri.payloadSizeExceeded, over.args, over.kwargs);
      } else {
        pending.caller.sendError(MessageType.CALL, pending.callRequest, ErrorUri.invalidPayload, [
          `the result cannot be delivered to the caller: ${pending.caller.outbound.lastRefusal} (the caller's serializer)`,
        ]);
      }
    }
  }

  /** A callee's YIELD or ERROR for an INVOCATION was over the router's message limit and was
   * not read: the caller gets ERROR wamp.error.payload_size_exceeded (with the sizes) at once,
   * and the call ends, a progressive one too (its later YIELDs are late answers). */
  refuseAnswer(callee: Session, request: RequestId, args: unknown[], kwargs: Dict): void {
    const pending = this.byInvocation.get(callee)?.get(request);
    if (!pending) return;
    this.finish(pending);
    if (pending.canceled === 'skip' || pending.canceled === 'killnowait') return;
    pending.caller.sendError(MessageType.CALL, pending.callRequest, ErrorUri.payloadSizeExceeded, args, kwargs);
  }

  /** ERROR from a callee for an INVOCATION: the callee's own URI and payload reach the caller unchanged. */
  error(callee: Session, msg: ErrorMessage): void {
    const pending = this.byInvocation.get(callee)?.get(msg.request);
    if (!pending) return;
    this.finish(pending);
    if (pending.canceled === 'skip' || pending.canceled === 'killnowait') return;
    const reply: ErrorMessage = {
      type: MessageType.ERROR,
      requestType: MessageType.CALL,
      request: pending.callRequest,
      details: msg.details,
      error: msg.error,
    };
    copyPayload(msg, reply);
    const sent = pending.caller.send(reply);
    if (sent === 'too-large') {
      // The callee's URI stays (it is the answer); its payload is replaced by the sizes.
      const over = tooLargeWords('ERROR', pending.caller.outbound, 'your');
      pending.caller.sendError(MessageType.CALL, pending.callRequest, msg.error, over.args, over.kwargs);
    } else if (sent === 'not-representable')
      pending.caller.sendError(MessageType.CALL, pending.callRequest, msg.error, [
        `the callee's error payload cannot be delivered to the caller: ${pending.caller.outbound.lastRefusal} (the caller's serializer)`,
      ]);
  }

  cancel(caller: Session, msg: Cancel): void {
    const pending = this.byCall.get(caller)?.get(msg.request);
    if (!pending || pending.canceled) return; // already answered: nothing to cancel (spec)
    const requested = msg.options.mode ?? 'killnowait';
    if (requested !== 'skip' && requested !== 'kill' && requested !== 'killnowait') {
      caller.sendError(msg.type, msg.request, ErrorUri.invalidArgument, [`unknown cancel mode ${describeValue(requested)}`]);
      return;
    }
    // spec: a callee without call_canceling gets `skip` whatever the caller asked.
    const mode: CancelMode = pending.callee.supports('callee', 'call_canceling') ? requested : 'skip';
    pending.canceled = mode;
    if (mode !== 'skip') {
      pending.callee.send({ type: MessageType.INTERRUPT, request: pending.invocationRequest, options: { mode } });
    }
    if (mode === 'kill') return; // the callee's answer completes the call
    this.byCall.get(caller)?.delete(msg.request);
    clearTimeout(pending.timer);
    if (mode === 'killnowait') this.byInvocation.get(pending.callee)?.delete(pending.invocationRequest);
    caller.sendError(MessageType.CALL, msg.request, ErrorUri.canceled, ['call canceled by the caller'], undefined, {});
  }

  private timeout(pending: PendingInvocation): void {
    pending.timer = undefined;
    this.log.debug('call timed out', { caller: pending.caller.id, callee: pending.callee.id });
    this.finish(pending);
    if (pending.callee.supports('callee', 'call_canceling')) {
      pending.callee.send({ type: MessageType.INTERRUPT, request: pending.invocationRequest, options: { mode: 'killnowait', reason: ErrorUri.timeout } });
    }
    pending.caller.sendError(MessageType.CALL, pending.callRequest, ErrorUri.timeout, ['call timed out in the dealer']);
  }

  private finish(p: PendingInvocation): void {
    clearTimeout(p.timer);
    this.byInvocation.get(p.callee)?.delete(p.invocationRequest);
    const calls = this.byCall.get(p.caller);
    if (calls?.get(p.callRequest) === p) calls.delete(p.callRequest);
  }

  private mayTakeOver(session: Session, reg: Registration): boolean {
    return reg.callees.length > 0 && reg.callees.every((c) => c !== session && c.authid === session.authid && c.authrole === session.authrole);
  }

  /** Removes a callee from a registration on the router's initiative (spec: Registration Revocation). */
  private revoke(callee: Session, reg: Registration): void {
    this.byCallee.get(callee)?.delete(reg);
    this.detach(callee, reg);
    if (callee.supports('callee', 'registration_revocation')) {
      callee.send({ type: MessageType.UNREGISTERED, request: 0 as RequestId, details: { registration: reg.id, reason: ErrorUri.registrationTakenOver } });
    }
  }

  private detach(session: Session, reg: Registration): void {
    reg.callees = reg.callees.filter((s) => s !== session);
    this.realm.emit('onUnregister', session, reg);
    if (reg.callees.length === 0) {
      this.index.delete(reg.uri, reg.match);
      this.byId.delete(reg.id);
      this.realm.emit('onRegistrationDelete', session, reg);
    }
  }

  removeSession(session: Session): void {
    // As callee: outstanding calls fail, so no caller waits forever.
    const invocations = this.byInvocation.get(session);
    if (invocations) {
      this.byInvocation.delete(session);
      for (const p of invocations.values()) {
        clearTimeout(p.timer);
        const calls = this.byCall.get(p.caller);
        if (calls?.get(p.callRequest) === p) calls.delete(p.callRequest);
        if (p.canceled === 'skip' || p.canceled === 'killnowait') continue;
        p.caller.sendError(MessageType.CALL, p.callRequest, ErrorUri.canceled, ['the callee left before answering']);
      }
    }
    // As caller: tell callees that can stop working on it.
    const calls = this.byCall.get(session);
    if (calls) {
      this.byCall.delete(session);
      for (const p of calls.values()) {
        clearTimeout(p.timer);
        this.byInvocation.get(p.callee)?.delete(p.invocationRequest);
        if (p.callee.supports('callee', 'call_canceling')) {
          p.callee.send({ type: MessageType.INTERRUPT, request: p.invocationRequest, options: { mode: 'killnowait', reason: ErrorUri.canceled } });
        }
      }
    }
    const regs = this.byCallee.get(session);
    if (regs) {
      this.byCallee.delete(session);
      for (const reg of regs) this.detach(session, reg);
    }
  }

  // ---- read-only views for the registration meta API and metrics -------------------------

  registrationCount(session: Session): number {
    return this.byCallee.get(session)?.size ?? 0;
  }
  pendingCalls(session: Session): number {
    return this.byCall.get(session)?.size ?? 0;
  }
  get(id: number): Registration | undefined {
    return this.byId.get(id as RegistrationId);
  }
  list(): Registration[] {
    return [...this.byId.values()];
  }
  lookup(uri: string, match: MatchPolicy): Registration | undefined {
    return this.index.get(uri, match);
  }
  match(procedure: string): Registration | undefined {
    return this.index.matchBest(procedure)?.value;
  }
}

function mapFor<K, V>(outer: Map<K, Map<number, V>>, key: K): Map<number, V> {
  let inner = outer.get(key);
  if (!inner) outer.set(key, (inner = new Map()));
  return inner;
}
