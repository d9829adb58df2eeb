// The WebSocket listener against broken or hostile clients, using the ws client directly where
// our own client would refuse to misbehave. After every bad input a fresh client still works.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import WebSocket from 'ws';
import { serializerByName } from '../../../src/serializers';
import type { TransportServer } from '../../../src/transports/transport-server';
import { connectWebSocket } from '../../../src/transports/websocket/client';
import { parseSubprotocols, startWebSocketServer, type WebSocketServerOptions } from '../../../src/transports/websocket/server';
import { assertEchoRoundTrip, EchoSide, rawConnect, WAIT_MS, within } from './support';

const json = serializerByName('json')!;
const cbor = serializerByName('cbor')!;

async function withServer(
  extra: Partial<WebSocketServerOptions>,
  body: (server: TransportServer, port: number, echo: EchoSide) => Promise<void>,
): Promise<void> {
  const echo = new EchoSide();
  const server = await startWebSocketServer({ name: 'ws', port: 0, onPeer: echo.onPeer, ...extra });
  try {
    await body(server, (server.address() as { port: number }).port, echo);
  } finally {
    await server.close();
  }
}

async function freshClientWorks(port: number, path = '/ws'): Promise<void> {
  const client = await connectWebSocket({ url: `ws://127.0.0.1:${port}${path}`, serializer: cbor });
  await assertEchoRoundTrip(client);
  client.close();
}

/** Opens a ws client and resolves with the HTTP status of a refused upgrade. */
function refusedStatus(url: string, protocols: string[]): Promise<number> {
  return within(
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      ws.on('open', () => reject(new Error('upgrade unexpectedly accepted')));
      ws.on('error', () => undefined);
    }),
    'the upgrade to be refused',
  );
}

/** Polls `cond` until it holds; fails after WAIT_MS naming what it waited for. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function openRaw(url: string, protocols: string[]): Promise<WebSocket> {
  return within(
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    }),
    'the WebSocket to open',
  );
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return within(new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }))), 'a message');
}

test('parseSubprotocols keeps the client order and drops blanks', () => {
  assert.deepEqual(parseSubprotocols(' wamp.2.cbor, wamp.2.json ,,'), ['wamp.2.cbor', 'wamp.2.json']);
  assert.deepEqual(parseSubprotocols(undefined), []);
});

test('an upgrade offering no supported subprotocol is refused with HTTP 400 and counted', async () => {
  await withServer({}, async (server, port) => {
    assert.equal(await refusedStatus(`ws://127.0.0.1:${port}/ws`, ['wamp.2.ubjson', 'mqtt']), 400);
    assert.equal(await refusedStatus(`ws://127.0.0.1:${port}/ws`, []), 400);
    assert.equal(server.stats.transportErrors, 2);
    assert.equal(server.stats.accepted, 0);
    await freshClientWorks(port);
  });
});

test("the first subprotocol in the client's order that we speak is chosen", async () => {
  await withServer({}, async (_server, port, echo) => {
    const ws = await openRaw(`ws://127.0.0.1:${port}/ws`, ['wamp.2.ubjson', 'wamp.2.msgpack', 'wamp.2.json']);
    assert.equal(ws.protocol, 'wamp.2.msgpack');
    assert.equal(echo.peers[0]?.transport.serializer, 'msgpack');
    ws.close();
  });
});

test('a listener restricted to some serializers refuses the others', async () => {
  await withServer({ serializers: [json] }, async (_server, port) => {
    assert.equal(await refusedStatus(`ws://127.0.0.1:${port}/ws`, ['wamp.2.cbor']), 400);
    const client = await connectWebSocket({ url: `ws://127.0.0.1:${port}/ws`, serializer: json });
    await assertEchoRoundTrip(client);
  });
});

test('an upgrade on another path is refused with 404; plain HTTP gets 426', async () => {
  await withServer({}, async (server, port) => {
    assert.equal(await refusedStatus(`ws://127.0.0.1:${port}/other`, ['wamp.2.json']), 404);
    const status = await within(
      new Promise<number>((resolve, reject) =>
        http
          .get(`http://127.0.0.1:${port}/`, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject),
      ),
      'a plain HTTP answer',
    );
    assert.equal(status, 426);
    assert.equal(server.stats.transportErrors, 1);
    await freshClientWorks(port);
  });
});

test('a custom path is served', async () => {
  await withServer({ path: '/wamp' }, async (_server, port) => {
    await freshClientWorks(port, '/wamp');
  });
});

test('JSON clients may send text or binary frames; JSON goes out as text, CBOR as binary', async () => {
  await withServer({}, async (_server, port) => {
    const ws = await openRaw(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    const publish = '[16,1,{},"com.example.t",["a"]]';
    ws.send(publish);
    const first = await nextMessage(ws);
    assert.equal(first.isBinary, false);
    assert.deepEqual(JSON.parse(first.data.toString()), JSON.parse(publish));
    ws.send(Buffer.from(publish), { binary: true });
    const second = await nextMessage(ws);
    assert.equal(second.isBinary, false);
    assert.deepEqual(JSON.parse(second.data.toString()), JSON.parse(publish));
    ws.close();

    const bin = await openRaw(`ws://127.0.0.1:${port}/ws`, ['wamp.2.cbor']);
    bin.send(cbor.encode([16, 1, {}, 'com.example.t', ['a']]));
    const third = await nextMessage(bin);
    assert.equal(third.isBinary, true);
    assert.deepEqual(cbor.decode(third.data), [16, 1, {}, 'com.example.t', ['a']]);
    bin.close();
  });
});

test('a message over hardMaxMessageBytes closes the connection with 1009 and is counted', async () => {
  await withServer({ limits: { maxMessageBytes: 1024, hardMaxMessageBytes: 1024 } }, async (server, port, echo) => {
    const ws = await openRaw(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    const closed = within(new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code))), 'the close');
    ws.on('error', () => undefined);
    ws.send(JSON.stringify([16, 1, {}, 'com.example.t', ['x'.repeat(2048)]]));
    assert.equal(await closed, 1009);
    await echo.closed(0);
    assert.equal(server.stats.transportErrors, 1);
    // The client sees the close frame before the server's socket is gone (on Node 24 the
    // server's 'close' comes a tick later): wait for it instead of assuming an order.
    await until(() => server.stats.active === 0, 'the server to release the connection (stats.active 0)');
    await freshClientWorks(port);
  });
});

test('a malformed message is a protocol violation for the session, not a transport error', async () => {
  await withServer({}, async (server, port, echo) => {
    const ws = await openRaw(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']);
    ws.send('{not json');
    assert.match(await echo.closed(0), /protocol violation/);
    assert.equal(server.stats.transportErrors, 0);
    await freshClientWorks(port);
  });
});

test('a connection that never sends its upgrade is closed after handshakeTimeoutMs and counted', async () => {
  await withServer({ limits: { handshakeTimeoutMs: 150 } }, async (server, port) => {
    const raw = await rawConnect({ port });
    raw.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\n');
    await raw.closed;
    assert.equal(server.stats.transportErrors, 1);
    await freshClientWorks(port);
  });
});

test('a client that stops answering pings is closed after the keepalive timeout and counted', async () => {
  await withServer({ limits: { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 100 } }, async (server, port, echo) => {
    // autoPong off: this client is alive at the TCP level but deaf to pings.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json'], { autoPong: false });
    ws.on('error', () => undefined);
    const pinged = within(new Promise<void>((resolve) => ws.once('ping', () => resolve())), 'a ping');
    const closed = within(new Promise<void>((resolve) => ws.once('close', () => resolve())), 'the close');
    await pinged;
    await closed;
    assert.match(await echo.closed(0), /keepalive/);
    assert.equal(server.stats.transportErrors, 1);
    await freshClientWorks(port);
  });
});

test('beyond maxConnections the upgrade is refused with 503', async () => {
  await withServer({ maxConnections: 1 }, async (_server, port, echo) => {
    const first = await connectWebSocket({ url: `ws://127.0.0.1:${port}/ws`, serializer: json });
    assert.equal(await refusedStatus(`ws://127.0.0.1:${port}/ws`, ['wamp.2.json']), 503);
    first.close();
    await echo.closed(0);
    await freshClientWorks(port);
  });
});

test('our client rejects when the server refuses the upgrade', async () => {
  await withServer({ serializers: [json] }, async (_server, port) => {
    await assert.rejects(connectWebSocket({ url: `ws://127.0.0.1:${port}/ws`, serializer: cbor }), /400/);
  });
});

test('a shared http.Server keeps serving its own requests beside the WebSocket endpoint', async () => {
  const httpServer = http.createServer((_req, res) => res.end('status ok'));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const echo = new EchoSide();
  const server = await startWebSocketServer({ name: 'shared', server: httpServer, onPeer: echo.onPeer });
  try {
    const { port } = server.address() as { port: number };
    const body = await within(
      new Promise<string>((resolve, reject) =>
        http
          .get(`http://127.0.0.1:${port}/status`, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          })
          .on('error', reject),
      ),
      'the status page',
    );
    assert.equal(body, 'status ok');
    await freshClientWorks(port);
    await server.close();
    assert.equal(httpServer.listening, true, 'the owner closes its own server');
  } finally {
    await server.close();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  }
});
