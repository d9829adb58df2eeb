// The uplink over RawSocket to a router that cannot read RawSocket PING (Crossbar.io reads its
// header as a 16 MiB length and closes). The "router" is a small fake: a proxy with Twisted's
// framing (test/fixtures/ping-blind-rawsocket-proxy.ts) in front of a real wampgate cloud process.
// The uplink keeps its own config defaults except a short keepalive interval, so a few seconds
// cover dozens of probes. Regression: with transport PINGs the link dropped at every interval.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WampClient } from '../../../src/client/wamp-client';
import type { Dict } from '../../../src/protocol/messages';
import { connect, freePort, startCloud, startGateway, tempDir, uplinkStatus, waitFor, type RouterProcess } from '../../fixtures/uplink-harness';
import { PingBlindRawSocketProxy } from '../../fixtures/ping-blind-rawsocket-proxy';

const dir = tempDir();
let proxy: PingBlindRawSocketProxy;
let cloud: RouterProcess;
let gateway: RouterProcess;
let local: WampClient;
let app: WampClient;

const INTERVAL_MS = 100;

before(async () => {
  const [cloudPort, rawPort, gatewayPort] = await Promise.all([freePort(), freePort(), freePort()]);
  // The gateway authenticates (ticket): a cloud lets a session take over registrations only
  // from its own principal, and anonymous sessions each get a random authid.
  cloud = await startCloud(dir.path, cloudPort, rawPort, {
    listeners: [
      { name: 'ws', type: 'websocket', host: '127.0.0.1', port: cloudPort, path: '/ws' },
      {
        name: 'raw',
        type: 'rawsocket',
        host: '127.0.0.1',
        port: rawPort,
        auth: { ticket: { principals: [{ authid: 'gw1', role: 'gateway', ticket: 's3cret' }] } },
      },
    ],
  });
  proxy = await new PingBlindRawSocketProxy(rawPort).listen();
  const uplink: Dict = {
    url: `rawsocket://127.0.0.1:${proxy.port}`,
    realm: 'cloud',
    gatewayId: 'gw1',
    auth: { authid: 'gw1', ticket: 's3cret' },
    keepalive: { intervalMs: INTERVAL_MS, timeoutMs: 300 },
    reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    forward: [
      { name: 'up', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.{gatewayId}.sensors.' },
      { name: 'rpc', direction: 'up', type: 'procedure', local: 'dev.', remote: 'site.{gatewayId}.dev.' },
    ],
  };
  gateway = await startGateway(dir.path, gatewayPort, uplink);
  [local, app] = await Promise.all([connect(gatewayPort, 'realm1'), connect(cloudPort, 'cloud')]);
  await local.register('dev.echo', (args) => args[0]);
  await waitFor('the uplink online', async () => (await uplinkStatus(local)).state === 'online');
});

after(async () => {
  await Promise.allSettled([local?.close(), app?.close()]);
  await Promise.allSettled([gateway?.stop(), cloud?.stop()]);
  await proxy?.close();
  dir.remove();
});

test('idle: dozens of keepalive intervals to a ping-blind router without a single drop', async () => {
  const before = await uplinkStatus(local);
  await new Promise((r) => setTimeout(r, 30 * INTERVAL_MS));
  const s = await uplinkStatus(local);
  assert.equal(s.state, 'online');
  assert.equal(s.connects, before.connects, 'no reconnect while idle');
  assert.deepEqual(proxy.closedForLength, [], 'the router never read a header as an oversized length');
});

test('loaded: a steady stream over many keepalive intervals arrives whole and in order on the same session', async () => {
  const before = await uplinkStatus(local);
  const got: number[] = [];
  await app.subscribe('site.gw1.sensors.t', (args) => got.push(args[0] as number));
  const total = 600;
  // ~3 s of traffic, one event every 5 ms: about 30 keepalive intervals.
  for (let i = 0; i < total; i++) {
    await local.publish('sensors.t', [i]);
    await new Promise((r) => setTimeout(r, 5));
  }
  await waitFor(`${total} events at the cloud (got ${got.length})`, () => got.length >= total);
  assert.deepEqual(
    got,
    Array.from({ length: total }, (_, i) => i),
  );
  const s = await uplinkStatus(local);
  assert.equal(s.connects, before.connects, 'no reconnect under load');
  assert.deepEqual(proxy.closedForLength, []);
});

test('a blackholed link (no FIN, no RST) is detected and the uplink reconnects', async () => {
  const before = await uplinkStatus(local);
  const frozenAt = Date.now();
  proxy.freeze();
  await waitFor('the uplink to notice the dead link', async () => (await uplinkStatus(local)).state !== 'online', 5000, 5);
  const detectedMs = Date.now() - frozenAt;
  // Bounded wait above; the figure itself is for the reader: interval + timeout at most.
  console.log(`# blackhole detected after ${detectedMs} ms (interval ${INTERVAL_MS} ms, timeout 300 ms)`);
  const s = await waitFor('the uplink online again', async () => {
    const st = await uplinkStatus(local);
    return st.state === 'online' && st;
  });
  assert.equal(s.connects, (before.connects as number) + 1);
  // The cloud (keepalive 30 s) still holds the dead session; force_reregister took its
  // registration over, so a cloud caller reaches the device now, not after the cloud notices.
  const r = await waitFor(
    'a cloud call to reach the device through the new session',
    async () => {
      try {
        return await app.call('site.gw1.dev.echo', ['hi'], {}, { timeout: 1000 });
      } catch {
        return undefined;
      }
    },
    3000,
  );
  assert.deepEqual(r.args, ['hi']);
});

test('an upward call to a procedure no device registered fails without showing the local URI', async () => {
  await assert.rejects(app.call('site.gw1.dev.missing', [], {}, { timeout: 3000 }), (err: unknown) => {
    const e = err as { error?: string; args?: unknown[] };
    assert.equal(e.error, 'wamp.error.no_such_procedure');
    const text = JSON.stringify(e.args);
    assert.match(text, /site\.gw1\.dev\.missing/);
    assert.doesNotMatch(text, /"dev\.missing|\bdev\.missing"/, `local URI leaked: ${text}`);
    assert.doesNotMatch(text.replace(/site\.gw1\.dev\.missing/g, ''), /dev\.missing/, `local URI leaked: ${text}`);
    return true;
  });
});
