// The one TTL cache: entries expire, the oldest insertion goes first when full, 0 disables it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TtlCache } from '../../../src/util/ttl-cache';

test('an entry is returned until its ttl passes, then forgotten', () => {
  let now = 1000;
  const cache = new TtlCache<string>({ ttlMs: 100, max: 10, now: () => now });
  cache.set('a', 'A');
  now = 1099;
  assert.equal(cache.get('a'), 'A');
  now = 1100;
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.size, 0, 'an expired entry is dropped when met');
});

test('when full the oldest insertion is dropped; ttl 0 or max 0 keeps nothing', () => {
  const cache = new TtlCache<number>({ ttlMs: 1000, max: 2 });
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [undefined, 2, 3]);
  for (const off of [new TtlCache<number>({ ttlMs: 0, max: 2 }), new TtlCache<number>({ ttlMs: 1000, max: 0 })]) {
    off.set('a', 1);
    assert.equal(off.get('a'), undefined);
  }
  cache.clear();
  assert.equal(cache.size, 0);
});
