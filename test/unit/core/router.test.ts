// End to end through Router + WampClient over the local transport: what an in-process client
// (bridge, uplink, meta API) sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Result } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import { ErrorUri } from '../../../src/protocol/error-uris';
import { MessageType } from '../../../src/protocol/message-types';
import { collectEvents, connectClient, joinRecording, startRouter } from '../../helpers/local-router';

test('regression: router.close waits for the GOODBYE reply instead of closing at once', async () => {
  const { router } = await startRouter({ limits: { goodbyeTimeoutMs: 2000 } });
  const s = joinRecording(router);
  const handshaking = joinRecording(router); // then GOODBYE: an idle transport in the closed state
  handshaking.peer.inject({ type: MessageType.GOODBYE, details: {}, reason: 'wamp.close.normal' });
  const closing = router.close();
  assert.equal(s.peer.takeOne(MessageType.GOODBYE).reason, ErrorUri.systemShutdown);
  assert.equal(s.peer.closed, false, 'the client may still answer');
  assert.equal(handshaking.peer.closed, true, 'connections without a session are closed at once');
  s.peer.inject({ type: MessageType.GOODBYE, details: {}, reason: ErrorUri.goodbyeAndOut });
  assert.equal(s.peer.closed, true);
  await closing;
  assert.equal(router.connectionCount, 0);
});

test('client: publish with acknowledge resolves with the publication id the subscriber sees', async () => {
  const { router } = await startRouter();
  const pub = await connectClient(router);
  const sub = await connectClient(router);
  const log = await collectEvents(sub, 'com.example.t');
  const publication = await pub.publish('com.example.t', [1], { k: 'v' }, { acknowledge: true, disclose_me: true });
  const event = await log.waitFor();
  assert.deepEqual(event.args, [1]);
  assert.deepEqual(event.kwargs, { k: 'v' });
  assert.equal(event.details.publisher, pub.sessionId);
  assert.equal(typeof publication, 'number');
});

test('client: two local handlers share one subscription; unsubscribing one keeps the other', async () => {
  const { router } = await startRouter();
  const pub = await connectClient(router);
  const sub = await connectClient(router);
  const got: string[] = [];
  const one = await sub.subscribe('com.example.t', () => void got.push('one'));
  const two = await sub.subscribe('com.example.t', () => void got.push('two'));
  assert.equal(one.id, two.id);
  await one.unsubscribe();
  await pub.publish('com.example.t', [], {}, { acknowledge: true });
  const log = await collectEvents(sub, 'com.example.t');
  await pub.publish('com.example.t', [], {}, { acknowledge: true });
  await log.waitFor();
  assert.deepEqual(got, ['two', 'two']);
});

test('client: handler results, Result(args, kwargs), WampError and plain exceptions reach the caller', async () => {
  const { router } = await startRouter();
  const callee = await connectClient(router);
  const caller = await connectClient(router);
  await callee.register('com.example.value', (args) => (args[0] as number) * 2);
  await callee.register('com.example.result', () => new Result(['a'], { b: 1 }));
  await callee.register('com.example.app_error', () => {
    throw new WampError('com.example.error.out_of_range', ['too big'], { max: 10 });
  });
  await callee.register('com.example.bug', () => {
    throw new TypeError('oops');
  });
  assert.deepEqual((await caller.call('com.example.value', [21])).args, [42]);
  const r = await caller.call('com.example.result');
  assert.deepEqual([r.args, r.kwargs], [['a'], { b: 1 }]);
  await assert.rejects(
    caller.call('com.example.app_error'),
    (e: unknown) => e instanceof WampError && e.error === 'com.example.error.out_of_range' && e.args[0] === 'too big' && e.kwargs.max === 10,
  );
  await assert.rejects(
    caller.call('com.example.bug'),
    (e: unknown) => e instanceof WampError && e.error === 'wamp.error.runtime_error' && e.args[0] === 'oops',
  );
  await assert.rejects(caller.call('com.example.none'), (e: unknown) => e instanceof WampError && e.error === ErrorUri.noSuchProcedure);
});

test('client: progressive results reach onProgress before the final result', async () => {
  const { router } = await startRouter();
  const callee = await connectClient(router);
  const caller = await connectClient(router);
  await callee.register('com.example.download', (_args, _kwargs, details) => {
    details.progress?.([25]);
    details.progress?.([75]);
    return 100;
  });
  const progress: unknown[] = [];
  const result = await caller.call('com.example.download', [], {}, { onProgress: (p) => progress.push(p.args[0]) });
  assert.deepEqual(progress, [25, 75]);
  assert.deepEqual(result.args, [100]);
});

test('client: aborting the signal cancels the call; the callee sees its own signal abort (mode kill)', async () => {
  const { router } = await startRouter();
  const callee = await connectClient(router);
  const caller = await connectClient(router);
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  await callee.register('com.example.slow', (_args, _kwargs, details) => {
    started();
    return new Promise((_resolve, reject) => details.signal.addEventListener('abort', () => reject(new WampError(ErrorUri.canceled, ['stopped']))));
  });
  const controller = new AbortController();
  const pending = caller.call('com.example.slow', [], {}, { signal: controller.signal, cancelMode: 'kill' });
  await running;
  controller.abort();
  await assert.rejects(pending, (e: unknown) => e instanceof WampError && e.error === ErrorUri.canceled && e.args[0] === 'stopped');
});

test('client: a call in flight when the callee leaves is rejected with wamp.error.canceled', async () => {
  const { router } = await startRouter();
  const callee = await connectClient(router);
  const caller = await connectClient(router);
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  await callee.register('com.example.hang', () => {
    started();
    return new Promise(() => undefined);
  });
  const pending = caller.call('com.example.hang');
  await running;
  callee.peer.close('gone');
  await assert.rejects(pending, (e: unknown) => e instanceof WampError && e.error === ErrorUri.canceled);
});

test('client: joining an unknown realm rejects with the ABORT reason', async () => {
  const { router } = await startRouter();
  await assert.rejects(connectClient(router, 'nowhere'), (e: unknown) => e instanceof WampError && e.error === ErrorUri.noSuchRealm);
});
