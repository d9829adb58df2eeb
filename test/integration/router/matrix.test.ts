// The router over every transport × every serializer with our own client: pub/sub and RPC carry
// bytes in args and kwargs intact, sessions on different transports and serializers talk to each
// other, and the spec's JSON binary convention ("\0" + base64) is what a JSON peer sees on the
// wire when a CBOR peer sends a byte string (and the reverse).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dict } from '../../../src/protocol/messages';
import { deferred, serializerNamesAll, startTestGateway, transportNames, within, type TestGateway } from '../support/gateway';
import { HELLO, openRawWs } from '../support/raw';

let tg: TestGateway;
before(async () => {
  tg = await startTestGateway();
});
after(async () => {
  await tg.stop();
});

const bytes = Buffer.from([0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff]);
let n = 0;

for (const transport of transportNames) {
  describe(transport, () => {
    for (const serializer of serializerNamesAll) {
      test(`${serializer}: pub/sub and RPC with bytes in args and kwargs`, async () => {
        const pub = await tg.client(transport, serializer);
        const sub = await tg.client(transport, serializer);
        try {
          assert.equal(sub.welcome.realm, 'realm1');
          const topic = `com.matrix.${transport.replace('-', '_')}.${serializer}.n${++n}`;
          const got = deferred<{ args: unknown[]; kwargs: Dict; details: Dict }>();
          await sub.subscribe(topic, (args, kwargs, details) => got.resolve({ args, kwargs, details }));
          await pub.publish(topic, [bytes, 'text', 42, { nested: bytes }], { blob: bytes, list: [bytes] }, { acknowledge: true, disclose_me: true });
          const ev = await within(got.promise, 'the event');
          assert.ok(Buffer.isBuffer(ev.args[0]), 'args[0] is a Buffer');
          assert.deepEqual(ev.args, [bytes, 'text', 42, { nested: bytes }]);
          assert.deepEqual(ev.kwargs, { blob: bytes, list: [bytes] });
          assert.equal(ev.details.publisher, pub.sessionId);

          await sub.register(`${topic}.xor`, (args, kwargs) => {
            const data = args[0] as Buffer;
            const key = kwargs.key as Buffer;
            return Buffer.from(data.map((b, i) => b ^ (key[i % key.length] as number)));
          });
          const r = await pub.call(`${topic}.xor`, [bytes], { key: Buffer.from([0xff]) });
          assert.ok(Buffer.isBuffer(r.args[0]));
          assert.deepEqual(r.args[0], Buffer.from(bytes.map((b) => b ^ 0xff)));
        } finally {
          await pub.close();
          await sub.close();
        }
      });
    }
  });
}

test('every transport/serializer pair talks to every other: one publisher per combination, one subscriber per combination', async () => {
  const combos = transportNames.flatMap((t) => serializerNamesAll.map((s) => [t, s] as const));
  const clients = await Promise.all(combos.map(([t, s]) => tg.client(t, s)));
  try {
    const topic = `com.matrix.all.n${++n}`;
    const expected = combos.length * combos.length;
    let received = 0;
    const done = deferred();
    for (const c of clients) {
      await c.subscribe(topic, (args) => {
        assert.deepEqual(args[1], bytes);
        if (++received === expected) done.resolve();
      });
    }
    for (const [i, c] of clients.entries()) await c.publish(topic, [i, bytes], undefined, { exclude_me: false, acknowledge: true });
    await within(done.promise, `${expected} events`);
    assert.equal(received, expected);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
  }
});

describe('cross-serializer bytes: JSON on the wire vs CBOR', () => {
  const b64 = bytes.toString('base64');

  test('a JSON publisher sends "\\0"+base64 and a CBOR subscriber gets a byte string', async () => {
    const sub = await tg.client('rawsocket-tcp', 'cbor');
    const json = await openRawWs(tg.wsUrl, 'wamp.2.json');
    try {
      const topic = `com.matrix.json2cbor.n${++n}`;
      const got = deferred<{ args: unknown[]; kwargs: Dict }>();
      await sub.subscribe(topic, (args, kwargs) => got.resolve({ args, kwargs }));
      json.sendText(JSON.stringify(HELLO));
      const welcome = (await json.nextJson('WELCOME')) as unknown[];
      assert.equal(welcome[0], 2);
      // Written by hand so the test sees the exact wire text: "\u0000" then base64.
      json.sendText(`[16,1,{"acknowledge":true},"${topic}",["\\u0000${b64}","\\u0000"],{"k":"\\u0000${b64}"}]`);
      const published = (await json.nextJson('PUBLISHED')) as unknown[];
      assert.equal(published[0], 17);
      const ev = await within(got.promise, 'the event at the CBOR subscriber');
      assert.ok(Buffer.isBuffer(ev.args[0]), 'a byte string, not text');
      assert.deepEqual(ev.args, [bytes, Buffer.alloc(0)]);
      assert.deepEqual(ev.kwargs, { k: bytes });
    } finally {
      json.close();
      await sub.close();
    }
  });

  test('a CBOR publisher sends a byte string and the JSON subscriber sees "\\0"+base64 on the wire', async () => {
    const pub = await tg.client('rawsocket-unix', 'cbor');
    const json = await openRawWs(tg.wsUrl, 'wamp.2.json');
    try {
      const topic = `com.matrix.cbor2json.n${++n}`;
      json.sendText(JSON.stringify(HELLO));
      await json.nextJson('WELCOME');
      json.sendText(JSON.stringify([32, 1, {}, topic]));
      const subscribed = (await json.nextJson('SUBSCRIBED')) as unknown[];
      assert.equal(subscribed[0], 33);
      await pub.publish(topic, [bytes], { k: bytes }, { acknowledge: true });
      const frame = await json.frames.next('the EVENT frame');
      assert.equal(frame.binary, false, 'JSON travels in text frames');
      const text = frame.data.toString('utf8');
      assert.ok(text.includes(`"\\u0000${b64}"`), `the wire text carries "\\u0000${b64}": ${text}`);
      const event = JSON.parse(text) as unknown[];
      assert.equal(event[0], 36);
      assert.deepEqual(event[4], [`\u0000${b64}`]);
      assert.deepEqual(event[5], { k: `\u0000${b64}` });
    } finally {
      json.close();
      await pub.close();
    }
  });
});
