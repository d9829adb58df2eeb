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

test('jitter takes off at most its share, never adds: every delay of a 0.5 backoff lies in [base / 2, base]', () => {
  let r = 0;
  const values = [0, 0.25, 0.5, 0.999];
  const b = new Backoff({ initialDelayMs: 100, maxDelayMs: 400, jitter: 0.5 }, () => values[r++ % values.length] as number);
  const bases = [100, 200, 400, 400, 400, 400, 400, 400];
  for (const base of bases) {
    const d = b.next();
    assert.ok(d >= base / 2 && d <= base, `${d} within [${base / 2}, ${base}]`);
  }
});
