// Bad input over real sockets, sent by raw `ws` and `net` clients (no WAMP library would send
// it): each protocol violation gets ABORT wamp.error.protocol_violation and that connection
// closes; each transport error (oversized frame, bad RawSocket handshake, stalled handshake) closes
// that connection; a client that stops reading gets its EVENTs dropped (or is disconnected, by
// policy) with the gateway's buffer for it bounded. After every case a fresh session publishes and
// calls, and the last test repeats the garbage against a child-process gateway that must survive.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join, resolve } from 'node:path';
import { MessageType } from '../../../src/protocol/message-types';
import { msgpackSerializer } from '../../../src/serializers/msgpack';
import type { LimitsConfig } from '../../../src/config/types';
import { assertServes, deferred, freePort, startTestGateway, tempDir, until, within, type TestGateway } from '../support/gateway';
import { openAutobahn } from '../support/third-party';
import { HELLO, openRawTcp, openRawWs, rawFrame, type RawTcp, type RawWs } from '../support/raw';

const PV = 'wamp.error.protocol_violation';
const limits: Partial<LimitsConfig> = { helloTimeoutMs: 300, handshakeTimeoutMs: 300, maxMessageBytes: 64 * 1024, hardMaxMessageBytes: 64 * 1024 };

let tg: TestGateway;
before(async () => {
  tg = await startTestGateway(limits);
});
after(async () => {
  await tg.stop();
});

/** Asserts an ABORT with the protocol-violation reason, then the close. */
async function expectAbortWs(c: RawWs): Promise<void> {
  const abort = (await c.nextJson('ABORT')) as [number, { message?: unknown }, string];
  assert.equal(abort[0], MessageType.ABORT);
  assert.equal(abort[2], PV);
  assert.equal(typeof abort[1].message, 'string', 'ABORT.Details.message says what was wrong');
  const { code } = await within(c.closed, 'the WebSocket to close');
  assert.equal(code, 1000);
}
async function expectAbortTcp(c: RawTcp): Promise<void> {
  const abort = (await c.nextJson('ABORT')) as [number, { message?: unknown }, string];
  assert.equal(abort[0], MessageType.ABORT);
  assert.equal(abort[2], PV);
  await within(c.closed, 'the RawSocket connection to close');
}
async function joinedWs(): Promise<RawWs> {
  const c = await openRawWs(tg.wsUrl);
  c.sendText(JSON.stringify(HELLO));
  assert.equal(((await c.nextJson('WELCOME')) as unknown[])[0], MessageType.WELCOME);
  return c;
}
const violations = (): number => tg.gateway.router.stats.protocolViolations;

describe('WebSocket (wamp.2.json, raw ws client)', () => {
  const cases: Array<[string, (c: RawWs) => void, boolean]> = [
    ['malformed JSON text', (c) => c.sendText('[1, "realm1", {'), false],
    ['a valid JSON frame that is not a list', (c) => c.sendText('{"hello":"realm1"}'), false],
    ['an unknown message type', (c) => c.sendText('[99, 1, {}]'), false],
    ['a message before HELLO (SUBSCRIBE)', (c) => c.sendText('[32, 1, {}, "com.example.topic"]'), false],
    ['a HELLO with a malformed details field', (c) => c.sendText('[1, "realm1", "not a dict"]'), false],
    ['a second HELLO', (c) => c.sendText(JSON.stringify(HELLO)), true],
    ['a router-to-client message (EVENT) from a client', (c) => c.sendText('[36, 1, 2, {}, ["forged"]]'), true],
    ['a router-to-client message (WELCOME) from a client', (c) => c.sendText('[2, 1, {}]'), true],
    ['an ERROR for a CALL from a client', (c) => c.sendText('[8, 48, 1, {}, "com.example.error"]'), true],
    ['JSON sent in a binary frame that is not UTF-8 JSON', (c) => c.sendBinary(Buffer.from([0xff, 0xfe, 0x00])), false],
  ];
  for (const [name, send, afterWelcome] of cases) {
    test(`${name}${afterWelcome ? ' (after WELCOME)' : ''}: ABORT ${PV}, connection closed, router still serves`, async () => {
      const before = violations();
      const c = afterWelcome ? await joinedWs() : await openRawWs(tg.wsUrl);
      send(c);
      await expectAbortWs(c);
      assert.equal(violations(), before + 1, 'counted as a protocol violation');
      await assertServes(tg, 'websocket');
    });
  }

  test(`msgpack garbage in a binary frame: ABORT ${PV} encoded in msgpack, connection closed`, async () => {
    const c = await openRawWs(tg.wsUrl, 'wamp.2.msgpack');
    assert.equal(c.protocol, 'wamp.2.msgpack');
    c.sendBinary(Buffer.from([0xc1, 0xc1, 0xc1])); // 0xc1 is "never used" in msgpack
    const frame = await c.frames.next('ABORT');
    assert.equal(frame.binary, true);
    const abort = msgpackSerializer.decode(frame.data) as unknown[];
    assert.equal(abort[0], MessageType.ABORT);
    assert.equal(abort[2], PV);
    await within(c.closed, 'close');
    await assertServes(tg, 'websocket', 'msgpack');
  });

  test('an oversized WebSocket message: closed with 1009 (transport error, no ABORT), router still serves', async () => {
    const c = await joinedWs();
    c.sendText(JSON.stringify([16, 1, {}, 'com.example.big', ['x'.repeat(70 * 1024)]]));
    const { code } = await within(c.closed, 'the WebSocket to close');
    assert.equal(code, 1009, 'RFC 6455 "message too big"');
    assert.equal(c.frames.pending, 0, 'no ABORT for a transport error');
    await assertServes(tg, 'websocket');
  });

  test('a stalled WAMP handshake (WebSocket open, no HELLO): closed after limits.helloTimeoutMs', async () => {
    const c = await openRawWs(tg.wsUrl);
    const { code, reason } = await within(c.closed, 'the silent connection to be closed');
    assert.equal(code, 1000);
    assert.match(reason, /handshake timeout/);
    assert.equal(c.frames.pending, 0);
    await assertServes(tg, 'websocket');
  });

  test('a stalled HTTP upgrade (TCP open, nothing sent): closed after limits.handshakeTimeoutMs', async () => {
    const port = (tg.gateway.listeners[0]?.address as { port: number }).port;
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await within(closed, 'the silent TCP connection to be closed');
    await assertServes(tg, 'websocket');
  });

  test('a WebSocket upgrade with no WAMP subprotocol is refused with HTTP 400', async () => {
    await assert.rejects(openRawWs(tg.wsUrl, 'chat'), /HTTP 400/);
    await assertServes(tg, 'websocket');
  });
});

for (const transport of ['rawsocket-tcp', 'rawsocket-unix'] as const) {
  describe(`RawSocket (${transport}, raw net client)`, () => {
    const open = (): Promise<RawTcp> => openRawTcp(transport === 'rawsocket-tcp' ? { port: tg.tcpPort } : { path: tg.unixPath });
    const joined = async (): Promise<RawTcp> => {
      const c = await open();
      await c.handshake(1);
      c.sendJson(HELLO);
      assert.equal(((await c.nextJson('WELCOME')) as unknown[])[0], MessageType.WELCOME);
      return c;
    };

    const cases: Array<[string, (c: RawTcp) => void, boolean]> = [
      ['malformed JSON', (c) => c.send(Buffer.from('[1, "realm1"')), false],
      ['a frame that is not a list', (c) => c.send(Buffer.from('"HELLO"')), false],
      ['an unknown message type', (c) => c.sendJson([7, {}]), false],
      ['a message before HELLO (CALL)', (c) => c.sendJson([48, 1, {}, 'com.example.proc']), false],
      ['a second HELLO', (c) => c.sendJson(HELLO), true],
      ['an EVENT from a client', (c) => c.sendJson([36, 1, 2, {}]), true],
      ['a frame of reserved type 5', (c) => c.send(Buffer.from('[]'), 5), true],
    ];
    for (const [name, send, afterWelcome] of cases) {
      test(`${name}${afterWelcome ? ' (after WELCOME)' : ''}: ${name.includes('reserved type') ? 'connection closed' : `ABORT ${PV} and closed`}, router still serves`, async () => {
        const c = afterWelcome ? await joined() : await open();
        if (!afterWelcome) await c.handshake(1);
        send(c);
        if (name.includes('reserved type')) {
          // a framing error is a transport error: no WAMP message, the connection fails
          await within(c.closed, 'the connection to close');
        } else {
          await expectAbortTcp(c);
        }
        await assertServes(tg, transport);
      });
    }

    test('an oversized frame (over the limit the router announced): connection closed, no ABORT', async () => {
      const c = await joined();
      const reply = c.reply as Buffer;
      const limit = 2 ** ((reply.readUInt8(1) >> 4) + 9);
      assert.ok(limit >= 64 * 1024, `the router announced ${limit}`);
      const errorsBefore =
        tg.gateway.listeners.find((l) => (transport === 'rawsocket-tcp' ? l.config.name === 'rawsocket' : l.config.name === 'unix'))?.server.stats
          .transportErrors ?? 0;
      const header = Buffer.alloc(4);
      header.writeUIntBE(limit + 1, 1, 3);
      c.write(Buffer.concat([header, Buffer.alloc(1024, 0x20)]));
      await within(c.closed, 'the connection to close');
      assert.equal(c.frames.pending, 0, 'no ABORT for a transport error');
      const listener = tg.gateway.listeners.find((l) => (transport === 'rawsocket-tcp' ? l.config.name === 'rawsocket' : l.config.name === 'unix'));
      assert.equal(listener?.server.stats.transportErrors, errorsBefore + 1, 'counted as a transport error');
      await assertServes(tg, transport);
    });

    test('a bad RawSocket handshake (wrong magic octet): closed without a reply', async () => {
      const c = await open();
      c.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      await within(c.closed, 'the connection to close');
      assert.equal(c.reply, undefined);
      await assertServes(tg, transport);
    });

    test('a RawSocket handshake asking for an unknown serializer: error reply 1, then closed', async () => {
      const c = await open();
      const reply = await c.handshake(9);
      assert.deepEqual([...reply], [0x7f, 1 << 4, 0, 0], 'spec: error 1 "serializer unsupported"');
      await within(c.closed, 'the connection to close');
      await assertServes(tg, transport);
    });

    test('a stalled RawSocket handshake (connected, nothing sent): closed after limits.handshakeTimeoutMs', async () => {
      const c = await open();
      await within(c.closed, 'the silent connection to be closed');
      assert.equal(c.reply, undefined);
      await assertServes(tg, transport);
    });

    test('a stalled WAMP handshake (RawSocket up, no HELLO): closed after limits.helloTimeoutMs', async () => {
      const c = await open();
      await c.handshake(1);
      await within(c.closed, 'the connection without HELLO to be closed');
      await assertServes(tg, transport);
    });
  });
}

describe('a client that stops reading', () => {
  const maxQueueBytes = 64 * 1024;
  const payload = 'x'.repeat(8 * 1024);

  interface Slow {
    sessionId: number;
    /** Starts reading again (what was queued, then whatever comes). */
    resume(): void;
    closed: Promise<unknown>;
    destroy(): void;
  }

  /** A raw subscriber that stops reading after SUBSCRIBED: its socket is paused, so the kernel
   * buffers fill and then the router's outbound buffer for it grows. */
  async function slowSubscriber(g: TestGateway, topic: string, transport: 'rawsocket-tcp' | 'websocket'): Promise<Slow> {
    if (transport === 'rawsocket-tcp') {
      const raw = await openRawTcp({ port: g.tcpPort });
      await raw.handshake(1, 24);
      raw.sendJson(HELLO);
      const welcome = (await raw.nextJson('WELCOME')) as [number, number];
      raw.sendJson([32, 1, {}, topic]);
      assert.equal(((await raw.nextJson('SUBSCRIBED')) as unknown[])[0], MessageType.SUBSCRIBED);
      raw.socket.pause();
      return { sessionId: welcome[1], resume: () => raw.socket.resume(), closed: raw.closed, destroy: () => raw.destroy() };
    }
    const ws = await openRawWs(g.wsUrl);
    ws.sendText(JSON.stringify(HELLO));
    const welcome = (await ws.nextJson('WELCOME')) as [number, number];
    ws.sendText(JSON.stringify([32, 1, {}, topic]));
    assert.equal(((await ws.nextJson('SUBSCRIBED')) as unknown[])[0], MessageType.SUBSCRIBED);
    const socket = (ws.ws as unknown as { _socket: net.Socket })._socket;
    socket.pause();
    return { sessionId: welcome[1], resume: () => socket.resume(), closed: ws.closed, destroy: () => ws.close() };
  }

  /** Publishes (acknowledged in batches, so the publisher never floods itself) until `done`. */
  async function flood(g: TestGateway, topic: string, done: () => boolean): Promise<void> {
    const pub = await g.client('websocket');
    let sent = 0;
    while (!done()) {
      assert.ok(sent < 128 * 1024 * 1024, 'the router never pushed back within 128 MB');
      const batch: Array<Promise<unknown>> = [];
      for (let i = 0; i < 32; i++) batch.push(pub.publish(topic, [payload], undefined, { acknowledge: true }));
      await within(Promise.all(batch), 'a batch of publications to be acknowledged');
      sent += 32 * payload.length;
    }
    // the publisher's own session keeps working while the subscriber is stuck
    await pub.register(`${topic}.ping`, () => 'pong');
    assert.deepEqual((await pub.call(`${topic}.ping`)).args, ['pong']);
    await pub.close();
  }

  for (const transport of ['rawsocket-tcp', 'websocket'] as const) {
    test(`slowConsumerPolicy 'drop' (${transport}): EVENTs are dropped and counted, the buffer for the slow client stays bounded`, async () => {
      const g = await startTestGateway({ maxQueueBytes, hardQueueBytes: 64 * 1024 * 1024, slowConsumerPolicy: 'drop' });
      try {
        const topic = 'com.example.flood.drop';
        const slow = await slowSubscriber(g, topic, transport);
        const stats = g.gateway.router.stats;
        let maxBuffered = 0;
        const session = g.gateway.router.sessions.get(slow.sessionId as never);
        assert.ok(session, 'the slow session is known to the router');
        await flood(g, topic, () => {
          maxBuffered = Math.max(maxBuffered, session.peer.bufferedBytes());
          return stats.eventsDroppedSlowConsumer > 100;
        });
        assert.ok(session.outbound.eventsDropped > 0, 'counted on the session too');
        // one EVENT may go out while just under the limit: bounded by limit + one message
        const bound = maxQueueBytes + payload.length + 1024;
        assert.ok(maxBuffered <= bound, `buffered ${maxBuffered} bytes for the slow client (limit ${maxQueueBytes})`);
        assert.ok(session.peer.bufferedBytes() <= bound);
        assert.ok(g.gateway.router.sessions.has(slow.sessionId as never), "the slow client is not disconnected under 'drop'");
        assert.equal(stats.slowConsumersDisconnected, 0);
        slow.destroy();
        await assertServes(g, transport);
      } finally {
        await g.stop();
      }
    });
  }

  test("slowConsumerPolicy 'disconnect': the slow client is closed, the publisher goes on", async () => {
    const g = await startTestGateway({ maxQueueBytes, hardQueueBytes: 64 * 1024 * 1024, slowConsumerPolicy: 'disconnect' });
    try {
      const topic = 'com.example.flood.disconnect';
      const slow = await slowSubscriber(g, topic, 'rawsocket-tcp');
      const stats = g.gateway.router.stats;
      await flood(g, topic, () => stats.slowConsumersDisconnected > 0);
      await until(() => !g.gateway.router.sessions.has(slow.sessionId as never), 'the slow session to be gone from the router');
      assert.equal(stats.eventsDroppedSlowConsumer, 0);
      slow.resume(); // read what was queued, then the close
      await within(slow.closed, 'the slow client to see its connection closed');
      await assertServes(g, 'rawsocket-tcp');
    } finally {
      await g.stop();
    }
  });
});

test('none of the bad input above was an internal error (an exception in routing)', () => {
  assert.equal(tg.gateway.router.stats.internalErrors, 0);
  assert.ok(tg.gateway.router.stats.protocolViolations >= 20, `counted ${tg.gateway.router.stats.protocolViolations} protocol violations`);
});

test('a child-process gateway (`wampgate start`) survives the same garbage and keeps serving', async () => {
  const dir = tempDir('wampgate-child-');
  const [wsPort, rsPort] = [await freePort(), await freePort()];
  const configPath = join(dir.path, 'wampgate.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      realms: [{ name: 'realm1' }],
      listeners: [
        { name: 'websocket', type: 'websocket', host: '127.0.0.1', port: wsPort },
        { name: 'rawsocket', type: 'rawsocket', host: '127.0.0.1', port: rsPort },
      ],
      limits: { helloTimeoutMs: 500, handshakeTimeoutMs: 500, maxMessageBytes: 65536, hardMaxMessageBytes: 65536 },
      log: { level: 'info' },
      status: { port: 0 }, // not the default 8089: parallel tests would fight over it
    }),
  );
  const bin = resolve(__dirname, '../../../../bin/wampgate.js');
  const child = spawn(process.execPath, [bin, 'start', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = deferred<number | null>();
  child.on('exit', (code) => exited.resolve(code));
  let output = '';
  const ready = deferred();
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (/\bready\b/.test(output)) ready.resolve();
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await within(
      Promise.race([ready.promise, exited.promise.then(() => Promise.reject(new Error(`exited early:\n${output}`)))]),
      'the child gateway to log "ready"',
    );
    const url = `ws://127.0.0.1:${wsPort}/ws`;
    // garbage on every path
    const ws1 = await openRawWs(url);
    ws1.sendText('{{{{ not json');
    await within(ws1.closed, 'close after malformed JSON');
    const ws2 = await openRawWs(url);
    ws2.sendText(JSON.stringify(HELLO));
    await ws2.nextJson('WELCOME');
    ws2.sendText(JSON.stringify(HELLO));
    assert.equal(((await ws2.nextJson('ABORT')) as unknown[])[2], PV);
    await within(ws2.closed, 'close after a second HELLO');
    const ws3 = await openRawWs(url);
    ws3.sendText('x'.repeat(70 * 1024));
    assert.equal((await within(ws3.closed, 'close after an oversized message')).code, 1009);
    const r1 = await openRawTcp({ port: rsPort });
    r1.write(Buffer.from([0x00, 0x00, 0x00, 0x00, 0xde, 0xad]));
    await within(r1.closed, 'close after a bad RawSocket handshake');
    const r2 = await openRawTcp({ port: rsPort });
    await r2.handshake(1);
    r2.write(rawFrame(Buffer.alloc(0), 0));
    r2.write(Buffer.from([0, 0xff, 0xff, 0xff]));
    await within(r2.closed, 'close after an oversized/garbage frame');
    const stalled = await openRawTcp({ port: rsPort });
    await within(stalled.closed, 'close of a stalled handshake');

    assert.equal(child.exitCode, null, `the gateway process is alive:\n${output}`);
    // a fresh session publishes and calls
    const ab = await openAutobahn({ url, serializer: 'json' });
    try {
      await ab.session.register('com.example.child.add', (args) => (args[0] as number) + (args[1] as number));
      assert.equal(await ab.session.call('com.example.child.add', [2, 3]), 5);
      const got = deferred<unknown[]>();
      await ab.session.subscribe('com.example.child.topic', (args) => got.resolve(args));
      await ab.session.publish('com.example.child.topic', ['still here'], {}, { acknowledge: true, exclude_me: false });
      assert.deepEqual(await within(got.promise, 'the event'), ['still here']);
    } finally {
      await ab.close();
    }
    assert.equal(child.exitCode, null);
    assert.doesNotMatch(output, /unhandled|internal error|TypeError|RangeError/i, 'nothing unexpected was logged');
  } finally {
    child.kill('SIGTERM');
    await within(exited.promise, 'the child gateway to exit').catch(() => child.kill('SIGKILL'));
    dir.remove();
  }
});
