import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Authorizer } from '../../../src/core/ports';
import { WampError } from '../../../src/client/wamp-error';
import type { WampClient } from '../../../src/client/wamp-client';
import { ErrorUri } from '../../../src/protocol/error-uris';
import { MessageType } from '../../../src/protocol/message-types';
import { collectEvents, connectClient, flush, identityFromHello, joinRecording, startRouter } from '../../helpers/local-router';

async function rejectsWith(promise: Promise<unknown>, error: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof WampError && err.error === error);
}

async function call1(client: WampClient, procedure: string, args: unknown[] = [], kwargs = {}): Promise<unknown> {
  const r = await client.call(procedure, args, kwargs);
  return r.args[0];
}

// ---- session meta API -------------------------------------------------------------------------

test('wamp.session.count and wamp.session.list: visible sessions, optionally filtered by authrole', async () => {
  const { router } = await startRouter({ authenticatorFor: () => identityFromHello });
  const admin = await connectClient(router, 'realm1', { authid: 'admin', authextra: { role: 'admin' } });
  const user = await connectClient(router, 'realm1', { authid: 'u1' });
  const rec = joinRecording(router, 'realm1', { authid: 'u2' });
  assert.equal(await call1(admin, 'wamp.session.count'), 3, 'the meta API session itself is hidden');
  assert.deepEqual(((await call1(admin, 'wamp.session.list')) as number[]).sort(), [admin.sessionId, user.sessionId, rec.id].sort());
  assert.equal(await call1(admin, 'wamp.session.count', [['user']]), 2);
  assert.deepEqual(await call1(admin, 'wamp.session.list', [['admin']]), [admin.sessionId]);
  assert.equal(await call1(admin, 'wamp.session.count', [['nobody']]), 0);
  await rejectsWith(admin.call('wamp.session.count', ['user']), ErrorUri.invalidArgument);
});

test('wamp.session.get returns the session details; unknown or hidden sessions → no_such_session', async () => {
  const { router } = await startRouter();
  const client = await connectClient(router);
  const rec = joinRecording(router);
  assert.deepEqual(await call1(client, 'wamp.session.get', [rec.id]), {
    session: rec.id,
    authid: rec.welcome.details.authid,
    authrole: 'anonymous',
    authmethod: 'anonymous',
    authprovider: 'static',
    transport: { type: 'local', serializer: 'none', peer: rec.peer.transport.peer, listener: 'test' },
  });
  await rejectsWith(client.call('wamp.session.get', [123]), ErrorUri.noSuchSession);
  const metaId = [...router.findRealm('realm1')!.sessions.values()].find((s) => s.hidden)!.id;
  await rejectsWith(client.call('wamp.session.get', [metaId]), ErrorUri.noSuchSession);
  await rejectsWith(client.call('wamp.session.get', ['x']), ErrorUri.invalidArgument);
});

test('wamp.session.kill closes the named session with GOODBYE wamp.close.killed', async () => {
  const { router } = await startRouter();
  const admin = await connectClient(router);
  const victim = await connectClient(router);
  const closed = new Promise<string>((resolve) => victim.onClose(resolve));
  assert.equal(await call1(admin, 'wamp.session.kill', [victim.sessionId]), undefined);
  assert.equal(await closed, ErrorUri.killed);
  assert.equal(await call1(admin, 'wamp.session.count'), 1);
});

test('wamp.session.kill of the caller itself or of an unknown session → no_such_session', async () => {
  const { router } = await startRouter();
  const admin = await connectClient(router);
  await rejectsWith(admin.call('wamp.session.kill', [admin.sessionId]), ErrorUri.noSuchSession);
  await rejectsWith(admin.call('wamp.session.kill', [42]), ErrorUri.noSuchSession);
  assert.equal(admin.closed, false);
});

test('regression: wamp.session.kill with a reason that is not a URI → ERROR wamp.error.invalid_uri, nobody killed', async () => {
  const { router } = await startRouter();
  const admin = await connectClient(router);
  const victim = joinRecording(router);
  await rejectsWith(admin.call('wamp.session.kill', [victim.id], { reason: 'not a uri' }), ErrorUri.invalidUri);
  await rejectsWith(admin.call('wamp.session.kill', [victim.id], { reason: 7 }), ErrorUri.invalidUri);
  await rejectsWith(admin.call('wamp.session.kill_all', [], { reason: '' }), ErrorUri.invalidUri);
  victim.peer.takeNone();
  assert.equal(router.sessions.has(victim.id), true);
});

test('wamp.session.kill_by_authid kills every other session with that authid and returns their ids', async () => {
  const { router } = await startRouter({ authenticatorFor: () => identityFromHello });
  const me = await connectClient(router, 'realm1', { authid: 'dup' });
  const a = joinRecording(router, 'realm1', { authid: 'dup' });
  const b = joinRecording(router, 'realm1', { authid: 'dup' });
  const other = joinRecording(router, 'realm1', { authid: 'other' });
  const killed = (await call1(me, 'wamp.session.kill_by_authid', ['dup'], { message: 'maintenance' })) as number[];
  assert.deepEqual(killed.sort(), [a.id, b.id].sort());
  for (const s of [a, b])
    assert.deepEqual(s.peer.takeOne(MessageType.GOODBYE), { type: MessageType.GOODBYE, details: { message: 'maintenance' }, reason: ErrorUri.killed });
  other.peer.takeNone();
  assert.equal(me.closed, false);
  assert.deepEqual(await call1(me, 'wamp.session.kill_by_authid', ['nobody']), []);
});

test('wamp.session.kill_by_authrole kills every other session with that authrole and returns the count', async () => {
  const { router } = await startRouter({ authenticatorFor: () => identityFromHello });
  const me = await connectClient(router, 'realm1', { authid: 'me', authextra: { role: 'device' } });
  const a = joinRecording(router, 'realm1', { authid: 'a', authextra: { role: 'device' } });
  const other = joinRecording(router, 'realm1', { authid: 'b', authextra: { role: 'operator' } });
  assert.equal(await call1(me, 'wamp.session.kill_by_authrole', ['device'], { reason: 'com.example.rotate' }), 1);
  assert.equal(a.peer.takeOne(MessageType.GOODBYE).reason, 'com.example.rotate');
  other.peer.takeNone();
  assert.equal(me.closed, false);
});

test('wamp.session.kill_all kills every session but the caller and returns the count', async () => {
  const { router } = await startRouter();
  const me = await connectClient(router);
  const others = [joinRecording(router), joinRecording(router)];
  assert.equal(await call1(me, 'wamp.session.kill_all'), 2);
  for (const s of others) assert.equal(s.peer.takeOne(MessageType.GOODBYE).reason, ErrorUri.killed);
  assert.equal(await call1(me, 'wamp.session.count'), 1);
  assert.equal(me.closed, false);
});

test('wamp.session.on_join and on_leave are published with the spec payloads', async () => {
  const { router } = await startRouter();
  const observer = await connectClient(router);
  const joins = await collectEvents(observer, 'wamp.session.on_join');
  const leaves = await collectEvents(observer, 'wamp.session.on_leave');
  const rec = joinRecording(router);
  const join = await joins.waitFor((e) => (e.args[0] as { session: number }).session === rec.id);
  assert.deepEqual(join.args, [
    {
      session: rec.id,
      authid: rec.welcome.details.authid,
      authrole: 'anonymous',
      authmethod: 'anonymous',
      authprovider: 'static',
      transport: { type: 'local', serializer: 'none', peer: rec.peer.transport.peer, listener: 'test' },
    },
  ]);
  rec.peer.drop();
  const leave = await leaves.waitFor((e) => e.args[0] === rec.id);
  assert.deepEqual(leave.args, [rec.id, rec.welcome.details.authid, 'anonymous']);
});

// ---- subscription meta API ----------------------------------------------------------------------

test('subscription meta procedures: list, lookup, match, get, list_subscribers, count_subscribers', async () => {
  const { router } = await startRouter();
  const meta = await connectClient(router);
  const a = await connectClient(router);
  const b = await connectClient(router);
  const exact = await a.subscribe('com.example.t1', () => undefined);
  await b.subscribe('com.example.t1', () => undefined);
  const prefix = await a.subscribe('com.example.', () => undefined, { match: 'prefix' });
  const wild = await b.subscribe('com..t1', () => undefined, { match: 'wildcard' });
  assert.deepEqual(await call1(meta, 'wamp.subscription.list'), { exact: [exact.id], prefix: [prefix.id], wildcard: [wild.id] });
  assert.equal(await call1(meta, 'wamp.subscription.lookup', ['com.example.t1']), exact.id);
  assert.equal(await call1(meta, 'wamp.subscription.lookup', ['com.example.', { match: 'prefix' }]), prefix.id);
  assert.equal(await call1(meta, 'wamp.subscription.lookup', ['com..t1', { match: 'wildcard' }]), wild.id);
  assert.equal(await call1(meta, 'wamp.subscription.lookup', ['com.example.none']), null);
  assert.deepEqual(((await call1(meta, 'wamp.subscription.match', ['com.example.t1'])) as number[]).sort(), [exact.id, prefix.id, wild.id].sort());
  assert.equal(await call1(meta, 'wamp.subscription.match', ['org.none']), null);
  const details = (await call1(meta, 'wamp.subscription.get', [exact.id])) as Record<string, unknown>;
  assert.deepEqual({ ...details, created: 'T' }, { id: exact.id, created: 'T', uri: 'com.example.t1', match: 'exact' });
  assert.ok(!Number.isNaN(Date.parse(details.created as string)), 'created is an ISO 8601 time');
  assert.deepEqual(((await call1(meta, 'wamp.subscription.list_subscribers', [exact.id])) as number[]).sort(), [a.sessionId, b.sessionId].sort());
  assert.equal(await call1(meta, 'wamp.subscription.count_subscribers', [exact.id]), 2);
  assert.equal(await call1(meta, 'wamp.subscription.count_subscribers', [prefix.id]), 1);
  for (const p of ['wamp.subscription.get', 'wamp.subscription.list_subscribers', 'wamp.subscription.count_subscribers']) {
    await rejectsWith(meta.call(p, [999_999]), ErrorUri.noSuchSubscription);
  }
});

test('subscription meta events: on_create, on_subscribe, on_unsubscribe, on_delete in spec order', async () => {
  const { router } = await startRouter();
  const observer = await connectClient(router);
  const seen: Array<[string, unknown[]]> = [];
  for (const topic of ['on_create', 'on_subscribe', 'on_unsubscribe', 'on_delete']) {
    await observer.subscribe(`wamp.subscription.${topic}`, (args) => void seen.push([topic, args]));
  }
  const a = await connectClient(router);
  const b = await connectClient(router);
  const subA = await a.subscribe('com.example.t', () => undefined);
  const subB = await b.subscribe('com.example.t', () => undefined);
  await subA.unsubscribe();
  await subB.unsubscribe();
  await flush();
  const about = seen.filter(([, args]) => args[0] === a.sessionId || args[0] === b.sessionId);
  const created = about[0]![1][1] as Record<string, unknown>;
  assert.deepEqual({ ...created, created: 'T' }, { id: subA.id, created: 'T', uri: 'com.example.t', match: 'exact' });
  assert.deepEqual(about.slice(1), [
    ['on_subscribe', [a.sessionId, subA.id]],
    ['on_subscribe', [b.sessionId, subA.id]],
    ['on_unsubscribe', [a.sessionId, subA.id]],
    ['on_unsubscribe', [b.sessionId, subA.id]],
    ['on_delete', [b.sessionId, subA.id]],
  ]);
  assert.equal(about[0]![0], 'on_create');
});

// ---- registration meta API ----------------------------------------------------------------------

test('registration meta procedures: list, lookup, match, get, list_callees, count_callees', async () => {
  const { router } = await startRouter();
  const meta = await connectClient(router);
  const a = await connectClient(router);
  const b = await connectClient(router);
  const exact = await a.register('com.example.p', () => 1, { invoke: 'roundrobin' });
  await b.register('com.example.p', () => 2, { invoke: 'roundrobin' });
  const prefix = await a.register('com.example.', () => 3, { match: 'prefix' });
  const wild = await b.register('com..p', () => 4, { match: 'wildcard' });
  assert.deepEqual(
    await call1(meta, 'wamp.registration.list'),
    { exact: [exact.id], prefix: [prefix.id], wildcard: [wild.id] },
    "the meta API's own registrations are not listed",
  );
  assert.equal(await call1(meta, 'wamp.registration.lookup', ['com.example.p']), exact.id);
  assert.equal(await call1(meta, 'wamp.registration.lookup', ['com.example.', { match: 'prefix' }]), prefix.id);
  assert.equal(await call1(meta, 'wamp.registration.lookup', ['com.none']), null);
  assert.equal(await call1(meta, 'wamp.registration.match', ['com.example.p']), exact.id, 'the best match, as a call would route');
  assert.equal(await call1(meta, 'wamp.registration.match', ['com.example.q']), prefix.id);
  assert.equal(await call1(meta, 'wamp.registration.match', ['com.other.p']), wild.id);
  assert.equal(await call1(meta, 'wamp.registration.match', ['org.none']), null);
  const details = (await call1(meta, 'wamp.registration.get', [exact.id])) as Record<string, unknown>;
  assert.deepEqual({ ...details, created: 'T' }, { id: exact.id, created: 'T', uri: 'com.example.p', match: 'exact', invoke: 'roundrobin' });
  assert.deepEqual(await call1(meta, 'wamp.registration.list_callees', [exact.id]), [a.sessionId, b.sessionId]);
  assert.equal(await call1(meta, 'wamp.registration.count_callees', [exact.id]), 2);
  for (const p of ['wamp.registration.get', 'wamp.registration.list_callees', 'wamp.registration.count_callees']) {
    await rejectsWith(meta.call(p, [999_999]), ErrorUri.noSuchRegistration);
  }
});

test('registration meta events: on_create, on_register, on_unregister, on_delete in spec order', async () => {
  const { router } = await startRouter();
  const observer = await connectClient(router);
  const seen: Array<[string, unknown[]]> = [];
  for (const topic of ['on_create', 'on_register', 'on_unregister', 'on_delete']) {
    await observer.subscribe(`wamp.registration.${topic}`, (args) => void seen.push([topic, args]));
  }
  const a = await connectClient(router);
  const b = await connectClient(router);
  const regA = await a.register('com.example.p', () => 1, { invoke: 'first' });
  await b.register('com.example.p', () => 2, { invoke: 'first' });
  await regA.unregister();
  await b.close(); // leaving unregisters too
  await flush();
  assert.equal(seen[0]![0], 'on_create');
  assert.deepEqual(seen[0]![1][0], a.sessionId);
  const created = seen[0]![1][1] as Record<string, unknown>;
  assert.deepEqual({ ...created, created: 'T' }, { id: regA.id, created: 'T', uri: 'com.example.p', match: 'exact', invoke: 'first' });
  assert.deepEqual(seen.slice(1), [
    ['on_register', [a.sessionId, regA.id]],
    ['on_register', [b.sessionId, regA.id]],
    ['on_unregister', [a.sessionId, regA.id]],
    ['on_unregister', [b.sessionId, regA.id]],
    ['on_delete', [b.sessionId, regA.id]],
  ]);
});

// ---- testaments --------------------------------------------------------------------------------

test('testaments are published when the transport drops: detached scope before destroyed, in order added', async () => {
  const { router } = await startRouter();
  const observer = await connectClient(router);
  const log = await collectEvents(observer, 'com.example.', { match: 'prefix' });
  const leaves = await collectEvents(observer, 'wamp.session.on_leave');
  const dying = await connectClient(router);
  await dying.call('wamp.session.add_testament', ['com.example.gone', ['destroyed-1'], { who: 'dying' }]);
  await dying.call('wamp.session.add_testament', ['com.example.gone', ['destroyed-2']], { scope: 'destroyed' });
  await dying.call('wamp.session.add_testament', ['com.example.detached', ['detached-1']], { scope: 'detached' });
  assert.equal(log.events.length, 0, 'nothing is published while the session lives');
  const id = dying.sessionId;
  dying.peer.close('simulated transport loss');
  await leaves.waitFor((e) => e.args[0] === id);
  assert.deepEqual(
    log.events.map((e) => [e.details.topic, e.args, e.kwargs]),
    [
      ['com.example.detached', ['detached-1'], {}],
      ['com.example.gone', ['destroyed-1'], { who: 'dying' }],
      ['com.example.gone', ['destroyed-2'], {}],
    ],
  );
});

test('testaments honour their publish options (eligibility)', async () => {
  const { router } = await startRouter({ authenticatorFor: () => identityFromHello });
  const ops = await connectClient(router, 'realm1', { authid: 'ops', authextra: { role: 'ops' } });
  const guest = await connectClient(router, 'realm1', { authid: 'guest' });
  const opsLog = await collectEvents(ops, 'com.example.gone');
  const guestLog = await collectEvents(guest, 'com.example.gone');
  const leaves = await collectEvents(guest, 'wamp.session.on_leave');
  const dying = await connectClient(router, 'realm1', { authid: 'device' });
  await dying.call('wamp.session.add_testament', ['com.example.gone', ['bye']], { publish_options: { eligible_authrole: ['ops'], acknowledge: true } });
  const id = dying.sessionId;
  dying.peer.close();
  await leaves.waitFor((e) => e.args[0] === id);
  await opsLog.waitFor();
  assert.deepEqual(
    opsLog.events.map((e) => e.args),
    [['bye']],
  );
  assert.deepEqual(guestLog.events, []);
});

test('flushed testaments are not published; flush_testaments flushes one scope', async () => {
  const { router } = await startRouter();
  const observer = await connectClient(router);
  const log = await collectEvents(observer, 'com.example.gone');
  const leaves = await collectEvents(observer, 'wamp.session.on_leave');
  const dying = await connectClient(router);
  await dying.call('wamp.session.add_testament', ['com.example.gone', ['destroyed']]);
  await dying.call('wamp.session.add_testament', ['com.example.gone', ['detached']], { scope: 'detached' });
  await dying.call('wamp.session.flush_testaments', []);
  const id = dying.sessionId;
  dying.peer.close();
  await leaves.waitFor((e) => e.args[0] === id);
  assert.deepEqual(
    log.events.map((e) => e.args),
    [['detached']],
    'only the detached scope survived the flush',
  );
});

test('testament arguments are checked: bad scope, args or kwargs → wamp.error.invalid_argument', async () => {
  const { router } = await startRouter();
  const client = await connectClient(router);
  await rejectsWith(client.call('wamp.session.add_testament', ['com.example.t'], { scope: 'forever' }), ErrorUri.invalidArgument);
  await rejectsWith(client.call('wamp.session.add_testament', ['com.example.t', 'not a list']), ErrorUri.invalidArgument);
  await rejectsWith(client.call('wamp.session.add_testament', ['com.example.t', [], ['not a dict']]), ErrorUri.invalidArgument);
  await rejectsWith(client.call('wamp.session.add_testament', [42]), ErrorUri.invalidArgument);
  await rejectsWith(client.call('wamp.session.flush_testaments', [], { scope: 'x' }), ErrorUri.invalidArgument);
});

test('regression: a testament topic must be a valid URI outside the reserved wamp. namespace (no forged meta events)', async () => {
  const { router } = await startRouter({ realms: [{ name: 'realm1', uriCheck: 'strict' }] });
  const client = await connectClient(router);
  for (const topic of ['wamp.session.on_leave', 'a..b', 'com.Example.t']) {
    await rejectsWith(client.call('wamp.session.add_testament', [topic, [1]]), ErrorUri.invalidUri);
  }
  await client.call('wamp.session.add_testament', ['com.example.t', [1]]);
});

test('regression: a testament needs the same publish permission as a PUBLISH from its session', async () => {
  const authorizer: Authorizer = {
    authorize: (who, action, uri) => ({ allow: action !== 'publish' || who.authid !== 'device' || uri.startsWith('devices.') }),
  };
  const { router } = await startRouter({ realms: [{ name: 'realm1', authorizer }], authenticatorFor: () => identityFromHello });
  const observer = await connectClient(router, 'realm1', { authid: 'ops' });
  const log = await collectEvents(observer, 'app.', { match: 'prefix' });
  const leaves = await collectEvents(observer, 'wamp.session.on_leave');
  const device = await connectClient(router, 'realm1', { authid: 'device' });
  await rejectsWith(device.call('wamp.session.add_testament', ['app.alarm', ['forged']]), ErrorUri.notAuthorized);
  await device.call('wamp.session.add_testament', ['devices.d1.gone', []]);
  const id = device.sessionId;
  device.peer.close();
  await leaves.waitFor((e) => e.args[0] === id);
  assert.equal(log.events.length, 0);
});
