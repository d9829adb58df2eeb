// wamp.subscription.get_events arguments: Crossbar.io's (subscription_id, limit) stays newest
// first; any of the WAMP spec draft's keywords asks for publish order unless reverse; RFC 3339
// times are read to the µs with their offset; every bad argument is named in the error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_GET_EVENTS, parseRfc3339Us, readGetEventsArgs } from '../../../src/meta/get-events-args';
import { WampError } from '../../../src/client/wamp-error';

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof WampError);
    assert.equal(err.error, 'wamp.error.invalid_argument');
    return String(err.args[0]);
  }
  return assert.fail('expected invalid_argument');
}

test('RFC 3339 timestamps: Z and offsets, fractions to the µs, impossible dates refused', () => {
  assert.equal(parseRfc3339Us('2026-12-06T09:30:00Z'), Date.UTC(2026, 11, 6, 9, 30) * 1000);
  assert.equal(parseRfc3339Us('2026-12-06T09:30:00.123456789Z'), Date.UTC(2026, 11, 6, 9, 30) * 1000 + 123_456);
  assert.equal(parseRfc3339Us('2026-12-06T10:30:00.5+01:00'), Date.UTC(2026, 11, 6, 9, 30) * 1000 + 500_000);
  assert.equal(parseRfc3339Us('2026-12-06t04:00:00-05:30'), Date.UTC(2026, 11, 6, 9, 30) * 1000);
  assert.equal(parseRfc3339Us(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)).toISOString()), Date.UTC(2026, 0, 2, 3, 4, 5, 678) * 1000);
  for (const bad of ['2026-02-31T00:00:00Z', '2026-12-06T24:00:00Z', '2026-12-06 09:30:00Z', '2026-12-06T09:30:00', '1733477400', ''])
    assert.equal(parseRfc3339Us(bad), undefined, bad);
});

test("Crossbar.io's form: positional or by name, newest first, limit 10 by default, null = the most", () => {
  assert.deepEqual(readGetEventsArgs([5], {}), { subscription: 5, query: { limit: 10, newestFirst: true, publications: [] } });
  assert.deepEqual(readGetEventsArgs([5, 3], {}).query.limit, 3);
  assert.deepEqual(readGetEventsArgs([], { subscription_id: 5, limit: 7 }), { subscription: 5, query: { limit: 7, newestFirst: true, publications: [] } });
  assert.equal(readGetEventsArgs([5, null], {}).query.limit, MAX_GET_EVENTS);
  assert.equal(readGetEventsArgs([5, 1e9], {}).query.limit, MAX_GET_EVENTS);
});

test("the draft's keywords: publish order unless reverse, bounds combined with AND, after/before exclusive", () => {
  const { query } = readGetEventsArgs([5], {
    from_time: '2026-12-06T09:00:00Z',
    after_time: '2026-12-06T09:10:00Z',
    until_time: '2026-12-06T10:00:00Z',
    before_time: '2026-12-06T09:50:00Z',
    after_publication: 77,
    until_publication: 99,
    topic: 'sensors.t1',
    limit: 4,
  });
  assert.equal(query.newestFirst, false, 'publish order by default');
  assert.equal(query.fromTimeUs, Date.UTC(2026, 11, 6, 9, 10) * 1000 + 1, 'the later lower bound, after = +1 µs');
  assert.equal(query.untilTimeUs, Date.UTC(2026, 11, 6, 9, 50) * 1000 - 1, 'the earlier upper bound, before = -1 µs');
  assert.deepEqual(query.publications, [
    { publication: 77, side: 'after' },
    { publication: 99, side: 'until' },
  ]);
  assert.equal(query.topic, 'sensors.t1');
  assert.equal(readGetEventsArgs([5], { reverse: true }).query.newestFirst, true);
  assert.equal(readGetEventsArgs([5], { reverse: false }).query.newestFirst, false);
});

test('bad arguments are refused, each by name', () => {
  assert.match(
    refusal(() => readGetEventsArgs(['x'], {})),
    /subscription_id must be an integer/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5, -1], {})),
    /limit must be an integer ≥ 0/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5], { since: 3 })),
    /unknown argument since: get_events takes subscription_id, limit, reverse, topic, from_time/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5, 1, 2], {})),
    /at most two positional arguments/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5], { reverse: 'yes' })),
    /reverse must be true or false/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5], { from_time: 1733477400 })),
    /from_time must be an RFC 3339 timestamp/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5], { until_time: '2026-02-30T00:00:00Z' })),
    /until_time must be an RFC 3339 timestamp/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5], { after_publication: -4 })),
    /after_publication must be a publication ID/,
  );
  assert.match(
    refusal(() => readGetEventsArgs([5], { topic: 'not a uri' })),
    /topic must be a WAMP URI/,
  );
});
