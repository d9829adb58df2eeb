// Every transport × every serializer: our client to our server, the server echoing, a message
// with bytes in args and kwargs must come back intact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Peer } from '../../../src/protocol/peer';
import { serializers, type Serializer } from '../../../src/serializers';
import { connectRawSocket } from '../../../src/transports/rawsocket/client';
import { startRawSocketServer } from '../../../src/transports/rawsocket/server';
import type { TransportServer } from '../../../src/transports/transport-server';
import { connectWebSocket } from '../../../src/transports/websocket/client';
import { startWebSocketServer } from '../../../src/transports/websocket/server';
import { assertEchoRoundTrip, collect, EchoSide, tempDir, within } from './support';

interface Setup {
  server: TransportServer;
  connect(serializer: Serializer): Promise<Peer>;
  expectedPeer: RegExp;
  cleanup(): void;
}

const transports: Record<string, (echo: EchoSide) => Promise<Setup>> = {
  websocket: async (echo) => {
    const server = await startWebSocketServer({ name: 'test-listener', port: 0, onPeer: echo.onPeer });
    const { port } = server.address() as { port: number };
    return {
      server,
      connect: (serializer) => connectWebSocket({ url: `ws://127.0.0.1:${port}/ws`, serializer }),
      expectedPeer: /^127\.0\.0\.1:\d+$/,
      cleanup: () => undefined,
    };
  },
  'rawsocket-tcp': async (echo) => {
    const server = await startRawSocketServer({ name: 'test-listener', port: 0, onPeer: echo.onPeer });
    const { port } = server.address() as { port: number };
    return {
      server,
      connect: (serializer) => connectRawSocket({ host: '127.0.0.1', port }, serializer),
      expectedPeer: /^127\.0\.0\.1:\d+$/,
      cleanup: () => undefined,
    };
  },
  'rawsocket-unix': async (echo) => {
    const dir = tempDir('wampgate-unix-');
    const path = join(dir.path, 'router.sock');
    const server = await startRawSocketServer({ name: 'test-listener', path, onPeer: echo.onPeer });
    assert.deepEqual(server.address(), { path });
    return {
      server,
      connect: (serializer) => connectRawSocket({ path }, serializer),
      expectedPeer: new RegExp(`^unix:${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      cleanup: () => dir.remove(),
    };
  },
};

for (const [transport, setUp] of Object.entries(transports)) {
  for (const serializer of serializers) {
    test(`${transport}/${serializer.name}: binary args survive an echo round trip`, async () => {
      const echo = new EchoSide();
      const setup = await setUp(echo);
      try {
        const client = await setup.connect(serializer);
        await assertEchoRoundTrip(client);
        const remote = echo.peers[0];
        assert.ok(remote);
        assert.equal(remote.transport.type, transport === 'websocket' ? 'websocket' : 'rawsocket');
        assert.equal(remote.transport.serializer, serializer.name);
        assert.equal(remote.transport.listener, 'test-listener');
        assert.equal(remote.transport.loopback, true);
        assert.equal(remote.transport.tls, undefined);
        assert.match(remote.transport.peer, setup.expectedPeer);
        assert.equal(client.transport.serializer, serializer.name);
        assert.deepEqual(setup.server.stats, { accepted: 1, active: 1, transportErrors: 0 });

        client.close();
        assert.equal(typeof (await echo.closed(0)), 'string');
        assert.equal(remote.closed, true);
      } finally {
        await setup.server.close();
        setup.cleanup();
      }
    });
  }

  test(`${transport}: closing the server closes open sessions and the client hears it`, async () => {
    const echo = new EchoSide();
    const setup = await setUp(echo);
    try {
      const client = await setup.connect(serializers[0]!);
      const inbox = collect(client);
      await assertEchoRoundTrip(await setup.connect(serializers[1]!));
      await setup.server.close();
      assert.match(await within(inbox.closed, 'the client to see the close'), /.+/);
      assert.equal(client.closed, true);
      assert.equal(setup.server.stats.active, 0);
      assert.equal(setup.server.stats.accepted, 2);
    } finally {
      await setup.server.close();
      setup.cleanup();
    }
  });
}
