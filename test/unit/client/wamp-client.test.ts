// WampClient over a real RawSocket to a real router: WAMP-level liveness (the probe a router that
// cannot read RawSocket PING still answers, and dead-link detection with it), and a request that
// cannot cross the transport settling at once instead of never.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../src/core/router';
import { WampClient } from '../../../src/client/wamp-client';
import { WampError } from '../../../src/client/wamp-error';
import { startRawSocketServer } from '../../../src/transports/rawsocket/server';
import { connectRawSocket } from '../../../src/transports/rawsocket/client';
import type { TransportServer } from '../../../src/transports/transport-server';
import { cborSerializer } from '../../../src/serializers/cbor';
import type { TransportLimits } from '../../../src/transports/limits';
import { PingBlindRawSocketProxy } from '../../fixtures/ping-blind-rawsocket-proxy';
import { anonymousOnLoopback } from '../../../src/auth/anonymous';

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Bounded: a promise that never settles fails the test, naming what it waited for. */
function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function cloud(limits: Partial<TransportLimits> = {}): Promise<{ router: Router; server: TransportServer; port: number; close(): Promise<void> }> {
  const anonymous = anonymousOnLoopback();
  const router = new Router({ realms: [{ name: 'cloud' }], authenticatorFor: () => anonymous });
  const server = await startRawSocketServer({ name: 'rs', host: '127.0.0.1', port: 0, limits, onPeer: (peer) => router.attach(peer) });
  const { port } = server.address() as { port: number };
  return {
    router,
    server,
    port,
    close: async () => {
      await server.close();
      await router.close();
    },
  };
}

test('the fake ping-blind router ends a RawSocket link at the first transport PING, as Crossbar.io does', async () => {
  const c = await cloud();
  const proxy = await new PingBlindRawSocketProxy(c.port).listen();
  try {
    const peer = await connectRawSocket({ host: '127.0.0.1', port: proxy.port }, cborSerializer, { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 5000 });
    // On a busy machine the first PING may even go out before WELCOME arrives: the join then
    // fails, which is the same drop. What matters is that the PING ended the link.
    await WampClient.connect(peer, { realm: 'cloud' }).catch(() => undefined);
    await until(() => peer.closed, 'the proxy to close the link after a PING');
    assert.deepEqual(proxy.closedForLength, [0x01000004], 'PING header read as a 16 MiB + 4 length');
  } finally {
    await proxy.close();
    await c.close();
  }
});

test('WAMP-level liveness keeps a RawSocket session to a ping-blind router up and proves it alive', async () => {
  const c = await cloud();
  const proxy = await new PingBlindRawSocketProxy(c.port).listen();
  try {
    const peer = await connectRawSocket({ host: '127.0.0.1', port: proxy.port }, cborSerializer, { keepaliveIntervalMs: 0 });
    const client = await WampClient.connect(peer, { realm: 'cloud', liveness: { intervalMs: 20, timeoutMs: 1000 } });
    await client.subscribe('com.a', () => undefined);
    await until(() => client.probes.sent >= 25, '25 liveness probes');
    assert.equal(client.closed, false, `closed: ${client.closeReason}`);
    assert.deepEqual(proxy.closedForLength, []);
    assert.equal(client.probes.timeouts, 0);
    // The probe never touched the real subscription.
    const got: unknown[] = [];
    await client.subscribe('com.b', (args) => got.push(args[0]));
    await client.publish('com.b', [1], {}, { acknowledge: true, exclude_me: false });
    await until(() => got.length === 1, 'the event on the session that was probed');
    await client.close();
  } finally {
    await proxy.close();
    await c.close();
  }
});

test('WAMP-level liveness closes a blackholed link (no FIN, no RST) once a probe goes unanswered', async () => {
  const c = await cloud();
  const proxy = await new PingBlindRawSocketProxy(c.port).listen();
  try {
    const peer = await connectRawSocket({ host: '127.0.0.1', port: proxy.port }, cborSerializer, { keepaliveIntervalMs: 0 });
    const client = await WampClient.connect(peer, { realm: 'cloud', liveness: { intervalMs: 50, timeoutMs: 150 } });
    await sleep(200);
    assert.equal(client.closed, false);
    proxy.freeze();
    // Detection takes at most one interval plus the timeout; the bound here is generous.
    await until(() => client.closed, 'the blackholed session to be closed by liveness', 5000);
    assert.match(client.closeReason, /keepalive timeout/);
    assert.equal(client.probes.timeouts, 1);
  } finally {
    await proxy.close();
    await c.close();
  }
});

test('an acknowledged publish over the limit the router announced rejects with wampgate.error.not_sendable; the session goes on', async () => {
  // Regression: the failed send was ignored and the publish never settled, which stalled the
  // uplink's in-flight window for good.
  const c = await cloud({ maxMessageBytes: 64 * 1024, hardMaxMessageBytes: 64 * 1024 });
  try {
    const peer = await connectRawSocket({ host: '127.0.0.1', port: c.port }, cborSerializer);
    const client = await WampClient.connect(peer, { realm: 'cloud' });
    await assert.rejects(
      within(client.publish('com.big', ['x'.repeat(70 * 1024)], {}, { acknowledge: true }), 'the oversized publish to settle'),
      (err: unknown) => err instanceof WampError && err.error === 'wampgate.error.not_sendable',
    );
    await assert.rejects(
      within(client.call('com.big', ['x'.repeat(70 * 1024)]), 'the oversized call to settle'),
      (err: unknown) => err instanceof WampError && err.error === 'wampgate.error.not_sendable',
    );
    const id = await client.publish('com.small', ['x'], {}, { acknowledge: true });
    assert.equal(typeof id, 'number');
    await client.close();
  } finally {
    await c.close();
  }
});
