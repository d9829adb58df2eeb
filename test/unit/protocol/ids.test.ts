import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isValidId, MAX_ID, randomId, SequentialIds } from '../../../src/protocol/ids';

test('isValidId accepts integers in [0, 2^53] and nothing else', () => {
  for (const ok of [0, 1, 42, MAX_ID - 1, MAX_ID]) assert.equal(isValidId(ok), true, String(ok));
  for (const bad of [-1, 1.5, MAX_ID + 2, NaN, Infinity, -Infinity, '1', null, undefined, 1n, {}]) assert.equal(isValidId(bad), false, String(bad));
});

test('isValidId agrees with the spec range for any number', () => {
  fc.assert(
    fc.property(fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger()), (n) => {
      assert.equal(isValidId(n), Number.isInteger(n) && n >= 0 && n <= MAX_ID);
    }),
  );
});

test('randomId draws global-scope IDs in [1, 2^53]', () => {
  for (let i = 0; i < 10_000; i++) {
    const id = randomId();
    assert.ok(Number.isSafeInteger(id) || id === MAX_ID, String(id));
    assert.ok(id >= 1 && id <= MAX_ID, String(id));
  }
});

test('randomId reaches both ends of its range when Math.random does', () => {
  const original = Math.random;
  try {
    Math.random = () => 0;
    assert.equal(randomId(), 1);
    Math.random = () => 1 - Number.EPSILON;
    assert.equal(randomId(), MAX_ID);
  } finally {
    Math.random = original;
  }
});

test('randomId uses more than 32 bits (IDs above 2^32 occur)', () => {
  let high = 0;
  for (let i = 0; i < 1000; i++) if (randomId() > 2 ** 32) high++;
  // P(an ID <= 2^32) = 2^-21 per draw, so all 1000 draws but a handful must be above it
  assert.ok(high > 990, `only ${high} of 1000 IDs were above 2^32`);
});

test('SequentialIds counts 1, 2, 3 … and wraps back to 1 after 2^53', () => {
  const ids = new SequentialIds();
  assert.deepEqual([ids.next(), ids.next(), ids.next()], [1, 2, 3]);
  (ids as unknown as { last: number }).last = MAX_ID - 1;
  assert.equal(ids.next(), MAX_ID);
  assert.equal(ids.next(), 1);
});
