import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorUri } from '../../../src/protocol/error-uris';
import { MessageType } from '../../../src/protocol/message-types';
import type { Dict } from '../../../src/protocol/messages';
import { basicRoles, joinRecording, startRouter, type RecordedSession } from '../../helpers/local-router';
import type { Router } from '../../../src/core/router';
import { WampClient } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import { attachLocal } from '../../../src/transports/local';

let nextRequest = 1;

function register(s: RecordedSession, procedure: string, options: Dict = {}): number {
  const request = nextRequest++;
  s.peer.inject({ type: MessageType.REGISTER, request: request as never, options, procedure });
  const reply = s.peer.takeOne(MessageType.REGISTERED);
  assert.equal(reply.request, request);
  return reply.registration;
}

function call(s: RecordedSession, procedure: string, options: Dict = {}, args?: unknown[], kwargs?: Dict): number {
  const request = nextRequest++;
  s.peer.inject({ type: MessageType.CALL, request: request as never, options, procedure, ...(args ? { args } : {}), ...(kwargs ? { kwargs } : {}) });
  return request;
}

function yieldResult(s: RecordedSession, invocation: number, options: Dict = {}, args?: unknown[], kwargs?: Dict): void {
  s.peer.inject({ type: MessageType.YIELD, request: invocation as never, options, ...(args ? { args } : {}), ...(kwargs ? { kwargs } : {}) });
}

function expectError(s: RecordedSession, requestType: number, request: number, error: string): void {
  const err = s.peer.takeOne(MessageType.ERROR);
  assert.deepEqual([err.requestType, err.request, err.error], [requestType, request, error], JSON.stringify(err));
}

/** A callee that does not announce call_canceling (nor progressive results). */
function basicCallee(router: Router): RecordedSession {
  return joinRecording(router, 'realm1', { roles: basicRoles });
}

test('register → REGISTERED; call → INVOCATION; yield → RESULT, payload untouched both ways', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  const reg = register(callee, 'com.example.add');
  const args = [2, 3];
  const kwargs = { round: true };
  const request = call(caller, 'com.example.add', {}, args, kwargs);
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  assert.deepEqual(inv, { type: MessageType.INVOCATION, request: inv.request, registration: reg, details: {}, args, kwargs });
  assert.equal(inv.args, args, 'the router never copies payloads');
  caller.peer.takeNone();
  const resultKwargs = { exact: true };
  yieldResult(callee, inv.request, {}, [5], resultKwargs);
  assert.deepEqual(caller.peer.takeOne(MessageType.RESULT), { type: MessageType.RESULT, request, details: {}, args: [5], kwargs: resultKwargs });
  callee.peer.takeNone();
});

test('INVOCATION request ids are per callee and sequential', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  call(caller, 'com.example.p');
  call(caller, 'com.example.p');
  assert.deepEqual(
    callee.peer.take().map((m) => (m as { request: number }).request),
    [1, 2],
  );
});

test('calling an unregistered procedure → ERROR wamp.error.no_such_procedure', async () => {
  const { router } = await startRouter();
  const caller = joinRecording(router);
  const request = call(caller, 'com.example.nothing');
  expectError(caller, MessageType.CALL, request, ErrorUri.noSuchProcedure);
});

test('unregister → UNREGISTERED and the procedure is gone; unknown or foreign registrations → no_such_registration', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const other = joinRecording(router);
  const reg = register(callee, 'com.example.p');
  other.peer.inject({ type: MessageType.UNREGISTER, request: 4 as never, registration: reg as never });
  expectError(other, MessageType.UNREGISTER, 4, ErrorUri.noSuchRegistration);
  callee.peer.inject({ type: MessageType.UNREGISTER, request: 5 as never, registration: reg as never });
  assert.deepEqual(callee.peer.takeOne(MessageType.UNREGISTERED), { type: MessageType.UNREGISTERED, request: 5 });
  callee.peer.inject({ type: MessageType.UNREGISTER, request: 6 as never, registration: reg as never });
  expectError(callee, MessageType.UNREGISTER, 6, ErrorUri.noSuchRegistration);
  const request = call(other, 'com.example.p');
  expectError(other, MessageType.CALL, request, ErrorUri.noSuchProcedure);
});

test('registering a registered procedure again → ERROR wamp.error.procedure_already_exists', async () => {
  const { router } = await startRouter();
  const a = joinRecording(router);
  const b = joinRecording(router);
  register(a, 'com.example.p');
  for (const s of [a, b]) {
    s.peer.inject({ type: MessageType.REGISTER, request: 8 as never, options: {}, procedure: 'com.example.p' });
    expectError(s, MessageType.REGISTER, 8, ErrorUri.procedureAlreadyExists);
  }
});

test("a callee's own error URI, args, kwargs and details reach the caller unchanged", async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  const request = call(caller, 'com.example.p');
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  const args = ['bad input', 42];
  const kwargs = { field: 'x' };
  callee.peer.inject({
    type: MessageType.ERROR,
    requestType: MessageType.INVOCATION,
    request: inv.request,
    details: { hint: 1 },
    error: 'com.example.error.bad_input',
    args,
    kwargs,
  });
  assert.deepEqual(caller.peer.takeOne(MessageType.ERROR), {
    type: MessageType.ERROR,
    requestType: MessageType.CALL,
    request,
    details: { hint: 1 },
    error: 'com.example.error.bad_input',
    args,
    kwargs,
  });
});

test('a YIELD or ERROR for an unknown invocation is ignored and the session goes on', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  yieldResult(callee, 12345, {}, [1]);
  callee.peer.inject({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request: 999 as never, details: {}, error: 'x.y' });
  callee.peer.takeNone();
  assert.equal(callee.peer.closed, false);
  register(callee, 'com.example.still_here');
});

// ---- shared registrations ----------------------------------------------------------------------

function sharedCallees(router: Router, n: number, invoke: string): RecordedSession[] {
  const callees = Array.from({ length: n }, () => joinRecording(router));
  const ids = callees.map((c) => register(c, 'com.example.shared', { invoke }));
  assert.equal(new Set(ids).size, 1, 'one registration shared by every callee');
  return callees;
}

function whoGets(caller: RecordedSession, callees: RecordedSession[], calls: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    call(caller, 'com.example.shared');
    const hit = callees.findIndex((c) => c.peer.take().some((m) => m.type === MessageType.INVOCATION));
    out.push(hit);
  }
  return out;
}

test('shared registration, roundrobin: callees in registration order, in turn', async () => {
  const { router } = await startRouter();
  const callees = sharedCallees(router, 3, 'roundrobin');
  const caller = joinRecording(router);
  assert.deepEqual(whoGets(caller, callees, 7), [0, 1, 2, 0, 1, 2, 0]);
  callees[1]!.peer.drop();
  const rest = [callees[0]!, callees[2]!];
  const next = whoGets(caller, rest, 4);
  assert.ok(
    next.every((i) => i >= 0),
    'every call still reaches a callee',
  );
  assert.deepEqual([next[0] !== next[1], next[1] !== next[2], next[2] !== next[3]], [true, true, true], 'still alternating');
});

test('shared registration, first and last', async () => {
  const { router } = await startRouter();
  const first = sharedCallees(router, 3, 'first');
  const caller = joinRecording(router);
  assert.deepEqual(whoGets(caller, first, 3), [0, 0, 0]);
  first[0]!.peer.drop();
  assert.deepEqual(whoGets(caller, first.slice(1), 2), [0, 0], 'the next in registration order takes over');

  const { router: router2 } = await startRouter();
  const last = sharedCallees(router2, 3, 'last');
  const caller2 = joinRecording(router2);
  assert.deepEqual(whoGets(caller2, last, 3), [2, 2, 2]);
});

test('shared registration, random: the choice follows Math.random and spreads over the callees', async () => {
  const { router } = await startRouter();
  const callees = sharedCallees(router, 3, 'random');
  const caller = joinRecording(router);
  const original = Math.random;
  const draws = [0, 0.5, 0.99, 0.34, 0.67];
  try {
    Math.random = () => draws.shift() ?? 0;
    // routing is synchronous, so the stub only serves the dealer's own draws (and randomId
    // is not drawn for calls)
    assert.deepEqual(whoGets(caller, callees, 5), [0, 1, 2, 1, 2]);
  } finally {
    Math.random = original;
  }
  const counts = [0, 0, 0];
  for (const i of whoGets(caller, callees, 300)) counts[i]!++;
  assert.ok(
    counts.every((c) => c > 0),
    `every callee got calls: ${counts.join(',')}`,
  );
});

test('shared registration: single refuses a second callee; a mismatched policy is refused', async () => {
  const { router } = await startRouter();
  const a = joinRecording(router);
  const b = joinRecording(router);
  register(a, 'com.example.single');
  b.peer.inject({ type: MessageType.REGISTER, request: 1 as never, options: { invoke: 'single' }, procedure: 'com.example.single' });
  expectError(b, MessageType.REGISTER, 1, ErrorUri.procedureAlreadyExists);
  b.peer.inject({ type: MessageType.REGISTER, request: 2 as never, options: { invoke: 'roundrobin' }, procedure: 'com.example.single' });
  expectError(b, MessageType.REGISTER, 2, ErrorUri.procedureAlreadyExists);
  register(a, 'com.example.rr', { invoke: 'roundrobin' });
  b.peer.inject({ type: MessageType.REGISTER, request: 3 as never, options: { invoke: 'random' }, procedure: 'com.example.rr' });
  expectError(b, MessageType.REGISTER, 3, ErrorUri.procedureAlreadyExists);
  b.peer.inject({ type: MessageType.REGISTER, request: 4 as never, options: { invoke: 'fastest' }, procedure: 'com.example.other' });
  expectError(b, MessageType.REGISTER, 4, ErrorUri.invalidArgument);
});

// ---- pattern registrations ---------------------------------------------------------------------

test('pattern registrations: INVOCATION details.procedure carries the called URI; exact > prefix > wildcard', async () => {
  const { router } = await startRouter();
  const exact = joinRecording(router);
  const prefix = joinRecording(router);
  const wildcard = joinRecording(router);
  const caller = joinRecording(router);
  const regExact = register(exact, 'com.example.dev1.read');
  const regPrefix = register(prefix, 'com.example.', { match: 'prefix' });
  const regWild = register(wildcard, 'com..dev1.read', { match: 'wildcard' });
  call(caller, 'com.example.dev1.read', {}, [1]);
  assert.deepEqual(exact.peer.takeOne(MessageType.INVOCATION).details, {});
  call(caller, 'com.example.dev2.read');
  const viaPrefix = prefix.peer.takeOne(MessageType.INVOCATION);
  assert.equal(viaPrefix.registration, regPrefix);
  assert.deepEqual(viaPrefix.details, { procedure: 'com.example.dev2.read' });
  call(caller, 'com.other.dev1.read');
  const viaWild = wildcard.peer.takeOne(MessageType.INVOCATION);
  assert.equal(viaWild.registration, regWild);
  assert.deepEqual(viaWild.details, { procedure: 'com.other.dev1.read' });
  assert.notEqual(regExact, regPrefix);
  const request = call(caller, 'org.other.dev1.read.x');
  expectError(caller, MessageType.CALL, request, ErrorUri.noSuchProcedure);
});

test('invalid procedure URIs and patterns → ERROR wamp.error.invalid_uri', async () => {
  const { router } = await startRouter();
  const s = joinRecording(router);
  for (const [procedure, options] of [
    ['a..b', {}],
    ['a b', {}],
    ['a..b ', { match: 'wildcard' }],
  ] as const) {
    s.peer.inject({ type: MessageType.REGISTER, request: 1 as never, options, procedure });
    expectError(s, MessageType.REGISTER, 1, ErrorUri.invalidUri);
  }
  const request = call(s, 'a..b');
  expectError(s, MessageType.CALL, request, ErrorUri.invalidUri);
});

test('registering in the reserved wamp. namespace is refused', async () => {
  const { router } = await startRouter();
  const s = joinRecording(router);
  s.peer.inject({ type: MessageType.REGISTER, request: 1 as never, options: {}, procedure: 'wamp.session.count2' });
  expectError(s, MessageType.REGISTER, 1, ErrorUri.invalidUri);
});

// ---- caller disclosure, progressive results, passthru -------------------------------------------

test('disclose_me → INVOCATION details carry caller, caller_authid, caller_authrole', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  call(caller, 'com.example.p', { disclose_me: true });
  assert.deepEqual(callee.peer.takeOne(MessageType.INVOCATION).details, {
    caller: caller.id,
    caller_authid: caller.welcome.details.authid,
    caller_authrole: 'anonymous',
  });
  call(caller, 'com.example.p');
  assert.deepEqual(callee.peer.takeOne(MessageType.INVOCATION).details, {}, 'not disclosed unless asked');
});

test('progressive results: RESULT progress=true for each progressive YIELD, then the final RESULT', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.download');
  const request = call(caller, 'com.example.download', { receive_progress: true });
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  assert.deepEqual(inv.details, { receive_progress: true });
  yieldResult(callee, inv.request, { progress: true }, [10]);
  yieldResult(callee, inv.request, { progress: true }, [50]);
  yieldResult(callee, inv.request, {}, [100]);
  assert.deepEqual(caller.peer.take(), [
    { type: MessageType.RESULT, request, details: { progress: true }, args: [10] },
    { type: MessageType.RESULT, request, details: { progress: true }, args: [50] },
    { type: MessageType.RESULT, request, details: {}, args: [100] },
  ]);
  yieldResult(callee, inv.request, {}, ['late']);
  caller.peer.takeNone();
});

test('progressive results only when the caller asked: otherwise progressive YIELDs are dropped', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.download');
  const request = call(caller, 'com.example.download');
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  assert.deepEqual(inv.details, {});
  yieldResult(callee, inv.request, { progress: true }, [10]);
  caller.peer.takeNone();
  yieldResult(callee, inv.request, {}, [100]);
  assert.deepEqual(caller.peer.takeOne(MessageType.RESULT), { type: MessageType.RESULT, request, details: {}, args: [100] });
});

test('a callee that does not announce progressive_call_results is not asked for progress', async () => {
  const { router } = await startRouter();
  const callee = basicCallee(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  call(caller, 'com.example.p', { receive_progress: true });
  assert.deepEqual(callee.peer.takeOne(MessageType.INVOCATION).details, {});
});

test('payload passthru options (ppt_*) are copied into INVOCATION and RESULT details', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  const ppt = { ppt_scheme: 'mqtt', ppt_serializer: 'native' };
  const request = call(caller, 'com.example.p', ppt, [Buffer.from('raw')]);
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  assert.deepEqual(inv.details, ppt);
  yieldResult(callee, inv.request, { ppt_scheme: 'mqtt', ppt_serializer: 'native' }, [Buffer.from('out')]);
  assert.deepEqual(caller.peer.takeOne(MessageType.RESULT), { type: MessageType.RESULT, request, details: ppt, args: [Buffer.from('out')] });
});

// ---- canceling --------------------------------------------------------------------------------

function pendingCall(router: Router, calleeRoles: 'all' | 'basic' = 'all') {
  const callee = calleeRoles === 'all' ? joinRecording(router) : basicCallee(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.slow');
  const request = call(caller, 'com.example.slow');
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  return { callee, caller, request, inv };
}

function cancel(caller: RecordedSession, request: number, mode?: string): void {
  caller.peer.inject({ type: MessageType.CANCEL, request: request as never, options: mode === undefined ? {} : { mode } });
}

test('cancel mode skip: ERROR wamp.error.canceled at once, no INTERRUPT, the late result is discarded', async () => {
  const { router } = await startRouter();
  const { callee, caller, request, inv } = pendingCall(router);
  cancel(caller, request, 'skip');
  expectError(caller, MessageType.CALL, request, ErrorUri.canceled);
  callee.peer.takeNone();
  yieldResult(callee, inv.request, {}, ['late']);
  caller.peer.takeNone();
});

test("cancel mode kill: INTERRUPT to the callee; the caller gets the callee's answer, whatever it is", async () => {
  {
    const { router } = await startRouter();
    const { callee, caller, request, inv } = pendingCall(router);
    cancel(caller, request, 'kill');
    assert.deepEqual(callee.peer.takeOne(MessageType.INTERRUPT), { type: MessageType.INTERRUPT, request: inv.request, options: { mode: 'kill' } });
    caller.peer.takeNone();
    callee.peer.inject({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request: inv.request, details: {}, error: ErrorUri.canceled });
    expectError(caller, MessageType.CALL, request, ErrorUri.canceled);
  }
  {
    const { router } = await startRouter();
    const { callee, caller, request, inv } = pendingCall(router);
    cancel(caller, request, 'kill');
    callee.peer.take();
    yieldResult(callee, inv.request, {}, ['finished first']);
    assert.deepEqual(caller.peer.takeOne(MessageType.RESULT).args, ['finished first']);
  }
});

test("cancel mode killnowait: ERROR at once and INTERRUPT; the callee's answer is discarded", async () => {
  const { router } = await startRouter();
  const { callee, caller, request, inv } = pendingCall(router);
  cancel(caller, request, 'killnowait');
  expectError(caller, MessageType.CALL, request, ErrorUri.canceled);
  assert.deepEqual(callee.peer.takeOne(MessageType.INTERRUPT), { type: MessageType.INTERRUPT, request: inv.request, options: { mode: 'killnowait' } });
  callee.peer.inject({ type: MessageType.ERROR, requestType: MessageType.INVOCATION, request: inv.request, details: {}, error: ErrorUri.canceled });
  caller.peer.takeNone();
});

test('cancel of a callee that does not announce call_canceling behaves as skip (spec)', async () => {
  for (const mode of ['kill', 'killnowait']) {
    const { router } = await startRouter();
    const { callee, caller, request, inv } = pendingCall(router, 'basic');
    cancel(caller, request, mode);
    expectError(caller, MessageType.CALL, request, ErrorUri.canceled);
    callee.peer.takeNone();
    yieldResult(callee, inv.request, {}, ['late']);
    caller.peer.takeNone();
  }
});

test('cancel with an unknown mode → ERROR wamp.error.invalid_argument and the call goes on', async () => {
  const { router } = await startRouter();
  const { callee, caller, request, inv } = pendingCall(router);
  cancel(caller, request, 'now!');
  expectError(caller, MessageType.CANCEL, request, ErrorUri.invalidArgument);
  callee.peer.takeNone();
  yieldResult(callee, inv.request, {}, ['ok']);
  assert.deepEqual(caller.peer.takeOne(MessageType.RESULT).args, ['ok']);
});

test('cancel of a call already answered, or never made, does nothing', async () => {
  const { router } = await startRouter();
  const { callee, caller, request, inv } = pendingCall(router);
  yieldResult(callee, inv.request, {}, ['done']);
  caller.peer.take();
  cancel(caller, request, 'kill');
  cancel(caller, 424242, 'kill');
  caller.peer.takeNone();
  callee.peer.takeNone();
});

// ---- timeouts, sessions leaving, limits ----------------------------------------------------------

test('call timeout → ERROR wamp.error.timeout and INTERRUPT to a callee that announced call_canceling', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.slow');
  const request = call(caller, 'com.example.slow', { timeout: 10 });
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  assert.deepEqual(inv.details, {}, 'the dealer enforces the timeout itself');
  const err = await caller.peer.waitFor(MessageType.ERROR);
  assert.deepEqual([err.requestType, err.request, err.error], [MessageType.CALL, request, ErrorUri.timeout]);
  assert.deepEqual(await callee.peer.waitFor(MessageType.INTERRUPT), {
    type: MessageType.INTERRUPT,
    request: inv.request,
    options: { mode: 'killnowait', reason: ErrorUri.timeout },
  });
  caller.peer.take();
  yieldResult(callee, inv.request, {}, ['too late']);
  caller.peer.takeNone();
});

test('regression (fuzzer): a call timeout beyond 2^31 - 1 ms gets ERROR invalid_argument, not a timeout after 1 ms', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.slow');
  const request = call(caller, 'com.example.slow', { timeout: 2 ** 53 + 10 });
  expectError(caller, MessageType.CALL, request, ErrorUri.invalidArgument);
  callee.peer.takeNone();
  // The largest timer Node can carry is still a timeout, and it does not fire early.
  const ok = call(caller, 'com.example.slow', { timeout: 2 ** 31 - 1 });
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  await new Promise((r) => setTimeout(r, 30));
  caller.peer.takeNone();
  yieldResult(callee, inv.request, {}, ['in time']);
  assert.deepEqual(caller.peer.takeOne(MessageType.RESULT).request, ok);
});

test('call timeout with a callee that cannot be interrupted: the caller gets ERROR timeout, the callee nothing', async () => {
  const { router } = await startRouter();
  const callee = basicCallee(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.slow');
  const request = call(caller, 'com.example.slow', { timeout: 10 });
  callee.peer.takeOne(MessageType.INVOCATION);
  const err = await caller.peer.waitFor(MessageType.ERROR);
  assert.equal(err.request, request);
  assert.equal(err.error, ErrorUri.timeout);
  callee.peer.takeNone();
});

test('a registration with forward_timeout gets the timeout in INVOCATION details instead', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.slow', { forward_timeout: true });
  const request = call(caller, 'com.example.slow', { timeout: 10 });
  const inv = callee.peer.takeOne(MessageType.INVOCATION);
  assert.deepEqual(inv.details, { timeout: 10 });
  await new Promise((r) => setTimeout(r, 30));
  caller.peer.takeNone();
  yieldResult(callee, inv.request, {}, ['ok']);
  assert.equal(caller.peer.takeOne(MessageType.RESULT).request, request);
});

test('an invalid timeout option → ERROR wamp.error.invalid_argument', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  for (const timeout of [-1, 1.5, '10']) {
    const request = call(caller, 'com.example.p', { timeout });
    expectError(caller, MessageType.CALL, request, ErrorUri.invalidArgument);
  }
  callee.peer.takeNone();
});

test('the callee leaving mid-call → the caller gets ERROR wamp.error.canceled', async () => {
  const { router } = await startRouter();
  const { callee, caller, request } = pendingCall(router);
  callee.peer.drop();
  expectError(caller, MessageType.CALL, request, ErrorUri.canceled);
  const again = call(caller, 'com.example.slow');
  expectError(caller, MessageType.CALL, again, ErrorUri.noSuchProcedure);
});

test('the caller leaving mid-call → INTERRUPT to a callee that announced call_canceling; its answer is dropped', async () => {
  const { router } = await startRouter();
  const { callee, caller, inv } = pendingCall(router);
  caller.peer.drop();
  assert.deepEqual(callee.peer.takeOne(MessageType.INTERRUPT), {
    type: MessageType.INTERRUPT,
    request: inv.request,
    options: { mode: 'killnowait', reason: ErrorUri.canceled },
  });
  yieldResult(callee, inv.request, {}, ['nobody listens']);
  callee.peer.takeNone();
  assert.equal(callee.peer.closed, false);
});

test('the caller leaving mid-call with a callee that cannot be interrupted: no INTERRUPT', async () => {
  const { router } = await startRouter();
  const { callee, caller } = pendingCall(router, 'basic');
  caller.peer.drop();
  callee.peer.takeNone();
});

test('maxPendingCalls → ERROR wampgate.error.limit_exceeded; answering a call frees a slot', async () => {
  const { router } = await startRouter({ limits: { maxPendingCalls: 2 } });
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  call(caller, 'com.example.p');
  call(caller, 'com.example.p');
  const third = call(caller, 'com.example.p');
  expectError(caller, MessageType.CALL, third, ErrorUri.limitExceeded);
  const [first] = callee.peer.take() as Array<{ request: number }>;
  yieldResult(callee, first!.request, {}, []);
  caller.peer.takeOne(MessageType.RESULT);
  call(caller, 'com.example.p');
  caller.peer.takeNone();
  assert.equal(callee.peer.take().length, 1);
});

test('a CALL reusing the request id of an outstanding call → ERROR wamp.error.invalid_argument', async () => {
  const { router } = await startRouter();
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  register(callee, 'com.example.p');
  caller.peer.inject({ type: MessageType.CALL, request: 7 as never, options: {}, procedure: 'com.example.p' });
  caller.peer.inject({ type: MessageType.CALL, request: 7 as never, options: {}, procedure: 'com.example.p' });
  expectError(caller, MessageType.CALL, 7, ErrorUri.invalidArgument);
  assert.equal(callee.peer.take().length, 1);
});

// Regression: a RESULT or INVOCATION over the receiver's transport limit (RawSocket max length,
// serial frame size) used to be dropped by the transport, leaving the caller waiting forever.
test("a RESULT the caller's transport cannot carry → ERROR wamp.error.payload_size_exceeded instead of silence", async () => {
  const { router } = await startRouter();
  const callee = basicCallee(router);
  const caller = joinRecording(router);
  register(callee, 'com.big');
  const request = call(caller, 'com.big');
  const invocation = callee.peer.takeOne(MessageType.INVOCATION);
  caller.peer.refuseTypes.add(MessageType.RESULT);
  yieldResult(callee, invocation.request, {}, ['x'.repeat(10)]);
  expectError(caller, MessageType.CALL, request, ErrorUri.payloadSizeExceeded);
  assert.equal(router.stats.messagesTooLarge, 1);
  await router.close();
});

test("an INVOCATION the callee's transport cannot carry → the caller gets ERROR wamp.error.payload_size_exceeded and nothing stays pending", async () => {
  const { router } = await startRouter();
  const callee = basicCallee(router);
  const caller = joinRecording(router);
  register(callee, 'com.big');
  callee.peer.refuseTypes.add(MessageType.INVOCATION);
  const request = call(caller, 'com.big', {}, ['x'.repeat(10)]);
  expectError(caller, MessageType.CALL, request, ErrorUri.payloadSizeExceeded);
  assert.equal(router.realms.get('realm1')!.dealer.pendingCalls(router.sessions.get(caller.id)!), 0);
  await router.close();
});

test('force_reregister: a session of the same authid and authrole takes over a registration; another principal cannot', async () => {
  const { router } = await startRouter();
  const join = (authid: string, authrole = 'gateway'): Promise<WampClient> =>
    WampClient.connect(attachLocal(router, authid, { authid, authrole }), { realm: 'realm1' });
  const stale = await join('gw1');
  const fresh = await join('gw1');
  const other = await join('gw2');
  const sameIdOtherRole = await join('gw1', 'admin');
  const app = await join('app');
  try {
    await stale.register('site.gw1.dev.ping', () => 'stale');
    // Without the option the procedure is taken.
    await assert.rejects(
      fresh.register('site.gw1.dev.ping', () => 'fresh'),
      (e: unknown) => e instanceof WampError && e.error === ErrorUri.procedureAlreadyExists,
    );
    // Another principal (or the same authid in another role) cannot take it, option or not.
    for (const s of [other, sameIdOtherRole]) {
      await assert.rejects(
        s.register('site.gw1.dev.ping', () => 'hijack', { force_reregister: true }),
        (e: unknown) => e instanceof WampError && e.error === ErrorUri.procedureAlreadyExists,
      );
    }
    assert.deepEqual((await app.call('site.gw1.dev.ping')).args, ['stale']);
    await fresh.register('site.gw1.dev.ping', () => 'fresh', { force_reregister: true });
    assert.deepEqual((await app.call('site.gw1.dev.ping')).args, ['fresh'], 'calls go to the new session');
    // The stale session's UNREGISTER now finds nothing of its own.
    const metaReg = (await app.call('wamp.registration.lookup', ['site.gw1.dev.ping'])).args[0] as number;
    const callees = (await app.call('wamp.registration.list_callees', [metaReg])).args[0] as number[];
    assert.deepEqual(callees, [fresh.sessionId]);
  } finally {
    await Promise.allSettled([stale, fresh, other, sameIdOtherRole, app].map((c) => c.close()));
    await router.close();
  }
});
