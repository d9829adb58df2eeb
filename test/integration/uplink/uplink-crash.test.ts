// The gateway process SIGKILLed while the uplink buffers and while it replays: after a restart
// nothing that was accepted is lost, order holds, and duplicates stay within the in-flight window.
// Also: a corrupt buffer file is moved aside with a loud log line and the uplink carries on.
// The link here is RawSocket with msgpack (the other uplink tests use WebSocket with cbor).

import assert from 'node:assert/strict';
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { WampClient } from '../../../src/client/wamp-client';
import type { Dict } from '../../../src/protocol/messages';
import { connect, freePort, LinkGate, startCloud, startGateway, tempDir, uplinkStatus, waitFor, type RouterProcess } from '../../fixtures/uplink-harness';

const WINDOW = 100;
const dir = tempDir();
let cloudPort = 0;
let cloudRawPort = 0;
let gate: LinkGate;
let cloud: RouterProcess;
let cloudClient: WampClient;

before(async () => {
  [cloudPort, cloudRawPort] = await Promise.all([freePort(), freePort()]);
  gate = await new LinkGate(cloudRawPort).listen();
  cloud = await startCloud(dir.path, cloudPort, cloudRawPort);
  cloudClient = await connect(cloudPort, 'cloud');
});

after(async () => {
  await cloudClient?.close().catch(() => undefined);
  await cloud?.stop();
  await gate?.shutdown();
  dir.remove();
});

function uplinkConfig(gatewayId: string, replayRatePerSecond = 0): Dict {
  return {
    url: `rawsocket://127.0.0.1:${gate.port}`,
    serializer: 'msgpack',
    realm: 'cloud',
    gatewayId,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    statsIntervalMs: 0,
    buffer: { path: `${gatewayId}.sqlite`, inflightWindow: WINDOW, replayRatePerSecond },
    // strict: these tests assert one gap-free sequence, and their end-of-test sentinel must arrive
    // after the backlog (with live-first it would overtake the replay and end the wait early).
    forward: [{ name: 'up', direction: 'up', type: 'event', local: 'data.', remote: `site.${gatewayId}.data.`, order: 'strict' }],
  };
}

async function record(topic: string): Promise<unknown[]> {
  const got: unknown[] = [];
  await cloudClient.subscribe(topic, (args) => got.push(args[0]), { match: 'prefix' });
  return got;
}

/** Publishes 0, 1, 2 … in small chunks until the connection goes (the process was killed). */
function publishUntilClosed(client: WampClient): Promise<number> {
  return (async () => {
    let i = 0;
    try {
      for (;;) {
        for (let k = 0; k < 20; k++) await client.publish('data.n', [i++]);
        await new Promise((r) => setImmediate(r));
        if (client.closed) return i;
      }
    } catch {
      return i;
    }
  })();
}

/** Values with duplicates removed keep their first position; returns them and the duplicate count. */
function firstOccurrences(values: unknown[]): { unique: number[]; duplicates: number } {
  const seen = new Set<number>();
  const unique: number[] = [];
  for (const v of values) {
    if (typeof v !== 'number') continue;
    if (seen.has(v)) continue;
    seen.add(v);
    unique.push(v);
  }
  return { unique, duplicates: values.filter((v) => typeof v === 'number').length - unique.length };
}

async function sentinel(gatewayPort: number, got: unknown[]): Promise<void> {
  const local = await connect(gatewayPort, 'realm1');
  await local.publish('data.end', ['end']);
  await waitFor('the sentinel upstream', () => got.includes('end'), 30_000);
  await local.close();
}

test('SIGKILL while buffering: every accepted event arrives after the restart, in order', async () => {
  const port = await freePort();
  const got = await record('site.gwa.data.');
  gate.close();
  let gw = await startGateway(dir.path, port, uplinkConfig('gwa'));
  const publisher = await connect(port, 'realm1');
  const watcher = await connect(port, 'realm1');
  const publishing = publishUntilClosed(publisher);
  const accepted = await waitFor('300 events accepted', async () => {
    const s = await uplinkStatus(watcher);
    return s.counters.accepted >= 300 ? s.counters.accepted : undefined;
  });
  await gw.kill();
  const published = await publishing;
  assert.ok(published > accepted);

  gate.open();
  gw = await startGateway(dir.path, port, uplinkConfig('gwa'));
  await sentinel(port, got);
  await gw.stop();
  const { unique, duplicates } = firstOccurrences(got);
  assert.ok(unique.length >= accepted, `all ${accepted} accepted events arrived (got ${unique.length})`);
  assert.deepEqual(
    unique,
    Array.from({ length: unique.length }, (_, i) => i),
    'a gap-free prefix, in order',
  );
  assert.ok(duplicates <= WINDOW, `duplicates ${duplicates} within the window`);
});

test('SIGKILL while replaying: the rest is replayed after the restart, in order, duplicates within the window', async () => {
  const N = 1500;
  const port = await freePort();
  const got = await record('site.gwb.data.');
  gate.close();
  let gw = await startGateway(dir.path, port, uplinkConfig('gwb', 1500));
  const local = await connect(port, 'realm1');
  for (let i = 0; i < N; i++) await local.publish('data.n', [i]);
  await waitFor('all buffered', async () => (await uplinkStatus(local)).counters.accepted === N);
  await local.close();
  gate.open();
  await waitFor('the replay under way', () => got.length >= 300);
  await gw.kill();
  const before = got.length;
  assert.ok(before < N, 'killed before the replay finished');

  gw = await startGateway(dir.path, port, uplinkConfig('gwb', 1500));
  await sentinel(port, got);
  await gw.stop();
  const { unique, duplicates } = firstOccurrences(got);
  assert.deepEqual(
    unique,
    Array.from({ length: N }, (_, i) => i),
    'all N, in order',
  );
  assert.ok(duplicates <= WINDOW, `duplicates ${duplicates} within the window`);
});

test('a corrupt buffer file is moved aside with a loud log line, and a fresh one is started', async () => {
  const port = await freePort();
  const data = join(dir.path, 'data');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, 'gwc.sqlite'), Buffer.alloc(64 * 1024, 'this is not an SQLite database '));
  const got = await record('site.gwc.data.');
  const gw = await startGateway(dir.path, port, uplinkConfig('gwc'));
  try {
    assert.ok(
      gw.output.some((l) => /ERROR .*outbox database is corrupt: moved aside/.test(l)),
      `a loud log line; got:\n${gw.output.join('\n')}`,
    );
    assert.ok(
      readdirSync(data).some((f) => f.startsWith('gwc.sqlite.corrupt-')),
      'the corrupt file kept beside the new one',
    );
    await sentinel(port, got);
  } finally {
    await gw.stop();
  }
});
