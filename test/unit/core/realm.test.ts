import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Authorizer, Decision } from '../../../src/core/ports';
import { ErrorUri } from '../../../src/protocol/error-uris';
import { MessageType } from '../../../src/protocol/message-types';
import { WampError } from '../../../src/client/wamp-error';
import { assertServesFreshSession, connectClient, joinRecording, startRouter } from '../../helpers/local-router';

test('realm isolation: same topic and procedure names in two realms, nothing crosses', async () => {
  const { router } = await startRouter({ realms: ['realm1', 'realm2'] });
  const one = joinRecording(router, 'realm1');
  const two = joinRecording(router, 'realm2');
  for (const s of [one, two]) {
    s.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: {}, topic: 'com.example.t' });
    s.peer.inject({ type: MessageType.REGISTER, request: 2 as never, options: {}, procedure: 'com.example.p' });
    assert.deepEqual(
      s.peer.take().map((m) => m.type),
      [MessageType.SUBSCRIBED, MessageType.REGISTERED],
      'no procedure_already_exists across realms',
    );
  }
  const pub1 = joinRecording(router, 'realm1');
  pub1.peer.inject({ type: MessageType.PUBLISH, request: 3 as never, options: {}, topic: 'com.example.t', args: ['r1'] });
  assert.deepEqual(one.peer.takeOne(MessageType.EVENT).args, ['r1']);
  two.peer.takeNone();
  const caller2 = joinRecording(router, 'realm2');
  caller2.peer.inject({ type: MessageType.CALL, request: 4 as never, options: {}, procedure: 'com.example.p' });
  two.peer.takeOne(MessageType.INVOCATION);
  one.peer.takeNone();
  // the meta API sees only its own realm
  const meta1 = await connectClient(router, 'realm1');
  assert.deepEqual((await meta1.call('wamp.session.count')).args, [3]);
  await assert.rejects(meta1.call('wamp.session.get', [two.id]), (e: unknown) => e instanceof WampError && e.error === ErrorUri.noSuchSession);
  await assert.rejects(meta1.call('wamp.session.kill', [two.id]), (e: unknown) => e instanceof WampError && e.error === ErrorUri.noSuchSession);
  two.peer.takeNone();
  // testaments stay in their realm too
  await meta1.call('wamp.session.add_testament', ['com.example.t', ['bye from r1']]);
  await meta1.close();
  assert.deepEqual(
    one.peer.take().map((m) => (m as { args?: unknown[] }).args),
    [['bye from r1']],
  );
  two.peer.takeNone();
});

test('an authorizer denial → ERROR wamp.error.not_authorized, the session goes on', async () => {
  const denyCalls: Authorizer = { authorize: (_who, action) => ({ allow: action !== 'call' }) };
  const { router } = await startRouter({ realms: [{ name: 'realm1', authorizer: denyCalls }] });
  const s = joinRecording(router);
  s.peer.inject({ type: MessageType.CALL, request: 1 as never, options: {}, procedure: 'com.example.p' });
  const err = s.peer.takeOne(MessageType.ERROR);
  assert.deepEqual([err.requestType, err.request, err.error], [MessageType.CALL, 1, ErrorUri.notAuthorized]);
  s.peer.inject({ type: MessageType.SUBSCRIBE, request: 2 as never, options: {}, topic: 'com.example.t' });
  s.peer.takeOne(MessageType.SUBSCRIBED);
});

test('an authorizer that throws denies (logged), it does not break the session', async () => {
  const broken: Authorizer = {
    authorize: () => {
      throw new Error('authorizer bug');
    },
  };
  const { router, logs } = await startRouter({ realms: [{ name: 'realm1', authorizer: broken }] });
  const s = joinRecording(router);
  s.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: {}, topic: 'com.example.t' });
  assert.equal(s.peer.takeOne(MessageType.ERROR).error, ErrorUri.notAuthorized);
  assert.ok(logs.some((l) => l.level === 'error' && l.msg === 'authorizer failed; denying'));
});

test("an asynchronous authorizer keeps each session's messages in order", async () => {
  const delays = [30, 0, 10];
  const slow: Authorizer = {
    authorize: () => new Promise<Decision>((resolve) => setTimeout(() => resolve({ allow: true }), delays.shift() ?? 0)),
  };
  const { router } = await startRouter({ realms: [{ name: 'realm1', authorizer: slow }] });
  const s = joinRecording(router);
  for (const request of [1, 2, 3]) s.peer.inject({ type: MessageType.SUBSCRIBE, request: request as never, options: {}, topic: `com.example.t${request}` });
  await s.peer.waitFor(MessageType.SUBSCRIBED, (m) => m.request === 3);
  assert.deepEqual(
    s.peer.take().map((m) => (m as { request: number }).request),
    [1, 2, 3],
  );
});

test('internal error: a realm listener that throws is logged and the router keeps serving', async () => {
  const { router, logs } = await startRouter();
  router.findRealm('realm1')!.listeners.add({
    onSubscribe() {
      throw new Error('listener bug');
    },
  });
  const s = joinRecording(router);
  s.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: {}, topic: 'com.example.t' });
  s.peer.takeOne(MessageType.SUBSCRIBED);
  const entry = logs.find((l) => l.level === 'error' && l.msg === 'realm listener failed');
  assert.ok(entry, 'the failure is logged');
  assert.deepEqual(entry.fields, { event: 'onSubscribe', error: 'Error: listener bug' });
  await assertServesFreshSession(router);
});

test('internal error: an exception while routing a message is logged with context and counted; routing goes on', async () => {
  const { router, logs } = await startRouter();
  const broker = router.findRealm('realm1')!.broker;
  const original = broker.publish.bind(broker);
  let fail = true;
  broker.publish = (...args) => {
    if (fail) {
      fail = false;
      throw new Error('broker bug');
    }
    return original(...args);
  };
  const pub = joinRecording(router);
  const sub = joinRecording(router);
  sub.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: {}, topic: 'com.example.t' });
  sub.peer.take();
  pub.peer.inject({ type: MessageType.PUBLISH, request: 2 as never, options: {}, topic: 'com.example.t', args: ['lost'] });
  assert.equal(router.stats.internalErrors, 1);
  const entry = logs.find((l) => l.level === 'error' && l.msg === 'internal error while handling message');
  assert.ok(entry);
  assert.equal(entry.fields?.session, pub.id);
  assert.equal(entry.fields?.type, MessageType.PUBLISH);
  assert.match(String(entry.fields?.error), /broker bug/);
  assert.equal(pub.peer.closed, false, "a router bug is not the client's fault: no ABORT");
  pub.peer.takeNone();
  pub.peer.inject({ type: MessageType.PUBLISH, request: 3 as never, options: {}, topic: 'com.example.t', args: ['delivered'] });
  assert.deepEqual(sub.peer.takeOne(MessageType.EVENT).args, ['delivered']);
  await assertServesFreshSession(router);
});

test('router.close sends GOODBYE wamp.close.system_shutdown to every session and closes the connections', async () => {
  const { router } = await startRouter({ realms: ['realm1', 'realm2'], limits: { goodbyeTimeoutMs: 50 } });
  const a = joinRecording(router, 'realm1');
  const b = joinRecording(router, 'realm2');
  const client = await connectClient(router, 'realm1');
  const clientClosed = new Promise<string>((resolve) => client.onClose(resolve));
  await router.close();
  for (const s of [a, b]) {
    assert.equal(s.peer.takeOne(MessageType.GOODBYE).reason, ErrorUri.systemShutdown);
    assert.equal(s.peer.closed, true);
  }
  assert.equal(await clientClosed, ErrorUri.systemShutdown);
  assert.equal(router.connectionCount, 0);
});
