import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromWire, toWire } from '../../../src/protocol/codec';
import { MAX_ID } from '../../../src/protocol/ids';
import { MessageType } from '../../../src/protocol/message-types';
import type { Dict, Message } from '../../../src/protocol/messages';
import { ProtocolViolation } from '../../../src/protocol/protocol-violation';

test('codec round-trips a PUBLISH with kwargs only by inserting an empty args list', () => {
  const msg = fromWire([16, 1, {}, 'a.b', [], { x: 1 }]);
  assert.deepEqual(toWire(msg), [16, 1, {}, 'a.b', [], { x: 1 }]);
});

test('codec rejects a HELLO whose details is not a dict', () => {
  assert.throws(() => fromWire([1, 'realm1', []]), ProtocolViolation);
});

// ---- arbitraries ---------------------------------------------------------------------------

const idArb = fc.oneof(fc.maxSafeNat(), fc.constant(MAX_ID), fc.constant(0), fc.constant(1));
const dictArb: fc.Arbitrary<Dict> = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const argsArb = fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 });
const strArb = fc.string({ maxLength: 20 });

/** Optional args/kwargs as the typed message would carry them. */
const payloadArb = fc.record({ args: argsArb, kwargs: dictArb }, { requiredKeys: [] });

function withType<T extends number>(type: T, fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Message> {
  return fields.map((f) => ({ type, ...f }) as unknown as Message);
}

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  withType(MessageType.HELLO, fc.record({ realm: strArb, details: dictArb })),
  withType(MessageType.WELCOME, fc.record({ session: idArb, details: dictArb })),
  withType(MessageType.ABORT, fc.record({ details: dictArb, reason: strArb })),
  withType(MessageType.CHALLENGE, fc.record({ authmethod: strArb, extra: dictArb })),
  withType(MessageType.AUTHENTICATE, fc.record({ signature: strArb, extra: dictArb })),
  withType(MessageType.GOODBYE, fc.record({ details: dictArb, reason: strArb })),
  withType(
    MessageType.ERROR,
    fc.tuple(fc.record({ requestType: fc.integer(), request: idArb, details: dictArb, error: strArb }), payloadArb).map(([a, b]) => ({ ...a, ...b })),
  ),
  withType(
    MessageType.PUBLISH,
    fc.tuple(fc.record({ request: idArb, options: dictArb, topic: strArb }), payloadArb).map(([a, b]) => ({ ...a, ...b })),
  ),
  withType(MessageType.PUBLISHED, fc.record({ request: idArb, publication: idArb })),
  withType(MessageType.SUBSCRIBE, fc.record({ request: idArb, options: dictArb, topic: strArb })),
  withType(MessageType.SUBSCRIBED, fc.record({ request: idArb, subscription: idArb })),
  withType(MessageType.UNSUBSCRIBE, fc.record({ request: idArb, subscription: idArb })),
  withType(MessageType.UNSUBSCRIBED, fc.record({ request: idArb, details: dictArb }, { requiredKeys: ['request'] })),
  withType(
    MessageType.EVENT,
    fc.tuple(fc.record({ subscription: idArb, publication: idArb, details: dictArb }), payloadArb).map(([a, b]) => ({ ...a, ...b })),
  ),
  withType(
    MessageType.CALL,
    fc.tuple(fc.record({ request: idArb, options: dictArb, procedure: strArb }), payloadArb).map(([a, b]) => ({ ...a, ...b })),
  ),
  withType(MessageType.CANCEL, fc.record({ request: idArb, options: dictArb })),
  withType(
    MessageType.RESULT,
    fc.tuple(fc.record({ request: idArb, details: dictArb }), payloadArb).map(([a, b]) => ({ ...a, ...b })),
  ),
  withType(MessageType.REGISTER, fc.record({ request: idArb, options: dictArb, procedure: strArb })),
  withType(MessageType.REGISTERED, fc.record({ request: idArb, registration: idArb })),
  withType(MessageType.UNREGISTER, fc.record({ request: idArb, registration: idArb })),
  withType(MessageType.UNREGISTERED, fc.record({ request: idArb, details: dictArb }, { requiredKeys: ['request'] })),
  withType(
    MessageType.INVOCATION,
    fc.tuple(fc.record({ request: idArb, registration: idArb, details: dictArb }), payloadArb).map(([a, b]) => ({ ...a, ...b })),
  ),
  withType(MessageType.INTERRUPT, fc.record({ request: idArb, options: dictArb })),
  withType(
    MessageType.YIELD,
    fc.tuple(fc.record({ request: idArb, options: dictArb }), payloadArb).map(([a, b]) => ({ ...a, ...b })),
  ),
);

/** What a message looks like after a trip over the wire: empty kwargs vanish, and kwargs
 * without args gain an empty args list (spec: ArgumentsKw needs Arguments before it). */
function normalize(msg: Message): Message {
  const m = { ...msg } as Message & { args?: unknown[]; kwargs?: Dict };
  if (m.kwargs !== undefined && Object.keys(m.kwargs).length === 0) delete m.kwargs;
  if (m.kwargs !== undefined && m.args === undefined) m.args = [];
  return m;
}

// ---- properties -----------------------------------------------------------------------------

test('codec: fromWire(toWire(msg)) gives back every message type unchanged (up to payload normalization)', () => {
  fc.assert(
    fc.property(messageArb, (msg) => {
      const wire = toWire(msg);
      assert.ok(Array.isArray(wire));
      assert.equal(wire[0], msg.type);
      assert.deepStrictEqual(fromWire(wire), normalize(msg));
      // and the wire form is a fixed point
      assert.deepStrictEqual(toWire(fromWire(wire)), wire);
    }),
    { numRuns: 2000 },
  );
});

test('codec: the round-trip property reaches every message type', () => {
  const seen = new Set<number>();
  fc.assert(
    fc.property(messageArb, (msg) => void seen.add(msg.type)),
    { numRuns: 1000 },
  );
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Object.values(MessageType).sort((a, b) => a - b),
  );
});

test('codec: fromWire throws nothing but ProtocolViolation on arbitrary input', () => {
  const typeCode = fc.oneof(fc.constantFrom(...Object.values(MessageType)), fc.integer({ min: -2, max: 80 }), fc.anything());
  const fieldArb = fc.oneof(idArb, dictArb, argsArb, strArb, fc.anything(), fc.constant(MAX_ID + 2), fc.constant(-1), fc.constant(1.5));
  const rawArb = fc.oneof(
    fc.anything(),
    fc.tuple(typeCode, fc.array(fieldArb, { maxLength: 7 })).map(([t, rest]) => [t, ...rest]),
  );
  fc.assert(
    fc.property(rawArb, (raw) => {
      try {
        const msg = fromWire(raw);
        // anything accepted has a known type and survives re-encoding
        assert.ok(Object.values(MessageType).includes(msg.type));
        assert.ok(Array.isArray(toWire(msg)));
      } catch (err) {
        if (!(err instanceof ProtocolViolation)) throw err;
      }
    }),
    { numRuns: 5000 },
  );
});

test('codec: valid wire arrays with one field corrupted are rejected with ProtocolViolation', () => {
  fc.assert(
    fc.property(messageArb, fc.nat(), (msg, pick) => {
      const wire = toWire(msg);
      if (wire.length < 2) return;
      const index = 1 + (pick % (wire.length - 1));
      const original = wire[index];
      // A value of the wrong kind for every field kind (string, id/int, dict, list). Not a string
      // for a list: a lone string in the Arguments position of PUBLISH/CALL is a transparent payload.
      const corrupt = typeof original === 'string' ? 42 : typeof original === 'number' ? 'x' : Array.isArray(original) ? 42 : ['x'];
      const bad = [...wire];
      bad[index] = corrupt;
      assert.throws(() => fromWire(bad), ProtocolViolation, `${JSON.stringify(bad)} should be rejected`);
    }),
    { numRuns: 2000 },
  );
});

// ---- malformed cases --------------------------------------------------------------------------

const malformed: Array<[string, unknown]> = [
  ['not a list: a dict', { type: 1 }],
  ['not a list: a string', '[1,"realm1",{}]'],
  ['not a list: null', null],
  ['not a list: a number', 1],
  ['an empty list', []],
  ['HELLO with too few elements', [1, 'realm1']],
  ['HELLO with too many elements', [1, 'realm1', {}, {}]],
  ['HELLO whose realm is not a string', [1, 7, {}]],
  ['HELLO whose details is null', [1, 'realm1', null]],
  ['HELLO whose details is a Buffer', [1, 'realm1', Buffer.from('x')]],
  ['HELLO whose details is a Map', [1, 'realm1', new Map()]],
  ['GOODBYE with reason and details swapped', [6, 'wamp.close.normal', {}]],
  ['SUBSCRIBE with an args list appended', [32, 1, {}, 'a.b', []]],
  ['PUBLISH with args that is not a list', [16, 1, {}, 'a.b', { a: 1 }]],
  ['PUBLISH with kwargs that is not a dict', [16, 1, {}, 'a.b', [], [1]]],
  ['PUBLISH with a seventh element', [16, 1, {}, 'a.b', [], {}, 'extra']],
  ['CALL with request id 2^53 + 2 (out of range)', [48, MAX_ID + 2, {}, 'a.b']],
  ['CALL with a negative request id', [48, -1, {}, 'a.b']],
  ['CALL with a fractional request id', [48, 1.5, {}, 'a.b']],
  ['CALL with a string request id', [48, '1', {}, 'a.b']],
  ['CALL with a NaN request id', [48, NaN, {}, 'a.b']],
  ['CALL with an Infinity request id', [48, Infinity, {}, 'a.b']],
  ['ERROR with a fractional request type', [8, 48.5, 1, {}, 'x.y']],
  ['ERROR with too few elements', [8, 48, 1, {}]],
  ['UNSUBSCRIBED with 4 elements', [35, 1, {}, {}]],
  ['YIELD without options', [70, 1]],
  ['unknown type 7', [7, 1, {}]],
  ['unknown type 0', [0]],
  ['type code as a string', ['1', 'realm1', {}]],
  ['type code null', [null, 'realm1', {}]],
];

for (const [name, raw] of malformed) {
  test(`codec rejects ${name} with ProtocolViolation`, () => {
    assert.throws(() => fromWire(raw), ProtocolViolation);
  });
}

test('codec accepts IDs at the edges of the spec range [0, 2^53]', () => {
  assert.deepEqual(fromWire([48, MAX_ID, {}, 'a.b']), { type: 48, request: MAX_ID, options: {}, procedure: 'a.b' });
  assert.deepEqual(fromWire([17, 0, 1]), { type: 17, request: 0, publication: 1 });
});

test('codec keeps args/kwargs by reference (the router never reads or copies payloads)', () => {
  const args = [{ deep: [1, 2] }];
  const kwargs = { k: { v: true } };
  const msg = fromWire([48, 1, {}, 'a.b', args, kwargs]) as Message & { args: unknown[]; kwargs: Dict };
  assert.equal(msg.args, args);
  assert.equal(msg.kwargs, kwargs);
});

test('toWire omits empty kwargs and a missing args list', () => {
  assert.deepEqual(toWire({ type: MessageType.RESULT, request: 3 as never, details: {}, kwargs: {} }), [50, 3, {}]);
  assert.deepEqual(toWire({ type: MessageType.RESULT, request: 3 as never, details: {}, args: [] }), [50, 3, {}, []]);
  assert.deepEqual(toWire({ type: MessageType.UNREGISTERED, request: 0 as never, details: { reason: 'x' } }), [67, 0, { reason: 'x' }]);
});
