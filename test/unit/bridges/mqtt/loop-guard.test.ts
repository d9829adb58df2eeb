// The MQTT 3.1.1 loop guard: an own publish that comes back is recognised once per send, only
// on topics an inbound rule would import, and not after its time limit.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopGuard } from '../../../../src/bridges/mqtt/loop-guard';
import { compileFilter } from '../../../../src/bridges/mqtt/topic-mapping';

test('an echo is consumed once per send; a device sending other bytes or another topic is not taken for it', () => {
  const guard = new LoopGuard(10_000, [compileFilter('dev/+/set')]);
  guard.sending('dev/a/set', Buffer.from('1'));
  guard.sending('dev/a/set', Buffer.from('1'));
  guard.sending('other/topic', Buffer.from('1'));
  assert.equal(guard.consume('dev/a/set', Buffer.from('2')), false, 'other bytes');
  assert.equal(guard.consume('other/topic', Buffer.from('1')), false, 'no inbound rule would import it, so it was not remembered');
  assert.equal(guard.consume('dev/a/set', Buffer.from('1')), true);
  assert.equal(guard.consume('dev/a/set', Buffer.from('1')), true);
  assert.equal(guard.consume('dev/a/set', Buffer.from('1')), false, 'two sends, two echoes');
});

test('a remembered send expires after ttlMs, and clear() forgets everything', async () => {
  const guard = new LoopGuard(20, [compileFilter('#')]);
  guard.sending('t', Buffer.from('x'));
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(guard.consume('t', Buffer.from('x')), false, 'expired');
  guard.sending('t', Buffer.from('y'));
  guard.clear();
  assert.equal(guard.consume('t', Buffer.from('y')), false, 'cleared');
});
