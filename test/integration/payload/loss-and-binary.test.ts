// Never a silent loss, and binary values exact (issue 9), with third-party clients over real
// sockets: a value the receiver's serializer cannot carry gives the caller ERROR
// wamp.error.invalid_payload and drops one subscriber's EVENT with a counter and one WARN line
// per session; CBOR tags and bignums between CBOR peers arrive as sent (AutobahnJS's own
// testBinaryCBOR values, reimplemented); a caller whose callee disappears gets its ERROR.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Gateway } from '../../../src/gateway';
import { createLogger } from '../../../src/util/logger';
import { deferred, Inbox, tempDir, testConfig, within } from '../support/gateway';
import { openAutobahn, type AbClient, type AbError } from '../support/third-party';

const cbor = require('cbor') as { Tagged: new (tag: number, value: unknown) => { tag: number; value: unknown } };

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}
const lines: LogLine[] = [];
let gateway: Gateway;
let dir: ReturnType<typeof tempDir>;
let url: string;

before(async () => {
  dir = tempDir('wampgate-loss-');
  const logger = createLogger({ level: 'warn', sink: (level, _component, msg, fields) => lines.push({ level, msg, fields: fields ?? {} }) });
  // The defaults (limits, serializers, features) with test ports: only listeners differ.
  gateway = await Gateway.start(testConfig(join(dir.path, 'wamp.sock')), { logger });
  const ws = gateway.listeners[0]?.address as { port: number };
  url = `ws://127.0.0.1:${ws.port}/ws`;
});
after(async () => {
  await gateway.stop();
  dir.remove();
});

const stats = (): { events: number; calls: number } => ({
  events: gateway.router.stats.eventsDroppedUnrepresentable,
  calls: gateway.router.stats.callMessagesUnrepresentable,
});

function warnsFor(session: number, text: RegExp): LogLine[] {
  return lines.filter((l) => l.level === 'warn' && l.fields.session === session && text.test(l.msg));
}

test("AutobahnJS's testBinaryCBOR values (reimplemented): a CBOR echo callee returns every one exactly, any.echo has no callee", async () => {
  // Values from crossbario/autobahn-js packages/autobahn/test/test_binary.vitest.js (run_test's
  // vals1; random bytes from a fixed pattern instead of the random-bytes-seed package).
  const bytes32 = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
  const vals1: unknown[] = [
    1.7,
    'hello',
    [1, 2, -3],
    { a: 5, b: 'hello2', c: [1, 2, 3] },
    [-9007199254740991, 9007199254740991],
    null,
    BigInt('1558266424841951553'),
    BigInt('340282366920938463463374607431768211455'),
    Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
    bytes32,
    { a: 5, b: 'hello2', c: bytes32 },
  ];
  const callee = await openAutobahn({ url, serializer: 'cbor' });
  const caller = await openAutobahn({ url, serializer: 'cbor' });
  try {
    await callee.session.register('com.myapp.echo', (args) => args[0]);
    for (const v of vals1) {
      const res = await within(caller.session.call('com.myapp.echo', [v]), `echo of ${String(v)}`);
      if (v instanceof Uint8Array) assert.equal(Buffer.from(res as Uint8Array).toString('hex'), Buffer.from(v).toString('hex'));
      else assert.deepEqual(res, v, `echo of ${String(v)}`);
    }
    for (const v of vals1) {
      await assert.rejects(caller.session.call('any.echo', [v]), (err: AbError) => err.error === 'wamp.error.no_such_procedure');
    }
  } finally {
    await caller.close();
    await callee.close();
  }
});

test('CBOR tags between CBOR peers arrive as sent: a tag-64 typed array stays a typed array, an unknown tag stays that tag', async () => {
  const sub = await openAutobahn({ url, serializer: 'cbor' });
  const pub = await openAutobahn({ url, serializer: 'cbor' });
  try {
    const inbox = new Inbox<unknown[]>();
    await sub.session.subscribe('com.tags', (args) => inbox.push(args));
    await pub.session.publish(
      'com.tags',
      [new cbor.Tagged(64, Buffer.from([9, 8, 7])), new cbor.Tagged(1000, 'x'), Buffer.from([1])],
      {},
      { acknowledge: true },
    );
    const [typed, unknown, plain] = await inbox.next('the tagged event');
    // node-cbor reads tag 64 as a Uint8Array and a plain byte string as a Buffer.
    assert.ok(typed instanceof Uint8Array && !Buffer.isBuffer(typed), 'tag 64 arrived as a typed array, not a plain byte string');
    assert.deepEqual([...(typed as Uint8Array)], [9, 8, 7]);
    assert.equal((unknown as { tag: number }).tag, 1000);
    assert.equal((unknown as { value: unknown }).value, 'x');
    assert.ok(Buffer.isBuffer(plain));
  } finally {
    await pub.close();
    await sub.close();
  }
});

test('a BigInt from AutobahnJS over CBOR (a bignum, even 5n) reaches a JSON subscriber as the integer', async () => {
  const sub = await openAutobahn({ url, serializer: 'json' });
  const pub = await openAutobahn({ url, serializer: 'cbor' });
  try {
    const inbox = new Inbox<unknown[]>();
    await sub.session.subscribe('com.five', (args) => inbox.push(args));
    await pub.session.publish('com.five', [5n, -7n, 2n ** 40n], {}, { acknowledge: true });
    assert.deepEqual(await inbox.next('the event with 5n'), [5, -7, 2 ** 40]);
  } finally {
    await pub.close();
    await sub.close();
  }
});

test('an EVENT a subscriber cannot receive is dropped for that subscriber only, counted, and logged once per session at WARN', async () => {
  const jsonSub = await openAutobahn({ url, serializer: 'json' });
  const msgpackSub = await openAutobahn({ url, serializer: 'msgpack' });
  const cborSub = await openAutobahn({ url, serializer: 'cbor' });
  const pub = await openAutobahn({ url, serializer: 'cbor' });
  try {
    const toJson = new Inbox<unknown[]>();
    const toMsgpack = new Inbox<unknown[]>();
    const toCbor = new Inbox<unknown[]>();
    await jsonSub.session.subscribe('com.loss', (args) => toJson.push(args));
    await msgpackSub.session.subscribe('com.loss', (args) => toMsgpack.push(args));
    await cborSub.session.subscribe('com.loss', (args) => toCbor.push(args));
    const before = stats();
    // A CBOR tag reaches neither JSON nor MessagePack; an integer of 65 bits fits JSON only.
    for (let i = 0; i < 3; i++) {
      const published = await pub.session.publish('com.loss', [new cbor.Tagged(1000, i)], {}, { acknowledge: true });
      assert.ok(published && published.id > 0, 'the publisher still gets PUBLISHED');
      assert.equal(((await toCbor.next('the tagged event at the CBOR subscriber'))[0] as { tag: number }).tag, 1000);
    }
    await pub.session.publish('com.loss', [2n ** 64n], {}, { acknowledge: true });
    assert.equal(String((await toJson.next('the 2^64 event at the JSON subscriber'))[0]), String(2 ** 64));
    await toCbor.next('the 2^64 event at the CBOR subscriber');
    await pub.session.publish('com.loss', ['marker'], {}, { acknowledge: true });
    assert.deepEqual(
      await toJson.next('the marker at the JSON subscriber'),
      ['marker'],
      'the JSON subscriber got nothing before the marker but the 2^64 event',
    );
    assert.deepEqual(await toMsgpack.next('the marker at the msgpack subscriber'), ['marker'], 'the msgpack subscriber got nothing before the marker');
    // 3 tagged events x 2 subscribers (json, msgpack) + the 2^64 event x 1 (msgpack).
    assert.equal(stats().events - before.events, 7);
    const jsonWarn = warnsFor(jsonSub.session.id, /event dropped/);
    assert.equal(jsonWarn.length, 1, 'one WARN line for the JSON subscriber');
    assert.match(String(jsonWarn[0]?.fields.reason), /CBOR tag 1000 value cannot be represented in json/);
    assert.equal(jsonWarn[0]?.fields.serializer, 'json');
    const msgpackWarn = warnsFor(msgpackSub.session.id, /event dropped/);
    assert.equal(msgpackWarn.length, 1, 'one WARN line for the msgpack subscriber');
    assert.equal(warnsFor(cborSub.session.id, /event dropped/).length, 0);
    // The metrics name the reason.
    const { renderPrometheus } = require('../../../src/ops/prometheus') as { renderPrometheus: (s: unknown) => string };
    const { routerStatus } = require('../../../src/ops/router-status') as typeof import('../../../src/ops/router-status');
    const { routerView } = require('../../../src/core/router-view') as typeof import('../../../src/core/router-view');
    assert.match(
      renderPrometheus({ router: routerStatus(routerView(gateway.router)) }),
      /wampgate_messages_dropped_total\{reason="unrepresentable_event"\} [1-9]/,
    );
  } finally {
    await Promise.all([pub.close(), cborSub.close(), msgpackSub.close(), jsonSub.close()]);
  }
});

test('a CALL whose arguments the callee cannot receive gets ERROR wamp.error.invalid_payload saying why; so does a result the caller cannot receive', async () => {
  const msgpackCallee = await openAutobahn({ url, serializer: 'msgpack' });
  const cborCallee = await openAutobahn({ url, serializer: 'cbor' });
  const cborCaller = await openAutobahn({ url, serializer: 'cbor' });
  const jsonCaller = await openAutobahn({ url, serializer: 'json' });
  try {
    let invoked = 0;
    await msgpackCallee.session.register('com.mp.echo', (args) => {
      invoked++;
      return args[0];
    });
    await cborCallee.session.register('com.cbor.tagged', () => new cbor.Tagged(1000, 'result'));
    const before = stats();
    await assert.rejects(cborCaller.session.call('com.mp.echo', [2n ** 64n]), (err: AbError) => {
      assert.equal(err.error, 'wamp.error.invalid_payload');
      assert.match(String(err.args[0]), /the integer 18446744073709551616 \(beyond 64 bits\) cannot be represented in msgpack/);
      return true;
    });
    assert.equal(invoked, 0, 'the callee was not invoked');
    await assert.rejects(jsonCaller.session.call('com.cbor.tagged', []), (err: AbError) => {
      assert.equal(err.error, 'wamp.error.invalid_payload');
      assert.match(String(err.args[0]), /result cannot be delivered to the caller: a CBOR tag 1000 value cannot be represented in json/);
      return true;
    });
    assert.equal(stats().calls - before.calls, 2);
    assert.equal(warnsFor(msgpackCallee.session.id, /cannot be represented/).length, 1);
    assert.equal(warnsFor(jsonCaller.session.id, /cannot be represented/).length, 1);
    // Both sessions go on: the same procedure works with a representable value.
    assert.equal(await cborCaller.session.call('com.mp.echo', [12345]), 12345);
  } finally {
    await Promise.all([msgpackCallee.close(), cborCallee.close(), cborCaller.close(), jsonCaller.close()]);
  }
});

test('a caller whose callee disappears mid-call gets ERROR wamp.error.canceled at once (not at a timeout)', async () => {
  const callee: AbClient = await openAutobahn({ url, serializer: 'json' });
  const caller = await openAutobahn({ url, serializer: 'msgpack' });
  try {
    const invoked = deferred();
    await callee.session.register('com.gone', () => {
      invoked.resolve();
      return new Promise(() => undefined); // never answers
    });
    const call = caller.session.call('com.gone', [1]);
    const outcome = call.then(
      () => assert.fail('the call must not succeed'),
      (err: AbError) => err,
    );
    await within(invoked.promise, 'the callee to be invoked');
    callee.drop(); // the transport goes away without GOODBYE
    const err = await within(outcome, 'the ERROR for the call whose callee left (no call timeout set)');
    assert.equal(err.error, 'wamp.error.canceled');
    assert.match(String(err.args[0]), /callee left/);
  } finally {
    await caller.close();
  }
});

/** A raw WebSocket WAMP peer for the wire-level passthru test. */
async function rawPeer(subprotocol: string): Promise<{ ws: WebSocket; inbox: Inbox<Buffer> }> {
  const ws = new WebSocket(url, subprotocol);
  const inbox = new Inbox<Buffer>();
  ws.on('message', (d: Buffer) => inbox.push(d));
  await within(new Promise((r) => ws.once('open', r)), 'the raw WebSocket to open');
  return { ws, inbox };
}

test("a transparent payload (the spec vectors' PUBLISH with a raw payload) is accepted and reaches the subscriber byte for byte, with its enc_* details", async () => {
  const { jsonSerializer } = require('../../../src/serializers/json') as typeof import('../../../src/serializers/json');
  const sub = await rawPeer('wamp.2.json');
  const pub = await rawPeer('wamp.2.json');
  try {
    for (const p of [sub, pub]) {
      p.ws.send('[1,"realm1",{"roles":{"publisher":{},"subscriber":{}}}]');
      assert.equal((jsonSerializer.decode(await p.inbox.next('WELCOME')) as unknown[])[0], 2);
    }
    sub.ws.send('[32,1,{},"com.myapp.encrypted"]');
    const subscribed = jsonSerializer.decode(await sub.inbox.next('SUBSCRIBED')) as unknown[];
    // From testsuite/singlemessage/basic/publish.json, "PUBLISH with transparent payload".
    pub.ws.send('[16,123456789,{"enc_algo":"cryptobox","enc_serializer":"msgpack"},"com.myapp.encrypted","\\u0000gqVjb2xvcqZvcmFuZ2Wlc2l6ZXOTFwAqBw=="]');
    const text = (await sub.inbox.next('the EVENT with the transparent payload')).toString();
    const event = jsonSerializer.decode(Buffer.from(text)) as unknown[];
    assert.equal(event[0], 36);
    assert.equal(event[1], subscribed[2]);
    assert.deepEqual(event[3], { enc_algo: 'cryptobox', enc_serializer: 'msgpack' });
    assert.equal(event.length, 5);
    assert.ok(text.endsWith(',"\\u0000gqVjb2xvcqZvcmFuZ2Wlc2l6ZXOTFwAqBw=="]'), text);
  } finally {
    sub.ws.close();
    pub.ws.close();
  }
});
