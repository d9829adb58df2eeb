// Regression: a RESULT larger than the maximum message length a RawSocket client announced in
// its handshake used to vanish (the transport may not send it), leaving the call hanging. The
// caller must get ERROR wamp.error.payload_size_exceeded and its session must go on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../src/core/router';
import { WampClient } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import { createLocalPair } from '../../../src/transports/local';
import { startRawSocketServer } from '../../../src/transports/rawsocket/server';
import { connectRawSocket } from '../../../src/transports/rawsocket/client';
import { cborSerializer } from '../../../src/serializers/cbor';
import { anonymousOnLoopback } from '../../../src/auth/anonymous';
import { within } from './support';

test("a result over the RawSocket caller's announced max length → ERROR wamp.error.payload_size_exceeded; smaller results still arrive", async () => {
  const anonymous = anonymousOnLoopback();
  const router = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymous });
  const server = await startRawSocketServer({ name: 'rs', host: '127.0.0.1', port: 0, onPeer: (peer) => router.attach(peer) });
  const pair = createLocalPair('callee');
  router.attach(pair.routerSide);
  const callee = await WampClient.connect(pair.clientSide, { realm: 'realm1' });
  await callee.register('com.blob', (args) => 'x'.repeat(args[0] as number));
  const { port } = server.address() as { port: number };
  // The client announces it accepts messages up to 1 KiB.
  const peer = await connectRawSocket({ host: '127.0.0.1', port }, cborSerializer, { maxMessageBytes: 1024 });
  const caller = await WampClient.connect(peer, { realm: 'realm1' });
  try {
    await assert.rejects(
      within(caller.call('com.blob', [4096]), "the ERROR for a result over the caller's limit"),
      (err: unknown) => err instanceof WampError && err.error === 'wamp.error.payload_size_exceeded',
    );
    const small = await within(caller.call('com.blob', [100]), 'a small result');
    assert.equal((small.args[0] as string).length, 100);
    assert.equal(router.stats.messagesTooLarge, 1);
  } finally {
    await caller.close();
    await callee.close();
    await server.close();
    await router.close();
  }
});

test("a callee's YIELD over the router's announced max length → the caller gets ERROR wamp.error.payload_size_exceeded with both sizes, not a timeout", async () => {
  const anonymous = anonymousOnLoopback();
  const router = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymous });
  // The router announces 4 KiB in its handshake reply: a larger YIELD may not be sent to it.
  const limits = { maxMessageBytes: 4096, hardMaxMessageBytes: 4096, preAuthMaxMessageBytes: 2048 };
  const server = await startRawSocketServer({ name: 'rs', host: '127.0.0.1', port: 0, limits, onPeer: (peer) => router.attach(peer) });
  const { port } = server.address() as { port: number };
  const calleePeer = await connectRawSocket({ host: '127.0.0.1', port }, cborSerializer);
  const callee = await WampClient.connect(calleePeer, { realm: 'realm1' });
  await callee.register('com.blob', (args) => 'x'.repeat(args[0] as number));
  const pair = createLocalPair('caller');
  router.attach(pair.routerSide);
  const caller = await WampClient.connect(pair.clientSide, { realm: 'realm1' });
  try {
    let refused: WampError | undefined;
    await assert.rejects(within(caller.call('com.blob', [8192]), "the ERROR for a YIELD over the router's limit"), (err: unknown) => {
      refused = err as WampError;
      return err instanceof WampError && err.error === 'wamp.error.payload_size_exceeded';
    });
    assert.equal(refused?.kwargs.limit_bytes, 4096, 'the limit the router announced');
    assert.ok((refused?.kwargs.message_bytes as number) > 8192, 'the size of the refused YIELD');
    assert.equal(((await within(caller.call('com.blob', [100]), 'a small result')).args[0] as string).length, 100, 'the callee goes on answering');
  } finally {
    await caller.close();
    await callee.close();
    await server.close();
    await router.close();
  }
});
