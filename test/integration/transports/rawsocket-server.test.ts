// The RawSocket listener against broken or hostile clients, over real TCP and Unix sockets.
// After every bad input a fresh client must still get a working session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializerByName } from '../../../src/serializers';
import { connectRawSocket, RawSocketHandshakeRefused } from '../../../src/transports/rawsocket/client';
import { encodeFrame, encodeFrameHeader } from '../../../src/transports/rawsocket/framer';
import { startRawSocketServer, type RawSocketServerOptions } from '../../../src/transports/rawsocket/server';
import type { TransportServer } from '../../../src/transports/transport-server';
import { fromWire } from '../../../src/protocol/codec';
import { assertEchoRoundTrip, collect, EchoSide, rawConnect, tempDir, within } from './support';

const json = serializerByName('json')!;
const msgpack = serializerByName('msgpack')!;

async function withServer(
  extra: Partial<RawSocketServerOptions>,
  body: (server: TransportServer, port: number, echo: EchoSide) => Promise<void>,
): Promise<void> {
  const echo = new EchoSide();
  const server = await startRawSocketServer({ name: 'rs', port: 0, onPeer: echo.onPeer, ...extra });
  try {
    await body(server, (server.address() as { port: number }).port, echo);
  } finally {
    await server.close();
  }
}

async function freshClientWorks(port: number): Promise<void> {
  const client = await connectRawSocket({ host: '127.0.0.1', port }, msgpack);
  await assertEchoRoundTrip(client);
  client.close();
}

test('a handshake with bad magic is dropped without a reply and counted', async () => {
  await withServer({}, async (server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write('GET / HTTP/1.1\r\n\r\n');
    assert.equal((await raw.closed).length, 0, 'no reply: it is not a RawSocket client');
    assert.equal(server.stats.transportErrors, 1);
    assert.equal(server.stats.accepted, 0);
    await freshClientWorks(port);
  });
});

test('an unsupported serializer id gets error reply 1 (0x7F 0x10 0 0) and is closed', async () => {
  await withServer({}, async (server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.from([0x7f, 0xf5, 0, 0])); // 5 = FlatBuffers
    assert.deepEqual([...(await raw.closed)], [0x7f, 0x10, 0, 0]);
    assert.equal(server.stats.transportErrors, 1);
    await freshClientWorks(port);
  });
});

test('a listener restricted to JSON refuses msgpack with error 1, seen by our client as a refusal', async () => {
  await withServer({ serializers: [json] }, async (server, port) => {
    await assert.rejects(connectRawSocket({ host: '127.0.0.1', port }, msgpack), (err: unknown) => {
      assert.ok(err instanceof RawSocketHandshakeRefused);
      assert.equal(err.errorCode, 1);
      return true;
    });
    assert.equal(server.stats.transportErrors, 1);
    const client = await connectRawSocket({ host: '127.0.0.1', port }, json);
    await assertEchoRoundTrip(client);
  });
});

test('reserved bits in the handshake get error reply 3', async () => {
  await withServer({}, async (server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.from([0x7f, 0xf1, 0, 1]));
    assert.deepEqual([...(await raw.closed)], [0x7f, 0x30, 0, 0]);
    assert.equal(server.stats.transportErrors, 1);
    await freshClientWorks(port);
  });
});

test('a handshake split across writes is still understood', async () => {
  await withServer({ limits: { maxMessageBytes: 4096, hardMaxMessageBytes: 4096 } }, async (_server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.from([0x7f]));
    raw.socket.write(Buffer.from([0xf1, 0]));
    raw.socket.write(Buffer.from([0]));
    // 4096 octets = 2^(9+3): the reply announces our limit and echoes JSON.
    assert.deepEqual([...(await raw.received(4))], [0x7f, 0x31, 0, 0]);
    raw.socket.destroy();
  });
});

test('a frame over the limit closes the connection and is counted', async () => {
  await withServer({ limits: { maxMessageBytes: 1024, hardMaxMessageBytes: 1024 } }, async (server, port, echo) => {
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    assert.deepEqual([...(await raw.received(4))], [0x7f, 0x11, 0, 0]);
    // Only the header: the server must not wait for 2 KiB of payload before refusing.
    raw.socket.write(encodeFrameHeader('regular', 2048));
    await raw.closed;
    assert.match(await echo.closed(0), /exceeds the limit/);
    assert.equal(server.stats.transportErrors, 1);
    assert.equal(server.stats.active, 0);
    await freshClientWorks(port);
  });
});

test('a reserved frame type closes the connection and is counted', async () => {
  await withServer({}, async (server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    await raw.received(4);
    raw.socket.write(Buffer.from([0x03, 0, 0, 0]));
    await raw.closed;
    assert.equal(server.stats.transportErrors, 1);
    await freshClientWorks(port);
  });
});

test('a stalled handshake is closed after handshakeTimeoutMs and counted', async () => {
  await withServer({ limits: { handshakeTimeoutMs: 150 } }, async (server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.from([0x7f, 0xf1]));
    assert.equal((await raw.closed).length, 0);
    assert.equal(server.stats.transportErrors, 1);
    await freshClientWorks(port);
  });
});

test('a PING is answered with a PONG echoing its payload', async () => {
  await withServer({}, async (_server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.concat([Buffer.from([0x7f, 0xf1, 0, 0]), encodeFrame('ping', Buffer.from('are you there'))]));
    const data = await raw.received(4 + 4 + 13);
    assert.deepEqual(data.subarray(4), encodeFrame('pong', Buffer.from('are you there')));
    raw.socket.destroy();
  });
});

test('messages sent right behind the handshake in the same packet are delivered', async () => {
  await withServer({}, async (_server, port) => {
    const raw = await rawConnect({ port });
    const hello = json.encode([1, 'realm1', {}]);
    raw.socket.write(Buffer.concat([Buffer.from([0x7f, 0xf1, 0, 0]), encodeFrame('regular', hello)]));
    const data = await raw.received(4 + 4 + hello.length);
    assert.deepEqual(data.subarray(4), encodeFrame('regular', hello));
    raw.socket.destroy();
  });
});

test('a client that pinged the listener is probed too, and closed after the keepalive timeout when it stops answering (counted)', async () => {
  await withServer({ limits: { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 100 } }, async (server, port, echo) => {
    const raw = await rawConnect({ port });
    // Its own PING shows it speaks RawSocket PING/PONG; after the PONG it answers nothing.
    raw.socket.write(Buffer.concat([Buffer.from([0x7f, 0xf1, 0, 0]), encodeFrame('ping', Buffer.from('hi'))]));
    const data = await raw.received(4 + 6 + 4);
    assert.deepEqual(data.subarray(4, 10), encodeFrame('pong', Buffer.from('hi')), 'its PING is answered');
    assert.equal(data[10], 0x01, 'the server probes with a PING frame');
    await raw.closed;
    assert.match(await echo.closed(0), /keepalive/);
    assert.equal(server.stats.transportErrors, 1);
  });
});

test('a client that answers each PING with a PONG keeps its session through many probes', async () => {
  // The server sends no new PING while one is unanswered, so a third PING proves that the
  // PONGs to the first two were accepted.
  await withServer({ limits: { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 5_000 } }, async (_server, port, echo) => {
    const raw = await rawConnect({ port });
    let pings = 0;
    let buffered = Buffer.alloc(0);
    let handshakeSeen = false;
    const thirdPing = new Promise<void>((resolve) => {
      raw.socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (!handshakeSeen && buffered.length >= 4 && buffered[0] === 0x7f) {
          buffered = buffered.subarray(4);
          handshakeSeen = true;
        }
        while (buffered.length >= 4) {
          const length = buffered.readUIntBE(1, 3);
          if (buffered.length < 4 + length) break;
          if (buffered[0] === 0x01) {
            raw.socket.write(encodeFrame('pong', buffered.subarray(4, 4 + length)));
            if (++pings === 3) resolve();
          }
          buffered = buffered.subarray(4 + length);
        }
      });
    });
    raw.socket.write(Buffer.concat([Buffer.from([0x7f, 0xf1, 0, 0]), encodeFrame('ping', Buffer.from('x'))]));
    await within(thirdPing, 'three PINGs');
    assert.equal(echo.peers[0]?.closed, false);
    raw.socket.destroy();
  });
});

/** Every frame type the server sent after the handshake reply, until `ms` passed. */
async function frameKindsFor(raw: { socket: import('node:net').Socket }, ms: number): Promise<number[]> {
  const kinds: number[] = [];
  let buffered = Buffer.alloc(0);
  let handshakeSeen = false;
  raw.socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (!handshakeSeen && buffered.length >= 4) {
      buffered = buffered.subarray(4);
      handshakeSeen = true;
    }
    while (handshakeSeen && buffered.length >= 4) {
      const length = buffered.readUIntBE(1, 3);
      if (buffered.length < 4 + length) break;
      kinds.push((buffered[0] as number) & 0x07);
      buffered = buffered.subarray(4 + length);
    }
  });
  await new Promise((r) => setTimeout(r, ms));
  return kinds;
}

test('a client that never pinged and names no known agent is never sent a PING (Autobahn|Python reads one as a 16 MiB length)', async () => {
  await withServer({ limits: { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 40 } }, async (_server, port, echo) => {
    const raw = await rawConnect({ port });
    const hello = json.encode([1, 'realm1', { roles: { subscriber: {} }, agent: 'AutobahnJS-like' }]);
    raw.socket.write(Buffer.concat([Buffer.from([0x7f, 0xf1, 0, 0]), encodeFrame('regular', hello)]));
    // 15 keepalive intervals, several timeouts long: nothing but the echoed HELLO may arrive.
    const kinds = await frameKindsFor(raw, 300);
    assert.deepEqual(kinds, [0], 'only the echoed HELLO, no PING');
    assert.equal(echo.peers[0]?.closed, false, 'the session is still up');
    assert.equal(raw.socket.destroyed, false);
    raw.socket.destroy();
  });
});

test('a client whose HELLO names a known answering agent (wampgate-client) is probed with PINGs', async () => {
  await withServer({ limits: { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 5_000 } }, async (_server, port) => {
    const raw = await rawConnect({ port });
    const hello = json.encode([1, 'realm1', { roles: { subscriber: {} }, agent: 'wampgate-client' }]);
    raw.socket.write(Buffer.concat([Buffer.from([0x7f, 0xf1, 0, 0]), encodeFrame('regular', hello)]));
    const kinds = await frameKindsFor(raw, 150);
    assert.equal(kinds[0], 0, 'the echoed HELLO');
    assert.ok(kinds.includes(1), `a PING after the HELLO (got frame kinds ${kinds.join(',')})`);
    raw.socket.destroy();
  });
});

test('beyond maxConnections a client gets error reply 4; a slot freed is usable again', async () => {
  await withServer({ maxConnections: 1 }, async (server, port, echo) => {
    const first = await connectRawSocket({ host: '127.0.0.1', port }, json);
    const raw = await rawConnect({ port });
    raw.socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
    assert.deepEqual([...(await raw.closed)], [0x7f, 0x40, 0, 0]);
    assert.equal(server.stats.transportErrors, 1);
    first.close();
    await echo.closed(0);
    await freshClientWorks(port);
  });
});

test('a message over the limit the router announced is dropped by our client, not sent', async () => {
  await withServer({ limits: { maxMessageBytes: 512, hardMaxMessageBytes: 512 } }, async (server, port) => {
    const client = await connectRawSocket({ host: '127.0.0.1', port }, json);
    const inbox = collect(client);
    client.send(fromWire([16, 1, {}, 'com.example.big', ['x'.repeat(600)]]));
    client.send(fromWire([16, 2, {}, 'com.example.small', ['y']]));
    // Frames arrive in order, so if the big one had gone out it would come back first (or
    // have failed the connection).
    const back = await inbox.next();
    assert.equal(back.type === 16 ? back.topic : undefined, 'com.example.small');
    assert.equal(server.stats.transportErrors, 0);
  });
});

test('a listener whose onPeer throws closes that connection and keeps serving', async () => {
  let calls = 0;
  const echo = new EchoSide();
  const server = await startRawSocketServer({
    name: 'rs',
    port: 0,
    onPeer: (peer) => {
      if (calls++ === 0) throw new Error('bug in the router');
      echo.onPeer(peer);
    },
  });
  try {
    const port = (server.address() as { port: number }).port;
    const broken = await connectRawSocket({ host: '127.0.0.1', port }, json);
    const reason = await within(
      new Promise<string>((resolve) => broken.setListener({ onMessage: () => undefined, onProtocolViolation: resolve, onClose: resolve })),
      'the broken session to close',
    );
    assert.equal(typeof reason, 'string');
    await freshClientWorks(port);
  } finally {
    await server.close();
  }
});

test('unix: a stale socket file left by a dead process is replaced', async () => {
  const dir = tempDir('wampgate-stale-');
  const path = join(dir.path, 'stale.sock');
  try {
    // python binds and exits without unlinking, which is what a crashed router leaves behind.
    execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
    const echo = new EchoSide();
    const server = await startRawSocketServer({ name: 'unix', path, onPeer: echo.onPeer });
    try {
      const client = await connectRawSocket({ path }, json);
      await assertEchoRoundTrip(client);
    } finally {
      await server.close();
    }
  } finally {
    dir.remove();
  }
});

test('unix: a socket path in use, or a regular file, is refused rather than removed', async () => {
  const dir = tempDir('wampgate-inuse-');
  const path = join(dir.path, 'router.sock');
  const file = join(dir.path, 'not-a-socket');
  writeFileSync(file, 'precious');
  const server = await startRawSocketServer({ name: 'unix', path, onPeer: new EchoSide().onPeer });
  try {
    await assert.rejects(startRawSocketServer({ name: 'unix2', path, onPeer: () => undefined }), /in use/);
    await assert.rejects(startRawSocketServer({ name: 'unix3', path: file, onPeer: () => undefined }), /not a socket/);
    const client = await connectRawSocket({ path }, json);
    await assertEchoRoundTrip(client);
  } finally {
    await server.close();
    dir.remove();
  }
});

test('unix: an oversized frame is a transport error there too', async () => {
  const dir = tempDir('wampgate-unix-big-');
  const path = join(dir.path, 'router.sock');
  const server = await startRawSocketServer({ name: 'unix', path, onPeer: new EchoSide().onPeer, limits: { maxMessageBytes: 512, hardMaxMessageBytes: 512 } });
  try {
    const raw = await rawConnect({ path });
    raw.socket.write(Buffer.concat([Buffer.from([0x7f, 0xf2, 0, 0]), encodeFrameHeader('regular', 513)]));
    const data = await raw.closed;
    assert.deepEqual([...data.subarray(0, 4)], [0x7f, 0x02, 0, 0]);
    assert.equal(server.stats.transportErrors, 1);
    const client = await connectRawSocket({ path }, msgpack);
    await assertEchoRoundTrip(client);
  } finally {
    await server.close();
    dir.remove();
  }
});
