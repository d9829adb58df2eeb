import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_STATE_CHANGES, SeriesRing } from '../../../src/ops/series';
import { StatusSampler } from '../../../src/ops/status-sampler';
import type { GatewayStatus } from '../../../src/ops/status-types';

test('the ring keeps one hour at its step and its memory is fixed: older samples are overwritten', () => {
  const ring = new SeriesRing({ stepMs: 10_000 });
  assert.equal(ring.capacity, 361);
  for (let i = 0; i < 1000; i++) ring.record(i * 10_000, { a: i, b: i % 2 === 0 ? i : null });
  assert.equal(ring.size, 361);
  const t = ring.timestamps();
  assert.equal(t[0], (1000 - 361) * 10_000, 'oldest kept');
  assert.equal(t.at(-1), 999 * 10_000, 'newest last');
  assert.deepEqual(ring.values('a').slice(-3), [997, 998, 999]);
  assert.deepEqual(ring.values('b').slice(-3), [null, 998, null], 'a missing value stays missing');
  assert.equal(ring.bytes, 3 * 361 * 8, 'time column plus two series');
  assert.equal(ring.latest('a'), 999);
});

test('a series that appears later has no values before it appeared; the number of series is capped', () => {
  const ring = new SeriesRing({ stepMs: 1000, maxSeries: 2 });
  ring.record(0, { a: 1 });
  ring.record(1000, { a: 2, b: 5, c: 7 });
  assert.deepEqual(ring.values('b'), [null, 5]);
  assert.deepEqual(ring.names(), ['a', 'b']);
  assert.equal(ring.snapshot().refused, 1, 'the third series was refused and counted');
});

test('state changes: only changes are kept, pruned to the window and to a maximum count', () => {
  const ring = new SeriesRing({ stepMs: 10_000, windowMs: 3_600_000 });
  ring.state('uplink', 'connected', 0);
  ring.state('uplink', 'connected', 5_000);
  ring.state('uplink', 'disconnected', 10_000);
  ring.state('uplink', 'connected', 4_000_000);
  // The change at 10 s is the state in force at the window's start (400 s): kept; the one before is not.
  assert.deepEqual(
    ring.stateChanges('uplink').map((c) => c.state),
    ['disconnected', 'connected'],
  );
  for (let i = 0; i < 500; i++) ring.state('flappy', i % 2 ? 'connected' : 'connecting', 1000 + i);
  assert.equal(ring.stateChanges('flappy').length, MAX_STATE_CHANGES);
});

test('the sampler turns counters into rates per second and treats a counter that went down as restarted', () => {
  const ring = new SeriesRing({ stepMs: 1000 });
  const sampler = new StatusSampler(ring);
  const st = (publishes: number, bridgeReceived: number): GatewayStatus => ({
    router: {
      uptimeSeconds: 1,
      realms: [{ name: 'r', sessions: { websocket: 2, local: 1 } }],
      messagesIn: { PUBLISH: publishes },
      messagesOut: {},
      drops: { auth_failure: 0 },
    },
    bridges: [{ name: 'm', kind: 'mqtt', state: 'connected', counters: { received: bridgeReceived, published: 0 } }],
  });
  sampler.sample(st(100, 10), 0, 0);
  sampler.sample(st(300, 30), 2000, 2000);
  sampler.sample(st(300, 4), 3000, 3000);
  assert.deepEqual(ring.values('messages.in'), [null, 100, 0]);
  assert.deepEqual(ring.values('bridge.m.in'), [null, 10, 4], 'reset: 4 since the restart');
  assert.deepEqual(ring.values('sessions'), [3, 3, 3]);
  assert.deepEqual(ring.values('dropped.auth_failure'), [null, 0, 0]);
  assert.deepEqual(
    ring.stateChanges('bridge.m').map((c) => c.state),
    ['connected'],
  );
});
