import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFeatures, dealerFeatures } from '../../../src/core/features';
import { AGENT } from '../../../src/util/version';
import { ErrorUri } from '../../../src/protocol/error-uris';
import { MAX_ID } from '../../../src/protocol/ids';
import { MessageType } from '../../../src/protocol/message-types';
import type { Message } from '../../../src/protocol/messages';
import { allRoles, assertServesFreshSession, connectClient, joinRecording, startRouter } from '../../helpers/local-router';
import { RecordingPeer } from '../../helpers/recording-peer';

const HELLO: Message = { type: MessageType.HELLO, realm: 'realm1', details: { roles: allRoles } };

function expectAbort(peer: RecordingPeer, reason: string): void {
  const abort = peer.takeOne(MessageType.ABORT);
  assert.equal(abort.reason, reason);
  assert.equal(typeof abort.details.message, 'string');
  assert.equal(peer.closed, true, 'the connection is closed after ABORT');
}

test('HELLO → WELCOME with realm, authid, authrole, authmethod and the announced router roles', async () => {
  const { router } = await startRouter();
  const { welcome, id } = joinRecording(router);
  assert.ok(Number.isInteger(id) && id >= 1 && id <= MAX_ID);
  assert.match(welcome.details.authid as string, /^anonymous-[0-9a-f]{8}$/);
  assert.deepEqual(
    { ...welcome.details, authid: 'x' },
    {
      realm: 'realm1',
      authid: 'x',
      authrole: 'anonymous',
      authmethod: 'anonymous',
      authprovider: 'static',
      roles: { broker: { features: { ...brokerFeatures } }, dealer: { features: { ...dealerFeatures } } },
      agent: AGENT,
    },
  );
  assert.equal(router.sessions.get(id)?.authid, welcome.details.authid);
});

test('each session gets its own random session id and authid', async () => {
  const { router } = await startRouter();
  const a = joinRecording(router);
  const b = joinRecording(router);
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.welcome.details.authid, b.welcome.details.authid);
});

test('a WampClient over the local transport joins anonymously and sees the same WELCOME', async () => {
  const { router } = await startRouter();
  const client = await connectClient(router);
  assert.ok(client.sessionId > 0);
  assert.equal(client.welcome.authmethod, 'anonymous');
  assert.equal(client.welcome.authrole, 'anonymous');
  assert.deepEqual(client.welcome.roles, { broker: { features: { ...brokerFeatures } }, dealer: { features: { ...dealerFeatures } } });
  await client.close();
});

test('HELLO for an unknown realm → ABORT wamp.error.no_such_realm, then the router serves a fresh session', async () => {
  const { router } = await startRouter();
  const peer = new RecordingPeer();
  router.attach(peer);
  peer.inject({ type: MessageType.HELLO, realm: 'nowhere', details: {} });
  expectAbort(peer, ErrorUri.noSuchRealm);
  assert.equal(router.sessions.size, 1, 'only the meta API session');
  await assertServesFreshSession(router);
});

test('HELLO with an invalid realm URI → ABORT wamp.error.invalid_uri', async () => {
  const { router } = await startRouter();
  const peer = new RecordingPeer();
  router.attach(peer);
  peer.inject({ type: MessageType.HELLO, realm: 'bad realm', details: {} });
  expectAbort(peer, ErrorUri.invalidUri);
  await assertServesFreshSession(router);
});

test('anonymous on a non-loopback connection → ABORT wamp.error.not_authorized, counted as an auth failure', async () => {
  const { router } = await startRouter();
  const peer = new RecordingPeer({ loopback: false, peer: '192.0.2.7:5000' });
  router.attach(peer);
  peer.inject(HELLO);
  expectAbort(peer, ErrorUri.notAuthorized);
  assert.equal(router.stats.authFailures, 1);
  await assertServesFreshSession(router);
});

test('HELLO asking only for an authmethod the listener lacks → ABORT wamp.error.no_auth_method', async () => {
  const { router } = await startRouter();
  const peer = new RecordingPeer();
  router.attach(peer);
  peer.inject({ type: MessageType.HELLO, realm: 'realm1', details: { authmethods: ['ticket'] } });
  expectAbort(peer, ErrorUri.noAuthMethod);
});

const violations: Array<[string, (peer: RecordingPeer) => void]> = [
  ['a message before HELLO', (p) => p.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: {}, topic: 'a.b' })],
  ['a second HELLO', (p) => (p.inject(HELLO), p.take(), p.inject(HELLO))],
  ['AUTHENTICATE on an established session', (p) => (p.inject(HELLO), p.take(), p.inject({ type: MessageType.AUTHENTICATE, signature: 'x', extra: {} }))],
  [
    'EVENT (a router-to-client message) from a client',
    (p) => (p.inject(HELLO), p.take(), p.inject({ type: MessageType.EVENT, subscription: 1 as never, publication: 2 as never, details: {} })),
  ],
  ['WELCOME from a client before HELLO', (p) => p.inject({ type: MessageType.WELCOME, session: 1 as never, details: {} })],
  ['RESULT from a client', (p) => (p.inject(HELLO), p.take(), p.inject({ type: MessageType.RESULT, request: 1 as never, details: {} }))],
  [
    'ERROR for a CALL (only INVOCATION errors come from clients)',
    (p) => (p.inject(HELLO), p.take(), p.inject({ type: MessageType.ERROR, requestType: MessageType.CALL, request: 1 as never, details: {}, error: 'x.y' })),
  ],
  [
    'ERROR for a SUBSCRIBE',
    (p) => (
      p.inject(HELLO),
      p.take(),
      p.inject({ type: MessageType.ERROR, requestType: MessageType.SUBSCRIBE, request: 1 as never, details: {}, error: 'x.y' })
    ),
  ],
  ['a malformed message (PUBLISH with a string request id)', (p) => (p.inject(HELLO), p.take(), p.injectRaw([16, 'one', {}, 'a.b']))],
  ['a non-list message', (p) => p.injectRaw({ hello: 'realm1' })],
  ['an unknown message type', (p) => (p.inject(HELLO), p.take(), p.injectRaw([99, 1, {}]))],
];

for (const [name, act] of violations) {
  test(`${name} → ABORT wamp.error.protocol_violation, connection closed, router still serves`, async () => {
    const { router } = await startRouter();
    const peer = new RecordingPeer();
    const session = router.attach(peer);
    act(peer);
    expectAbort(peer, ErrorUri.protocolViolation);
    assert.equal(router.stats.protocolViolations, 1);
    assert.equal(session.established, false);
    assert.equal(session.realm, undefined, 'the session left its realm');
    await assertServesFreshSession(router);
  });
}

test('a protocol violation removes the session and its subscriptions and registrations', async () => {
  const { router } = await startRouter();
  const { peer, id } = joinRecording(router);
  peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: {}, topic: 'a.b' });
  peer.inject({ type: MessageType.REGISTER, request: 2 as never, options: {}, procedure: 'a.proc' });
  peer.take();
  peer.inject({ type: MessageType.EVENT, subscription: 1 as never, publication: 2 as never, details: {} });
  expectAbort(peer, ErrorUri.protocolViolation);
  const realm = router.findRealm('realm1')!;
  assert.equal(realm.sessions.has(id), false);
  assert.equal(router.sessions.has(id), false);
  assert.equal(realm.broker.lookup('a.b', 'exact'), undefined);
  assert.equal(realm.dealer.lookup('a.proc', 'exact'), undefined);
});

test('ABORT from the client during the handshake closes quietly (no reply)', async () => {
  const { router } = await startRouter();
  const peer = new RecordingPeer();
  router.attach(peer);
  peer.inject({ type: MessageType.ABORT, details: {}, reason: 'wamp.error.canceled' });
  peer.takeNone();
  assert.equal(peer.closed, true);
});

test('GOODBYE from the client → GOODBYE wamp.close.goodbye_and_out and the session leaves', async () => {
  const { router } = await startRouter();
  const { peer, id } = joinRecording(router);
  peer.inject({ type: MessageType.GOODBYE, details: {}, reason: 'wamp.close.close_realm' });
  const goodbye = peer.takeOne(MessageType.GOODBYE);
  assert.equal(goodbye.reason, ErrorUri.goodbyeAndOut);
  assert.deepEqual(goodbye.details, {});
  assert.equal(router.sessions.has(id), false);
  assert.equal(router.findRealm('realm1')!.sessions.has(id), false);
  assert.equal(router.stats.sessionsClosed, 1);
});

test('after GOODBYE the same transport may carry a new session (spec "Session Closing")', async () => {
  const { router } = await startRouter();
  const { peer, id } = joinRecording(router);
  peer.inject({ type: MessageType.GOODBYE, details: {}, reason: 'wamp.close.normal' });
  peer.take();
  assert.equal(peer.closed, false);
  peer.inject(HELLO);
  const welcome = peer.takeOne(MessageType.WELCOME);
  assert.notEqual(welcome.session, id);
  peer.inject({ type: MessageType.CALL, request: 1 as never, options: {}, procedure: 'wamp.session.count' });
  const result = await peer.waitFor(MessageType.RESULT);
  assert.deepEqual(result.args, [1]);
});

test('a transport idle after GOODBYE is closed by the handshake timeout', async () => {
  const { router } = await startRouter({ limits: { helloTimeoutMs: 20 } });
  const { peer } = joinRecording(router);
  peer.inject({ type: MessageType.GOODBYE, details: {}, reason: 'wamp.close.normal' });
  assert.equal(await peer.waitClosed(), 'handshake timeout');
});

test('router-initiated close (wamp.session.kill) → GOODBYE wamp.close.killed, closed after the client replies', async () => {
  const { router } = await startRouter();
  const victim = joinRecording(router);
  const admin = await connectClient(router);
  await admin.call('wamp.session.kill', [victim.id]);
  const goodbye = victim.peer.takeOne(MessageType.GOODBYE);
  assert.equal(goodbye.reason, ErrorUri.killed);
  assert.deepEqual(goodbye.details, {}, 'no message unless one was given');
  assert.equal(victim.peer.closed, false, 'the router waits for the reply');
  assert.equal(router.sessions.has(victim.id), false, 'the session already left');
  victim.peer.inject({ type: MessageType.GOODBYE, details: {}, reason: ErrorUri.goodbyeAndOut });
  assert.equal(victim.peer.closed, true);
  victim.peer.takeNone();
  await admin.close();
});

test('router-initiated close without a reply closes the connection after the GOODBYE timeout', async () => {
  const { router } = await startRouter({ limits: { goodbyeTimeoutMs: 20 } });
  const victim = joinRecording(router);
  const admin = await connectClient(router);
  await admin.call('wamp.session.kill', [victim.id], { reason: 'com.example.maintenance', message: 'bye' });
  const goodbye = victim.peer.takeOne(MessageType.GOODBYE);
  assert.equal(goodbye.reason, 'com.example.maintenance');
  assert.deepEqual(goodbye.details, { message: 'bye' });
  assert.equal(await victim.peer.waitClosed(), 'goodbye timeout');
});

test('messages arriving while the router waits for the GOODBYE reply are ignored', async () => {
  const { router } = await startRouter();
  const victim = joinRecording(router);
  const admin = await connectClient(router);
  await admin.call('wamp.session.kill', [victim.id]);
  victim.peer.take();
  victim.peer.inject({ type: MessageType.CALL, request: 5 as never, options: {}, procedure: 'wamp.session.count' });
  await new Promise((r) => setImmediate(r));
  victim.peer.takeNone();
  assert.equal(victim.peer.closed, false);
});

test('a connection that never sends HELLO is closed by the handshake timeout', async () => {
  const { router } = await startRouter({ limits: { helloTimeoutMs: 20 } });
  const peer = new RecordingPeer();
  router.attach(peer);
  assert.equal(await peer.waitClosed(), 'handshake timeout');
  peer.takeNone();
  await assertServesFreshSession(router);
});

test('an established session is not closed by the handshake timeout', async () => {
  const { router } = await startRouter({ limits: { helloTimeoutMs: 20 } });
  const { peer } = joinRecording(router);
  await assert.rejects(peer.waitClosed(100), /not closed/);
});

test('the transport dropping removes the session from router and realm', async () => {
  const { router } = await startRouter();
  const { peer, id } = joinRecording(router);
  const connections = router.connectionCount;
  peer.drop();
  assert.equal(router.sessions.has(id), false);
  assert.equal(router.findRealm('realm1')!.sessions.has(id), false);
  assert.equal(router.connectionCount, connections - 1);
});

test('session.send never throws and reports what happened', async () => {
  const { router } = await startRouter({ limits: { hardQueueBytes: 100 } });
  const peer = new RecordingPeer();
  const session = router.attach(peer);
  peer.inject(HELLO);
  peer.take();
  const msg: Message = { type: MessageType.PUBLISHED, request: 1 as never, publication: 2 as never };
  assert.equal(session.send(msg), 'sent');
  peer.buffered = 50;
  assert.equal(session.send(msg), 'queued');
  peer.buffered = 101;
  assert.equal(session.send(msg), 'closed');
  assert.equal(peer.closed, true);
  assert.equal(session.send(msg), 'closed');
  assert.equal(peer.take().length, 2);
});
