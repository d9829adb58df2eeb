// TLS on both network transports, with a self-signed certificate made by openssl at test time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serializerByName } from '../../../src/serializers';
import { connectRawSocket } from '../../../src/transports/rawsocket/client';
import { startRawSocketServer } from '../../../src/transports/rawsocket/server';
import { connectWebSocket } from '../../../src/transports/websocket/client';
import { startWebSocketServer } from '../../../src/transports/websocket/server';
import { assertEchoRoundTrip, EchoSide, selfSignedCert, tempDir, within } from './support';

const msgpack = serializerByName('msgpack')!;
const json = serializerByName('json')!;
let dir: ReturnType<typeof tempDir>;
let cert: { cert: string; key: string };

before(() => {
  dir = tempDir('wampgate-tls-');
  cert = selfSignedCert(dir.path);
});
after(() => dir.remove());

test('rawsocket over TLS: round trip, and the server peer reports TLS info', async () => {
  const echo = new EchoSide();
  const server = await startRawSocketServer({ name: 'rs-tls', port: 0, tls: cert, onPeer: echo.onPeer });
  try {
    const { port } = server.address() as { port: number };
    const client = await connectRawSocket({ host: '127.0.0.1', port }, msgpack, {}, { ca: cert.cert });
    await assertEchoRoundTrip(client);
    assert.deepEqual(echo.peers[0]?.transport.tls, { authorized: false });
    assert.equal(client.transport.tls?.authorized, true, 'the client verified the server against the CA');
    assert.equal(client.transport.tls?.subject?.CN, 'wampgate-test');
  } finally {
    await server.close();
  }
});

test('rawsocket over TLS: a client certificate signed by the CA is authorized and fingerprinted', async () => {
  const echo = new EchoSide();
  const server = await startRawSocketServer({
    name: 'rs-mtls',
    port: 0,
    tls: { ...cert, ca: cert.cert, requestClientCert: true },
    onPeer: echo.onPeer,
  });
  try {
    const { port } = server.address() as { port: number };
    const client = await connectRawSocket({ host: '127.0.0.1', port }, json, {}, { ca: cert.cert, cert: cert.cert, key: cert.key });
    await assertEchoRoundTrip(client);
    const info = echo.peers[0]?.transport.tls;
    assert.equal(info?.authorized, true);
    assert.equal(info?.subject?.CN, 'wampgate-test');
    assert.match(info?.fingerprint256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  } finally {
    await server.close();
  }
});

test('rawsocket over TLS: a plaintext client is a counted transport error and TLS clients still work', async () => {
  const echo = new EchoSide();
  const server = await startRawSocketServer({ name: 'rs-tls', port: 0, tls: cert, onPeer: echo.onPeer, limits: { handshakeTimeoutMs: 2_000 } });
  try {
    const { port } = server.address() as { port: number };
    await assert.rejects(connectRawSocket({ host: '127.0.0.1', port }, json, { handshakeTimeoutMs: 2_000 }));
    await within(
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (server.stats.transportErrors === 1) {
            clearInterval(poll);
            resolve();
          }
        }, 10);
      }),
      'the error to be counted',
    );
    const client = await connectRawSocket({ host: '127.0.0.1', port }, json, {}, { ca: cert.cert });
    await assertEchoRoundTrip(client);
  } finally {
    await server.close();
  }
});

test('rawsocket client refuses a server certificate it cannot verify', async () => {
  const server = await startRawSocketServer({ name: 'rs-tls', port: 0, tls: cert, onPeer: new EchoSide().onPeer });
  try {
    const { port } = server.address() as { port: number };
    await assert.rejects(connectRawSocket({ host: '127.0.0.1', port }, json, {}, {}), /self-signed|self signed|certificate/i);
  } finally {
    await server.close();
  }
});

test('websocket over TLS (wss): round trip, and the server peer reports TLS info', async () => {
  const echo = new EchoSide();
  const server = await startWebSocketServer({ name: 'wss', port: 0, tls: { ...cert, ca: cert.cert, requestClientCert: true }, onPeer: echo.onPeer });
  try {
    const { port } = server.address() as { port: number };
    const client = await connectWebSocket({ url: `wss://127.0.0.1:${port}/ws`, serializer: msgpack, tls: { ca: cert.cert, cert: cert.cert, key: cert.key } });
    await assertEchoRoundTrip(client);
    const info = echo.peers[0]?.transport.tls;
    assert.equal(info?.authorized, true);
    assert.equal(info?.subject?.CN, 'wampgate-test');
    assert.equal(client.transport.tls?.authorized, true);
  } finally {
    await server.close();
  }
});
