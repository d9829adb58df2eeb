// Persisted event history end to end: a real Gateway with history rules, a real SQLite file in
// its data dir, AutobahnJS as the client. wamp.subscription.get_events answers as Crossbar.io
// does (newest first, its field names) and still does after the gateway restarted; limits evict;
// authorization applies; the feature is announced only when a realm keeps history.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WampClient } from '../../../src/client/wamp-client';
import type { GatewayConfig } from '../../../src/config/types';
import { Gateway } from '../../../src/gateway';
import { attachLocal } from '../../../src/transports/local';
import { quietLogger } from '../../../src/util/logger';
import { deferred, tempDir, testConfig, until, within } from '../support/gateway';
import { abErrorOf, openAutobahn, type AbClient } from '../support/third-party';
import { withSection } from '../../../src/config/section';
import { historySection } from '../../../src/history/history-config';

type Realms = GatewayConfig['realms'];
let dir: ReturnType<typeof tempDir>;

before(() => {
  dir = tempDir('wampgate-history-');
});
after(() => dir.remove());

async function startGateway(realms: Realms, name: string, history?: Record<string, unknown>): Promise<{ gateway: Gateway; wsUrl: string }> {
  const config = testConfig(join(dir.path, `${name}.sock`), {}, realms);
  config.dataDir = join(dir.path, name);
  if (history) withSection(config, historySection, history);
  const gateway = await Gateway.start(config, { logger: quietLogger });
  const ws = gateway.listeners[0]?.address as { port: number };
  return { gateway, wsUrl: `ws://127.0.0.1:${ws.port}/ws` };
}

interface HistoryEvent {
  time_ns: number;
  realm: string;
  session_id: number | null;
  authid: string | null;
  authrole: string | null;
  publication: number;
  topic: string;
  args: unknown[] | null;
  kwargs: Record<string, unknown> | null;
  timestamp: string;
  subscription: number;
}

const sensorRealm: Realms = [
  {
    name: 'realm1',
    history: [
      { uri: 'sensors.t1', maxEvents: 5 },
      { uri: 'logs.', match: 'prefix', maxEvents: 2 },
    ],
  },
];

test('get_events returns the last N events, newest first, in Crossbar.io shape, and again after a restart', async () => {
  let { gateway, wsUrl } = await startGateway(sensorRealm, 'restart');
  let ab: AbClient | undefined;
  const published: number[] = [];
  try {
    ab = await openAutobahn({ url: wsUrl, serializer: 'json' });
    assert.equal(
      (ab.welcome.roles as { broker: { features: Record<string, unknown> } }).broker.features.event_history,
      true,
      'WELCOME announces event_history',
    );
    for (let i = 1; i <= 8; i++) {
      const pub = await ab.session.publish('sensors.t1', [i, `reading ${i}`], { unit: 'C' }, { acknowledge: true });
      published.push((pub as { id: number }).id);
    }
    await ab.session.publish('sensors.t2', [99], {}, { acknowledge: true }); // no rule: not kept
    const sub = await ab.session.subscribe('sensors.t1', () => undefined);
    const events = (await ab.session.call('wamp.subscription.get_events', [sub.id, 3])) as HistoryEvent[];
    assert.deepEqual(
      events.map((e) => e.args),
      [
        [8, 'reading 8'],
        [7, 'reading 7'],
        [6, 'reading 6'],
      ],
    );
    const first = events[0] as HistoryEvent;
    assert.deepEqual(Object.keys(first), [
      'time_ns',
      'realm',
      'session_id',
      'authid',
      'authrole',
      'publication',
      'topic',
      'args',
      'kwargs',
      'timestamp',
      'subscription',
    ]);
    assert.equal(first.realm, 'realm1');
    assert.equal(first.session_id, ab.session.id);
    assert.equal(first.authrole, 'anonymous');
    assert.equal(first.publication, published[7]);
    assert.equal(first.topic, 'sensors.t1');
    assert.deepEqual(first.kwargs, { unit: 'C' });
    assert.equal(first.subscription, sub.id);
    assert.ok(Math.abs(first.time_ns / 1e6 - Date.now()) < 60_000, 'time_ns is nanoseconds since the epoch');
    assert.ok(Math.abs(Date.parse(first.timestamp) - Date.now()) < 60_000, 'timestamp is RFC 3339');
    // Crossbar's default limit is 10; the rule keeps 5 per topic.
    const all = (await ab.session.call('wamp.subscription.get_events', [sub.id])) as HistoryEvent[];
    assert.deepEqual(
      all.map((e) => e.publication),
      published.slice(3).reverse(),
    );
    await ab.close();
    ab = undefined;
    assert.ok(existsSync(join(dir.path, 'restart', 'history.sqlite')), 'the history is a SQLite file in the data dir');
    assert.equal(gateway.history?.status().evicted.count, 3, 'three events evicted by the per-topic count');
    await gateway.stop();

    ({ gateway, wsUrl } = await startGateway(sensorRealm, 'restart'));
    ab = await openAutobahn({ url: wsUrl, serializer: 'msgpack' });
    const sub2 = await ab.session.subscribe('sensors.t1', () => undefined);
    const again = (await ab.session.call('wamp.subscription.get_events', [sub2.id, 10])) as HistoryEvent[];
    assert.deepEqual(
      again.map((e) => e.publication),
      published.slice(3).reverse(),
      'the same five events after the restart',
    );
    assert.deepEqual(again[0]?.args, [8, 'reading 8']);
    assert.equal(again[0]?.subscription, sub2.id);
  } finally {
    await ab?.close();
    await gateway.stop();
  }
});

test('a prefix rule keeps each topic under it separately; a prefix subscription reads them all, newest first', async () => {
  const { gateway, wsUrl } = await startGateway(sensorRealm, 'prefix');
  const ab = await openAutobahn({ url: wsUrl, serializer: 'cbor' });
  try {
    for (const [topic, n] of [
      ['logs.a', 1],
      ['logs.b', 2],
      ['logs.a', 3],
      ['logs.a', 4],
      ['logs.b', 5],
    ] as const)
      await ab.session.publish(topic, [n], {}, { acknowledge: true });
    const all = await ab.session.subscribe('logs.', () => undefined, { match: 'prefix' });
    const events = (await ab.session.call('wamp.subscription.get_events', [all.id, 10])) as HistoryEvent[];
    // maxEvents 2 per topic: logs.a keeps 3, 4 and logs.b keeps 2, 5; in publish order, newest first.
    assert.deepEqual(
      events.map((e) => [e.topic, e.args?.[0]]),
      [
        ['logs.b', 5],
        ['logs.a', 4],
        ['logs.a', 3],
        ['logs.b', 2],
      ],
    );
    const justA = await ab.session.subscribe('logs.a', () => undefined);
    const a = (await ab.session.call('wamp.subscription.get_events', [justA.id, 1])) as HistoryEvent[];
    assert.deepEqual(
      a.map((e) => e.args),
      [[4]],
    );
    // An exact subscription whose topic no rule names has no history (Crossbar.io's answer).
    const none = await ab.session.subscribe('sensors.t2', () => undefined);
    const err = await abErrorOf(ab.session.call('wamp.subscription.get_events', [none.id]));
    assert.equal(err.error, 'wamp.error.history_unavailable');
    const missing = await abErrorOf(ab.session.call('wamp.subscription.get_events', [123456789]));
    assert.equal(missing.error, 'wamp.error.no_such_subscription');
    const bad = await abErrorOf(ab.session.call('wamp.subscription.get_events', [all.id, -1]));
    assert.equal(bad.error, 'wamp.error.invalid_argument');
  } finally {
    await ab.close();
    await gateway.stop();
  }
});

test('not announced and history_unavailable when no realm keeps history; no file is created', async () => {
  const { gateway, wsUrl } = await startGateway([{ name: 'realm1' }], 'off');
  const ab = await openAutobahn({ url: wsUrl });
  try {
    assert.equal(
      (ab.welcome.roles as { broker: { features: Record<string, unknown> } }).broker.features.event_history,
      undefined,
      'event_history is not announced',
    );
    assert.equal(
      (ab.welcome.roles as { broker: { features: Record<string, unknown> } }).broker.features.event_retention,
      true,
      'the other broker features still are',
    );
    const sub = await ab.session.subscribe('sensors.t1', () => undefined);
    const err = await abErrorOf(ab.session.call('wamp.subscription.get_events', [sub.id]));
    assert.equal(err.error, 'wamp.error.history_unavailable');
    assert.equal(gateway.history, undefined);
    assert.equal(existsSync(join(dir.path, 'off', 'history.sqlite')), false);
  } finally {
    await ab.close();
    await gateway.stop();
  }
});

test('only a realm with rules announces it; a session reads history only of topics it may subscribe to', async () => {
  const roles = [
    {
      name: 'reader',
      permissions: [
        { uri: 'sensors.', match: 'prefix', allow: { subscribe: true, publish: true } },
        { uri: 'wamp.subscription.get_events', allow: { call: true } },
      ],
    },
    {
      name: 'outsider',
      permissions: [
        { uri: 'other.', match: 'prefix', allow: { subscribe: true } },
        { uri: 'wamp.subscription.get_events', allow: { call: true } },
      ],
    },
    { name: 'nocall', permissions: [{ uri: 'sensors.', match: 'prefix', allow: { subscribe: true } }] },
  ];
  const realms: Realms = [
    { name: 'realm1', roles, history: [{ uri: 'sensors.', match: 'prefix' }] },
    { name: 'plain', roles },
  ];
  const { gateway } = await startGateway(realms, 'authz');
  const join1 = (authrole: string, realm = 'realm1'): Promise<WampClient> =>
    WampClient.connect(attachLocal(gateway.router, authrole, { authid: `${authrole}-1`, authrole }), { realm });
  const reader = await join1('reader');
  const outsider = await join1('outsider');
  const nocall = await join1('nocall');
  const elsewhere = await join1('reader', 'plain');
  try {
    assert.equal((reader.welcome.roles as { broker: { features: Record<string, unknown> } }).broker.features.event_history, true);
    assert.equal((elsewhere.welcome.roles as { broker: { features: Record<string, unknown> } }).broker.features.event_history, undefined);
    await reader.publish('sensors.secret', ['s1'], undefined, { acknowledge: true });
    await reader.publish('sensors.secret', ['s2'], undefined, { acknowledge: true, eligible_authrole: ['admin'] });
    await reader.publish('sensors.secret', ['s3'], undefined, { acknowledge: true, exclude: [1] });
    const sub = await reader.subscribe('sensors.secret', () => undefined);
    const mine = await reader.call('wamp.subscription.get_events', [sub.id, 10]);
    // s2 is for role admin only; s3 named sessions by ID and was not stored at all (spec).
    assert.deepEqual(
      (mine.args[0] as HistoryEvent[]).map((e) => e.args),
      [['s1']],
    );
    assert.equal(gateway.history?.status().skipped.session_filter, 1);

    const denied = await outsider.call('wamp.subscription.get_events', [sub.id, 10]).then(
      () => assert.fail('an outsider read the history'),
      (err: { error: string }) => err,
    );
    assert.equal(denied.error, 'wamp.error.not_authorized', 'may call get_events but not subscribe to the topic');
    const noCall = await nocall.call('wamp.subscription.get_events', [sub.id, 10]).then(
      () => assert.fail('a role without the call permission read the history'),
      (err: { error: string }) => err,
    );
    assert.equal(noCall.error, 'wamp.error.not_authorized', 'may subscribe but not call the meta procedure');
  } finally {
    for (const c of [reader, outsider, nocall, elsewhere]) await c.close();
    await gateway.stop();
  }
});

test('a full writer queue drops publications from the history (counted), never from routing', async () => {
  const { gateway } = await startGateway([{ name: 'realm1', history: [{ uri: 'burst', maxEvents: 100 }] }], 'burst', {
    maxQueuedEvents: 5,
    flushIntervalMs: 200,
  });
  const pub = await WampClient.connect(attachLocal(gateway.router, 'pub', { authid: 'pub', authrole: 'app' }), { realm: 'realm1' });
  const subscriber = await WampClient.connect(attachLocal(gateway.router, 'sub', { authid: 'sub', authrole: 'app' }), { realm: 'realm1' });
  try {
    const got: unknown[] = [];
    const all = deferred();
    await subscriber.subscribe('burst', (args) => {
      got.push(args[0]);
      if (got.length === 20) all.resolve();
    });
    for (let i = 0; i < 20; i++) void pub.publish('burst', [i]);
    await within(all.promise, 'all 20 events at the subscriber');
    const history = gateway.history;
    assert.ok(history);
    await until(() => history.status().written === 5, 'the writer to commit the first five');
    const s = history.status();
    assert.equal(s.dropped.queue_full, 15);
    assert.equal(s.rows, 5);
    assert.deepEqual(got, [...Array(20).keys()]);
  } finally {
    await pub.close();
    await subscriber.close();
    await gateway.stop();
  }
});
