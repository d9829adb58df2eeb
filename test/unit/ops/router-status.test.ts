import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routerStatus, DROP_REASONS } from '../../../src/ops/router-status';
import { routerView } from '../../../src/core/router-view';
import { WampClient } from '../../../src/client/wamp-client';
import { MessageType } from '../../../src/protocol/message-types';
import { connectClient, flush, joinRecording, startRouter } from '../../helpers/local-router';
import { attachLocal } from '../../../src/transports/local';

test('realms count sessions by transport; hidden sessions (meta API, ops) are not counted', async () => {
  const { router } = await startRouter({ realms: ['realm1', 'realm2'] });
  const a = joinRecording(router, 'realm1', undefined, { type: 'websocket', listener: 'ws' });
  joinRecording(router, 'realm1', undefined, { type: 'websocket', listener: 'ws' });
  joinRecording(router, 'realm1', undefined, { type: 'rawsocket', listener: 'raw' });
  const hidden = await WampClient.connect(attachLocal(router, 'ops', { authid: 'wampgate.ops', authrole: 'wampgate.ops', hidden: true }), { realm: 'realm2' });
  const visible = await connectClient(router, 'realm2');

  const s = routerStatus(routerView(router));
  assert.deepEqual(
    s.realms.map((r) => [r.name, r.sessions]),
    [
      ['realm1', { websocket: 2, rawsocket: 1 }],
      ['realm2', { local: 1 }],
    ],
  );
  assert.equal(routerView(router).sessionsByListener().get('ws'), 2);
  assert.equal(routerView(router).sessionsByListener().get('raw'), 1);
  assert.ok(!s.queues?.some((q) => q.authid === 'wampgate.ops'), 'hidden session not listed in queues');
  assert.ok(s.queues?.some((q) => q.sessionId === a.id && q.transport === 'websocket' && q.realm === 'realm1'));
  await hidden.close();
  await visible.close();
});

test('messages in/out are reported by type name and grow with traffic', async () => {
  const { router } = await startRouter();
  const before = routerStatus(routerView(router));
  const client = await connectClient(router);
  await client.publish('com.example.t', [1], {}, { acknowledge: true });
  const after = routerStatus(routerView(router));
  assert.equal((after.messagesIn?.PUBLISH ?? 0) - (before.messagesIn?.PUBLISH ?? 0), 1);
  assert.equal((after.messagesOut?.PUBLISHED ?? 0) - (before.messagesOut?.PUBLISHED ?? 0), 1);
  assert.ok((after.messagesIn?.HELLO ?? 0) > (before.messagesIn?.HELLO ?? 0));
  await client.close();
});

test('drops name every reason, zeros included, and follow the router counters', async () => {
  const { router } = await startRouter();
  assert.deepEqual(Object.keys(routerStatus(routerView(router)).drops ?? {}), [...DROP_REASONS]);
  assert.ok(Object.values(routerStatus(routerView(router)).drops ?? {}).every((n) => n === 0));
  router.stats.eventsDroppedSlowConsumer += 5;
  router.stats.slowConsumersDisconnected += 1;
  router.stats.protocolViolations += 2;
  router.stats.authFailures += 3;
  router.stats.authBusy += 11;
  router.stats.internalErrors += 4;
  router.stats.eventsDroppedUnrepresentable += 6;
  router.stats.callMessagesUnrepresentable += 7;
  router.stats.messagesOverLimit += 8;
  router.stats.messagesTooLarge += 9;
  router.stats.eventsTooLarge += 10;
  assert.deepEqual(routerStatus(routerView(router)).drops, {
    slow_consumer_event: 5,
    slow_consumer_disconnect: 1,
    protocol_violation: 2,
    auth_failure: 3,
    auth_busy: 11,
    internal_error: 4,
    unrepresentable_event: 6,
    unrepresentable_call: 7,
    message_over_limit: 8,
    too_large_event: 10,
    too_large_call: 9,
  });
});

test('queues: deepest first, capped at topN, with authid, authrole and per-session drops', async () => {
  const { router } = await startRouter();
  const sessions = [0, 1, 2, 3].map(() => joinRecording(router, 'realm1', undefined, { type: 'websocket' }));
  const depths = [100, 5000, 0, 300];
  sessions.forEach((s, i) => (s.peer.buffered = depths[i] ?? 0));
  const s = routerStatus(routerView(router), { topN: 3 });
  assert.deepEqual(
    s.queues?.map((q) => q.queuedBytes),
    [5000, 300, 100],
  );
  const top = s.queues?.[0];
  assert.equal(top?.sessionId, sessions[1]?.id);
  assert.equal(top?.authrole, 'anonymous');
  assert.equal(typeof top?.authid, 'string');
  assert.equal(top?.dropped, 0);
  assert.deepEqual(routerStatus(routerView(router), { topN: 0 }).queues, []);
});

test('a session that left is no longer counted', async () => {
  const { router } = await startRouter();
  const r = joinRecording(router);
  assert.equal(routerStatus(routerView(router)).realms[0]?.sessions.local, 1);
  r.peer.inject({ type: MessageType.GOODBYE, details: {}, reason: 'wamp.close.close_realm' });
  await flush();
  assert.equal(routerStatus(routerView(router)).realms[0]?.sessions.local, undefined);
});

test("uptime: wall clock by default, the caller's monotonic figure when given", async () => {
  const { router } = await startRouter();
  assert.ok(routerStatus(routerView(router)).uptimeSeconds >= 0);
  assert.equal(routerStatus(routerView(router), { uptimeSeconds: 42 }).uptimeSeconds, 42);
});
