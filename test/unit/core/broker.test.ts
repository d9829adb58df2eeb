import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Authenticator } from '../../../src/core/ports';
import { ErrorUri } from '../../../src/protocol/error-uris';
import { MessageType } from '../../../src/protocol/message-types';
import type { Dict } from '../../../src/protocol/messages';
import { allRoles, assertServesFreshSession, joinRecording, startRouter, type RecordedSession } from '../../helpers/local-router';
import type { Router } from '../../../src/core/router';

let nextRequest = 1;

function subscribe(s: RecordedSession, topic: string, options: Dict = {}): number {
  const request = nextRequest++;
  s.peer.inject({ type: MessageType.SUBSCRIBE, request: request as never, options, topic });
  const reply = s.peer.takeOne(MessageType.SUBSCRIBED);
  assert.equal(reply.request, request);
  return reply.subscription;
}

function publish(s: RecordedSession, topic: string, options: Dict = {}, args?: unknown[], kwargs?: Dict): number {
  const request = nextRequest++;
  s.peer.inject({ type: MessageType.PUBLISH, request: request as never, options, topic, ...(args ? { args } : {}), ...(kwargs ? { kwargs } : {}) });
  return request;
}

/** Identity taken from HELLO.Details (authid, authrole): to test authid/authrole lists. */
const identityFromHello: Authenticator = {
  hello: (ctx) => ({ kind: 'accept', authid: String(ctx.details.authid), authrole: String(ctx.details.authrole), authmethod: 'test', authprovider: 'test' }),
};

function join(router: Router, authid = 'user', authrole = 'user'): RecordedSession {
  return joinRecording(router, 'realm1', { roles: allRoles, authid, authrole });
}

test('subscribe → SUBSCRIBED; sessions subscribing to the same topic share one subscription id', async () => {
  const { router } = await startRouter();
  const a = joinRecording(router);
  const b = joinRecording(router);
  const idA = subscribe(a, 'com.example.topic');
  const idB = subscribe(b, 'com.example.topic');
  assert.equal(idA, idB);
  assert.equal(subscribe(a, 'com.example.topic'), idA, 'subscribing twice answers the same subscription');
  assert.notEqual(subscribe(a, 'com.example.topic', { match: 'prefix' }), idA, 'another match policy is another subscription');
});

test('unsubscribe → UNSUBSCRIBED; the subscription lives while it has subscribers', async () => {
  const { router } = await startRouter();
  const a = joinRecording(router);
  const b = joinRecording(router);
  const id = subscribe(a, 'com.example.topic');
  subscribe(b, 'com.example.topic');
  a.peer.inject({ type: MessageType.UNSUBSCRIBE, request: 77 as never, subscription: id as never });
  assert.deepEqual(a.peer.takeOne(MessageType.UNSUBSCRIBED), { type: MessageType.UNSUBSCRIBED, request: 77 });
  publish(b, 'com.example.topic', { exclude_me: false });
  assert.equal(b.peer.takeOne(MessageType.EVENT).subscription, id);
  a.peer.takeNone();
  b.peer.inject({ type: MessageType.UNSUBSCRIBE, request: 78 as never, subscription: id as never });
  b.peer.takeOne(MessageType.UNSUBSCRIBED);
  assert.equal(router.findRealm('realm1')!.broker.get(id), undefined);
  assert.notEqual(subscribe(a, 'com.example.topic'), id, 'a new subscription gets a new id');
});

test('unsubscribe from an unknown subscription, or one the session is not on → ERROR wamp.error.no_such_subscription', async () => {
  const { router } = await startRouter();
  const a = joinRecording(router);
  const b = joinRecording(router);
  const id = subscribe(a, 'com.example.topic');
  for (const [session, subscription] of [
    [a, 999_999],
    [b, id],
  ] as const) {
    session.peer.inject({ type: MessageType.UNSUBSCRIBE, request: 5 as never, subscription: subscription as never });
    const err = session.peer.takeOne(MessageType.ERROR);
    assert.equal(err.requestType, MessageType.UNSUBSCRIBE);
    assert.equal(err.request, 5);
    assert.equal(err.error, ErrorUri.noSuchSubscription);
  }
});

test('publish with acknowledge → PUBLISHED; subscribers get EVENT with the same publication and the payload untouched', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  const sub = joinRecording(router);
  const subId = subscribe(sub, 'com.example.topic');
  const args = [1, { nested: ['x'] }];
  const kwargs = { k: 'v' };
  const request = publish(pub, 'com.example.topic', { acknowledge: true }, args, kwargs);
  const published = pub.peer.takeOne(MessageType.PUBLISHED);
  assert.equal(published.request, request);
  const event = sub.peer.takeOne(MessageType.EVENT);
  assert.deepEqual(event, { type: MessageType.EVENT, subscription: subId, publication: published.publication, details: {}, args, kwargs });
  assert.equal(event.args, args, 'the router never copies payloads');
});

test('publish without acknowledge gets no reply', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  publish(pub, 'com.example.topic', {}, ['x']);
  pub.peer.takeNone();
});

test('the publisher is excluded by default, and included with exclude_me=false', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  const other = joinRecording(router);
  subscribe(pub, 'com.example.topic');
  subscribe(other, 'com.example.topic');
  publish(pub, 'com.example.topic');
  pub.peer.takeNone();
  other.peer.takeOne(MessageType.EVENT);
  publish(pub, 'com.example.topic', { exclude_me: false });
  pub.peer.takeOne(MessageType.EVENT);
  other.peer.takeOne(MessageType.EVENT);
});

test('exclude and eligible by session id, authid and authrole (black- and whitelisting)', async () => {
  const { router } = await startRouter({ authenticatorFor: () => identityFromHello });
  const pub = join(router, 'publisher', 'system');
  const alice = join(router, 'alice', 'admin');
  const bob = join(router, 'bob', 'user');
  const carol = join(router, 'carol', 'user');
  for (const s of [alice, bob, carol]) subscribe(s, 'com.example.topic');
  const receivers = (options: Dict): string[] => {
    publish(pub, 'com.example.topic', options);
    return (
      [
        ['alice', alice],
        ['bob', bob],
        ['carol', carol],
      ] as const
    )
      .filter(([, s]) => s.peer.take().some((m) => m.type === MessageType.EVENT))
      .map(([n]) => n);
  };
  assert.deepEqual(receivers({}), ['alice', 'bob', 'carol']);
  assert.deepEqual(receivers({ exclude: [bob.id] }), ['alice', 'carol']);
  assert.deepEqual(receivers({ eligible: [bob.id, carol.id] }), ['bob', 'carol']);
  assert.deepEqual(receivers({ eligible: [bob.id, carol.id], exclude: [carol.id] }), ['bob'], 'exclude wins over eligible');
  assert.deepEqual(receivers({ exclude_authid: ['alice', 'carol'] }), ['bob']);
  assert.deepEqual(receivers({ eligible_authid: ['carol'] }), ['carol']);
  assert.deepEqual(receivers({ exclude_authrole: ['user'] }), ['alice']);
  assert.deepEqual(receivers({ eligible_authrole: ['user'] }), ['bob', 'carol']);
  assert.deepEqual(receivers({ eligible_authrole: ['user'], exclude_authid: ['bob'] }), ['carol']);
  assert.deepEqual(receivers({ eligible: [] }), []);
});

test('malformed black/white lists → ERROR wamp.error.invalid_argument (acknowledged publish)', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  const sub = joinRecording(router);
  subscribe(sub, 'com.example.topic');
  for (const options of [{ exclude: 'x' }, { eligible: ['1'] }, { exclude_authid: [1] }, { eligible_authrole: {} }]) {
    const request = publish(pub, 'com.example.topic', { ...options, acknowledge: true });
    const err = pub.peer.takeOne(MessageType.ERROR);
    assert.equal(err.error, ErrorUri.invalidArgument);
    assert.equal(err.requestType, MessageType.PUBLISH);
    assert.equal(err.request, request);
  }
  sub.peer.takeNone();
});

test('disclose_me → EVENT details carry publisher, publisher_authid, publisher_authrole', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  const sub = joinRecording(router);
  subscribe(sub, 'com.example.topic');
  publish(pub, 'com.example.topic', { disclose_me: true });
  assert.deepEqual(sub.peer.takeOne(MessageType.EVENT).details, {
    publisher: pub.id,
    publisher_authid: pub.welcome.details.authid,
    publisher_authrole: 'anonymous',
  });
  publish(pub, 'com.example.topic');
  assert.deepEqual(sub.peer.takeOne(MessageType.EVENT).details, {}, 'not disclosed unless asked');
});

test('prefix and wildcard subscriptions receive EVENTs with details.topic; exact ones without', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  const sub = joinRecording(router);
  const exact = subscribe(sub, 'com.example.a.temp');
  const prefix = subscribe(sub, 'com.example.', { match: 'prefix' });
  const wildcard = subscribe(sub, 'com..a.', { match: 'wildcard' });
  const unrelated = subscribe(sub, 'org.', { match: 'prefix' });
  publish(pub, 'com.example.a.temp', {}, [21.5]);
  const events = sub.peer.take();
  assert.equal(events.length, 3);
  const bySub = new Map(events.map((e) => [(e as { subscription: number }).subscription, e]));
  assert.deepEqual(bySub.get(exact), {
    type: MessageType.EVENT,
    subscription: exact,
    publication: (events[0] as { publication: number }).publication,
    details: {},
    args: [21.5],
  });
  assert.deepEqual((bySub.get(prefix) as { details: Dict }).details, { topic: 'com.example.a.temp' });
  assert.deepEqual((bySub.get(wildcard) as { details: Dict }).details, { topic: 'com.example.a.temp' });
  assert.equal(bySub.has(unrelated), false);
  assert.equal(new Set(events.map((e) => (e as { publication: number }).publication)).size, 1, 'one publication id');
  publish(pub, 'com.example.b.temp');
  assert.deepEqual(
    sub.peer.take().map((e) => (e as { subscription: number }).subscription),
    [prefix],
  );
});

test('retained events: a late subscriber asking get_retained receives the last retained event', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  publish(pub, 'com.example.state', { retain: true }, ['old']);
  publish(pub, 'com.example.state', { retain: true, acknowledge: true, disclose_me: true }, ['new'], { k: 1 });
  const publication = pub.peer.takeOne(MessageType.PUBLISHED).publication;
  const late = joinRecording(router);
  late.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: { get_retained: true }, topic: 'com.example.state' });
  const [subscribed, event, ...rest] = late.peer.take();
  assert.equal(subscribed?.type, MessageType.SUBSCRIBED, 'SUBSCRIBED comes first');
  assert.deepEqual(rest, []);
  assert.deepEqual(event, {
    type: MessageType.EVENT,
    subscription: (subscribed as { subscription: number }).subscription,
    publication,
    details: { publisher: pub.id, publisher_authid: pub.welcome.details.authid, publisher_authrole: 'anonymous', retained: true },
    args: ['new'],
    kwargs: { k: 1 },
  });
  const plain = joinRecording(router);
  subscribe(plain, 'com.example.state');
  plain.peer.takeNone();
});

test('retained events respect eligibility and exclusion of the original publication', async () => {
  const { router } = await startRouter({ authenticatorFor: () => identityFromHello });
  const pub = join(router, 'pub', 'system');
  publish(pub, 'com.example.secret', { retain: true, eligible_authrole: ['admin'] }, ['s']);
  publish(pub, 'com.example.mine', { retain: true }, ['m']);
  const user = join(router, 'u', 'user');
  user.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: { get_retained: true }, topic: 'com.example.secret' });
  assert.deepEqual(
    user.peer.take().map((m) => m.type),
    [MessageType.SUBSCRIBED],
  );
  const admin = join(router, 'a', 'admin');
  admin.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: { get_retained: true }, topic: 'com.example.secret' });
  assert.deepEqual(
    admin.peer.take().map((m) => m.type),
    [MessageType.SUBSCRIBED, MessageType.EVENT],
  );
  // exclude_me (the default) keeps the publisher's own retained event from it
  pub.peer.inject({ type: MessageType.SUBSCRIBE, request: 2 as never, options: { get_retained: true }, topic: 'com.example.mine' });
  assert.deepEqual(
    pub.peer.take().map((m) => m.type),
    [MessageType.SUBSCRIBED],
  );
});

test('retained events reach prefix subscriptions with details.topic for each matching topic', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  publish(pub, 'com.example.a', { retain: true }, ['a']);
  publish(pub, 'com.example.b', { retain: true }, ['b']);
  publish(pub, 'org.example.c', { retain: true }, ['c']);
  const sub = joinRecording(router);
  sub.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: { match: 'prefix', get_retained: true }, topic: 'com.example.' });
  const events = sub.peer.take().filter((m) => m.type === MessageType.EVENT) as Array<{ details: Dict; args: unknown[] }>;
  assert.deepEqual(events.map((e) => [e.details.topic, e.details.retained, e.args]).sort(), [
    ['com.example.a', true, ['a']],
    ['com.example.b', true, ['b']],
  ]);
});

test('maxRetainedTopics bounds the retained events; the least recently published topic goes first', async () => {
  const { router } = await startRouter({ realms: [{ name: 'realm1', limits: { maxRetainedTopics: 2 } }] });
  const pub = joinRecording(router);
  publish(pub, 't.1', { retain: true }, [1]);
  publish(pub, 't.2', { retain: true }, [2]);
  publish(pub, 't.1', { retain: true }, [11]); // t.1 is now the most recent
  publish(pub, 't.3', { retain: true }, [3]); // evicts t.2
  const sub = joinRecording(router);
  const got: Record<string, unknown> = {};
  for (const topic of ['t.1', 't.2', 't.3']) {
    sub.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: { get_retained: true }, topic });
    const event = sub.peer.take().find((m) => m.type === MessageType.EVENT) as { args: unknown[] } | undefined;
    got[topic] = event?.args;
  }
  assert.deepEqual(got, { 't.1': [11], 't.2': undefined, 't.3': [3] });
});

test('invalid topic URIs → ERROR wamp.error.invalid_uri for SUBSCRIBE and acknowledged PUBLISH', async () => {
  const { router } = await startRouter();
  const s = joinRecording(router);
  for (const [topic, options] of [
    ['a..b', {}],
    ['a b', {}],
    ['a.b.', {}],
    ['a b.', { match: 'prefix' }],
    ['a.#.c', { match: 'wildcard' }],
  ] as const) {
    s.peer.inject({ type: MessageType.SUBSCRIBE, request: 3 as never, options, topic });
    const err = s.peer.takeOne(MessageType.ERROR);
    assert.deepEqual([err.requestType, err.request, err.error], [MessageType.SUBSCRIBE, 3, ErrorUri.invalidUri], topic);
  }
  const request = publish(s, 'a..b', { acknowledge: true });
  const err = s.peer.takeOne(MessageType.ERROR);
  assert.deepEqual([err.requestType, err.request, err.error], [MessageType.PUBLISH, request, ErrorUri.invalidUri]);
  await assertServesFreshSession(router);
});

test('regression: an unacknowledged PUBLISH that is refused gets no ERROR (spec "Publish ERROR")', async () => {
  const { router } = await startRouter();
  const s = joinRecording(router);
  publish(s, 'a..b');
  publish(s, 'wamp.session.on_join');
  publish(s, 'com.example.topic', { exclude: 'not a list' });
  s.peer.takeNone();
  assert.equal(s.peer.closed, false);
});

test('an unknown match policy → ERROR wamp.error.invalid_argument', async () => {
  const { router } = await startRouter();
  const s = joinRecording(router);
  s.peer.inject({ type: MessageType.SUBSCRIBE, request: 3 as never, options: { match: 'regex' }, topic: 'a.b' });
  assert.equal(s.peer.takeOne(MessageType.ERROR).error, ErrorUri.invalidArgument);
});

test('a strict realm refuses loose URIs that a loose realm accepts', async () => {
  const { router } = await startRouter({ realms: [{ name: 'strict', uriCheck: 'strict' }, 'loose'] });
  const strict = joinRecording(router, 'strict');
  const loose = joinRecording(router, 'loose');
  strict.peer.inject({ type: MessageType.SUBSCRIBE, request: 1 as never, options: {}, topic: 'com.MyApp.topic-1' });
  assert.equal(strict.peer.takeOne(MessageType.ERROR).error, ErrorUri.invalidUri);
  subscribe(strict, 'com.myapp.topic_1');
  subscribe(loose, 'com.MyApp.topic-1');
});

test('publishing to the reserved wamp. namespace is refused; subscribing to meta topics is allowed', async () => {
  const { router } = await startRouter();
  const s = joinRecording(router);
  const other = joinRecording(router);
  subscribe(other, 'wamp.session.on_join');
  const request = publish(s, 'wamp.session.on_join', { acknowledge: true }, [{ session: 1 }]);
  const err = s.peer.takeOne(MessageType.ERROR);
  assert.deepEqual([err.requestType, err.request, err.error], [MessageType.PUBLISH, request, ErrorUri.invalidUri]);
  other.peer.takeNone();
});

test('payload passthru options (ppt_*) are copied into EVENT details', async () => {
  const { router } = await startRouter();
  const pub = joinRecording(router);
  const sub = joinRecording(router);
  subscribe(sub, 'com.example.e2e');
  const ppt = { ppt_scheme: 'x_custom', ppt_serializer: 'cbor', ppt_cipher: 'xsalsa20poly1305', ppt_keyid: 'k1' };
  publish(pub, 'com.example.e2e', { ...ppt, acknowledge: true }, [Buffer.from([1, 2])]);
  assert.deepEqual(sub.peer.takeOne(MessageType.EVENT).details, ppt);
  publish(pub, 'com.example.e2e', { ppt_serializer: 'cbor' }, []);
  assert.deepEqual(sub.peer.takeOne(MessageType.EVENT).details, {}, 'without ppt_scheme no passthru');
});

test('slow consumer, policy drop: EVENTs to a subscriber over maxQueueBytes are dropped and counted', async () => {
  const { router } = await startRouter({ limits: { maxQueueBytes: 1000, slowConsumerPolicy: 'drop' } });
  const pub = joinRecording(router);
  const slow = joinRecording(router);
  const fast = joinRecording(router);
  subscribe(slow, 'com.example.topic');
  subscribe(fast, 'com.example.topic');
  slow.peer.buffered = 1001;
  publish(pub, 'com.example.topic', {}, [1]);
  publish(pub, 'com.example.topic', {}, [2]);
  slow.peer.takeNone();
  assert.equal(fast.peer.take().length, 2, 'other subscribers are unaffected');
  assert.equal(router.stats.eventsDroppedSlowConsumer, 2);
  assert.equal(router.sessions.get(slow.id)?.outbound.eventsDropped, 2);
  assert.equal(slow.peer.closed, false);
  slow.peer.buffered = 1000; // at the limit is still fine
  publish(pub, 'com.example.topic', {}, [3]);
  assert.deepEqual(slow.peer.takeOne(MessageType.EVENT).args, [3]);
});

test('slow consumer, policy disconnect: the subscriber over maxQueueBytes is closed', async () => {
  const { router } = await startRouter({ limits: { maxQueueBytes: 1000, slowConsumerPolicy: 'disconnect' } });
  const pub = joinRecording(router);
  const slow = joinRecording(router);
  const fast = joinRecording(router);
  subscribe(slow, 'com.example.topic');
  subscribe(fast, 'com.example.topic');
  slow.peer.buffered = 5000;
  publish(pub, 'com.example.topic', {}, [1]);
  slow.peer.takeNone();
  assert.equal(slow.peer.closed, true);
  assert.equal(router.stats.slowConsumersDisconnected, 1);
  assert.equal(router.stats.eventsDroppedSlowConsumer, 0);
  fast.peer.takeOne(MessageType.EVENT);
  await new Promise((r) => setImmediate(r));
  assert.equal(router.sessions.has(slow.id), false, 'the closed session left');
});

test('RESULT is never dropped for a slow consumer; only above hardQueueBytes is the connection closed', async () => {
  const { router } = await startRouter({ limits: { maxQueueBytes: 1000, hardQueueBytes: 10_000, slowConsumerPolicy: 'drop' } });
  const callee = joinRecording(router);
  const caller = joinRecording(router);
  callee.peer.inject({ type: MessageType.REGISTER, request: 1 as never, options: {}, procedure: 'com.example.proc' });
  callee.peer.take();
  const call = (request: number) => {
    caller.peer.inject({ type: MessageType.CALL, request: request as never, options: {}, procedure: 'com.example.proc' });
    const inv = callee.peer.takeOne(MessageType.INVOCATION);
    callee.peer.inject({ type: MessageType.YIELD, request: inv.request, options: {}, args: [request] });
  };
  caller.peer.buffered = 5000; // over maxQueueBytes, under hardQueueBytes
  call(1);
  assert.deepEqual(caller.peer.takeOne(MessageType.RESULT).args, [1]);
  caller.peer.buffered = 10_001;
  call(2);
  caller.peer.takeNone();
  assert.equal(caller.peer.closed, true);
  assert.equal(router.stats.slowConsumersDisconnected, 1);
});

test('maxSubscriptionsPerSession → ERROR wampgate.error.limit_exceeded (registrations count too)', async () => {
  const { router } = await startRouter({ limits: { maxSubscriptionsPerSession: 2 } });
  const s = joinRecording(router);
  subscribe(s, 'a.one');
  s.peer.inject({ type: MessageType.REGISTER, request: 9 as never, options: {}, procedure: 'a.proc' });
  s.peer.takeOne(MessageType.REGISTERED);
  s.peer.inject({ type: MessageType.SUBSCRIBE, request: 10 as never, options: {}, topic: 'a.two' });
  const err = s.peer.takeOne(MessageType.ERROR);
  assert.deepEqual([err.requestType, err.request, err.error], [MessageType.SUBSCRIBE, 10, ErrorUri.limitExceeded]);
  assert.equal(subscribe(s, 'a.one') > 0, true, 'an existing subscription is still answered');
});

test('a session leaving removes it from its subscriptions', async () => {
  const { router } = await startRouter();
  const a = joinRecording(router);
  const pub = joinRecording(router);
  const id = subscribe(a, 'com.example.topic');
  a.peer.drop();
  publish(pub, 'com.example.topic');
  assert.equal(router.findRealm('realm1')!.broker.get(id), undefined);
  assert.equal(router.findRealm('realm1')!.broker.hasSubscribers('com.example.topic'), false);
});
