// The one reconnect backoff: growth, cap, reset and what jitter may do to a delay.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../../src/util/backoff';

test('backoff doubles up to the maximum, and jitter only shortens it', () => {
  const low = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 }, () => 0);
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => low.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  low.reset();
  assert.equal(low.next(), 100);
  const high = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 }, () => 1);
  assert.deepEqual(
    [1, 2].map(() => high.next()),
    [50, 100],
  );
});
