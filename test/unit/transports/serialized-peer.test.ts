// SerializedPeer on the cross-serializer path (issue 9): a payload one decoder found plain is
// written by another serializer without its per-value checks, and must come out exactly as the
// checked encode writes it; a payload that is not plain still meets the checks and is refused
// where the receiver's format cannot carry it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyPayload } from '../../../src/core/payload-passthru';
import { MessageType } from '../../../src/protocol/message-types';
import type { Message, Payload } from '../../../src/protocol/messages';
import { serializers, type Serializer } from '../../../src/serializers/index';
import { SerializedPeer } from '../../../src/transports/serialized-peer';

/** A peer whose frames are collected, and the last message it received. */
function peer(s: Serializer): { p: SerializedPeer; frames: Buffer[]; last: () => Message } {
  const frames: Buffer[] = [];
  let last: Message | undefined;
  const p = new SerializedPeer({ type: 'websocket', serializer: s.name, peer: 'test', loopback: true, listener: 'test' }, s, {
    writeFrame: (f) => void frames.push(f),
    close: () => undefined,
    bufferedBytes: () => 0,
  });
  p.setListener({
    onMessage: (m) => (last = m),
    onProtocolViolation: (reason) => assert.fail(`protocol violation: ${reason}`),
    onClose: () => undefined,
  });
  return { p, frames, last: () => last ?? assert.fail('no message received') };
}

/** PUBLISH from `from`, relayed as the broker does to a subscriber on `to`. */
function relay(
  from: Serializer,
  to: Serializer,
  args: unknown[],
  kwargs?: Record<string, unknown>,
): { sent: ReturnType<SerializedPeer['send']>; frames: Buffer[] } {
  const a = peer(from);
  const b = peer(to);
  a.p.receiveFrame(from.encode(kwargs ? [16, 1, {}, 'a.b', args, kwargs] : [16, 1, {}, 'a.b', args]));
  const event = { type: MessageType.EVENT, subscription: 5, publication: 6, details: {} } as Message;
  copyPayload(a.last() as Payload, event as Payload);
  return { sent: b.p.send(event), frames: b.frames };
}

const records = [
  { id: 4000, t: 1764979200000, v: 21.5, w: Buffer.from('401bffffffffffff', 'hex').readDoubleBE(0), s: 'sensor-1' },
  { id: 4001, t: 1764979201000, v: -0.25, s: 'sensor-2', none: null, ok: false },
];

test('every serializer pair: a plain payload is relayed byte for byte as the checked encode writes it', () => {
  for (const from of serializers) {
    for (const to of serializers) {
      const { sent, frames } = relay(from, to, records, { n: 2 ** 53 - 1, list: records });
      assert.equal(sent, true, `${from.name}→${to.name}`);
      const expected = to.name === from.name ? undefined : to.encode([36, 5, 6, {}, records, { n: 2 ** 53 - 1, list: records }]);
      if (expected) assert.deepEqual(frames[0], expected, `${from.name}→${to.name}`);
      assert.deepEqual(to.decode(frames[0] as Buffer), [36, 5, 6, {}, records, { n: 2 ** 53 - 1, list: records }], `${from.name}→${to.name}`);
    }
  }
});

test('a payload that is not plain is still checked on the cross path: NaN, ±Infinity, a Date or a tag is refused for JSON; a value beyond 64 bits for MessagePack', () => {
  const [json, msgpack, cbor] = serializers as [Serializer, Serializer, Serializer];
  const cases: Array<[Serializer, Serializer, unknown]> = [
    [msgpack, json, NaN],
    [msgpack, json, Infinity],
    [cbor, json, -Infinity],
    [cbor, json, new Date(0)],
    [cbor, json, cbor.decode(Buffer.from('d903e81864', 'hex'))],
    [cbor, msgpack, 2n ** 64n],
    [json, msgpack, 2n ** 64n],
    [cbor, msgpack, cbor.decode(Buffer.from('d903e81864', 'hex'))],
  ];
  for (const [from, to, value] of cases) {
    const { sent, frames } = relay(from, to, [1764979200000, records[0], { value }]);
    assert.equal(typeof sent === 'object' && sent.reason, 'not-representable', `${from.name}→${to.name}: ${String(value)}`);
    assert.equal(frames.length, 0);
  }
});

test('a big integer crosses every pair exactly, as a plain payload beside it does', () => {
  for (const from of serializers) {
    for (const to of serializers) {
      const args = [2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n - 1n, 1764979200000, records[1]];
      const { sent, frames } = relay(from, to, args);
      assert.equal(sent, true, `${from.name}→${to.name}`);
      assert.deepEqual((to.decode(frames[0] as Buffer) as unknown[])[4], args, `${from.name}→${to.name}`);
    }
  }
});
