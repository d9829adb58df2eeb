import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromWire, toWire } from '../../../src/protocol/codec';
import { ProtocolViolation } from '../../../src/protocol/protocol-violation';

test('codec round-trips a PUBLISH with kwargs only by inserting an empty args list', () => {
  const msg = fromWire([16, 1, {}, 'a.b', [], { x: 1 }]);
  assert.deepEqual(toWire(msg), [16, 1, {}, 'a.b', [], { x: 1 }]);
});

test('codec rejects a HELLO whose details is not a dict', () => {
  assert.throws(() => fromWire([1, 'realm1', []]), ProtocolViolation);
});
