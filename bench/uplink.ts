// Uplink throughput, latency and footprint, with a real SQLite buffer and a real cloud router over
// WebSocket (both routers in this process): events/s appended while the link is down, events/s
// replayed after it comes up, live-event latency during a replay, and RSS while events are buffered.
// Usage: node dist/bench/uplink.js [--events N] [--million] [--durability full|normal] [--rate N] [--dir PATH]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WampClient } from '../src/client/wamp-client';
import { Router } from '../src/core/router';
import { validateConfig } from '../src/config/schema';
import { Gateway } from '../src/gateway';
import { cborSerializer } from '../src/serializers/cbor';
import { createLocalPair } from '../src/transports/local';
import { connectWebSocket } from '../src/transports/websocket/client';
import { quietLogger } from '../src/util/logger';
import { SqliteOutbox, type SqliteDurability } from '../src/uplink/sqlite-outbox';
import { Uplink } from '../src/uplink/uplink';
import { resolveUplinkConfig } from '../src/uplink/uplink-config';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const million = process.argv.includes('--million');
const events = million ? 1_000_000 : Number(flag('--events') ?? 50_000);
const durability = (flag('--durability') ?? 'full') as SqliteDurability;
const rate = Number(flag('--rate') ?? 0);
const dir = fs.mkdtempSync(path.join(flag('--dir') ?? os.tmpdir(), 'wampgate-uplink-bench-'));
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
const perSec = (n: number, ms: number): string => `${Math.round((n * 1000) / ms).toLocaleString('en-US')} events/s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean): Promise<void> => {
  while (!cond()) await sleep(5);
};
const rows: Array<[string, string]> = [];
const row = (what: string, value: string): void => {
  rows.push([what, value]);
  console.error(`  ${what}: ${value}`);
};

async function localClient(router: Router, realm: string): Promise<WampClient> {
  const pair = createLocalPair('bench');
  router.attach(pair.routerSide);
  return WampClient.connect(pair.clientSide, { realm });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

async function main(): Promise<void> {
  const { config: cloudConfig } = validateConfig({ realms: [{ name: 'cloud' }], listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: 0 }] });
  if (!cloudConfig) throw new Error('bad cloud config');
  const cloud = await Gateway.start(cloudConfig, { logger: quietLogger });
  const address = cloud.listeners[0]?.address;
  if (!address || !('port' in address)) throw new Error('no cloud port');

  const router = new Router({ realms: [{ name: 'realm1' }], logger: quietLogger });
  await router.ready();
  const config = resolveUplinkConfig(
    {
      url: `ws://127.0.0.1:${address.port}/ws`,
      realm: 'cloud',
      gatewayId: 'bench',
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      statsIntervalMs: 0,
      buffer: { durability, replayRatePerSecond: rate, maxCount: 2_000_000, maxBytes: 1024 ** 3 },
      forward: [{ name: 'sensors', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.bench.sensors.' }],
    },
    { dataDir: dir, firstRealm: 'realm1', maxMessageBytes: 1 << 20, hostname: 'bench' },
  );
  let linkAllowed = false;
  const outbox = new SqliteOutbox({ path: config.buffer.path, durability, maxCount: config.buffer.maxCount, maxBytes: config.buffer.maxBytes });
  const uplink = new Uplink(config, {
    router,
    outbox,
    connect: () => (linkAllowed ? connectWebSocket({ url: config.url, serializer: cborSerializer }) : Promise.reject(new Error('link held down by the bench'))),
  });
  await uplink.start();
  const publisher = await localClient(router, 'realm1');
  const receiver = await localClient(cloud.router, 'cloud');
  let received = 0;
  const latencies: number[] = [];
  await receiver.subscribe(
    'site.bench.sensors.',
    (args) => {
      received++;
      if (args[0] === 'live') latencies.push(performance.now() - (args[1] as number));
    },
    { match: 'prefix' },
  );
  const payload = (i: number): [unknown[], Record<string, unknown>] => [[i, 21.5 + (i % 10) / 10], { unit: 'degC', id: 'probe-0042' }];

  console.error(
    `uplink bench: ${events.toLocaleString('en-US')} events, durability ${durability}, replay rate ${rate || 'unlimited'}, ${os.cpus().length} cores, node ${process.version}`,
  );

  // 1. append while the link is down (and RSS while the buffer grows)
  for (let i = 0; i < 5000; i++) await publisher.publish('sensors.temp', ...payload(i));
  await until(() => uplink.status().counters.accepted >= 5000);
  global.gc?.();
  const rssBase = process.memoryUsage().rss;
  let rssMax = rssBase;
  // After the first ~10 % the heap and SQLite's page cache have reached their working size; growth
  // from there on is what would scale with the buffer.
  const warmAt = Math.min(100_000, Math.floor(events / 10));
  let rssWarm = 0;
  const samples: string[] = [];
  const t0 = performance.now();
  const total = 5000 + events;
  for (let i = 5000; i < total; i++) {
    await publisher.publish('sensors.temp', ...payload(i));
    // Let the uplink's per-turn batch run: the publisher would otherwise queue everything in memory.
    if (i % 1000 === 0) {
      await new Promise((r) => setImmediate(r));
      if (i % 50_000 === 0) {
        const rss = process.memoryUsage().rss;
        rssMax = Math.max(rssMax, rss);
        if (rssWarm === 0 && i - 5000 >= warmAt) rssWarm = rss;
        samples.push(`${Math.round(i / 1000)}k:${(rss / 1024 / 1024).toFixed(0)}`);
      }
    }
  }
  await until(() => uplink.status().counters.accepted >= total);
  const appendMs = performance.now() - t0;
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
  row('append (link down)', perSec(events, appendMs));
  const rssEnd = process.memoryUsage().rss;
  const warm = rssWarm || rssBase;
  row(
    'RSS while buffering',
    `${mb(rssBase)} at 5k, ${mb(warm)} at ${Math.round((warmAt + 5000) / 1000)}k, ${mb(rssEnd)} at ${Math.round(total / 1000)}k buffered; max ${mb(rssMax)}`,
  );
  row(
    'RSS growth',
    `+${mb(rssMax - warm)} from ${Math.round((warmAt + 5000) / 1000)}k to ${Math.round(total / 1000)}k (+${mb(rssMax - rssBase)} from 5k)${rssMax - warm <= 20 * 1024 * 1024 ? ' — flat (≤ 20 MB)' : ' — NOT flat'}`,
  );
  if (samples.length > 0) row('RSS samples (events:MB)', samples.join(' '));
  row('buffer file', mb(fs.statSync(config.buffer.path).size));

  // 2. replay, with live events during it
  linkAllowed = true;
  const t1 = performance.now();
  let live = 0;
  const liveTimer = setInterval(() => {
    live++;
    publisher.publish('sensors.live', ['live', performance.now()]).catch(() => undefined);
  }, 50);
  await until(() => uplink.status().replay.finishedAt !== null && uplink.status().replay.startedAt !== null);
  const replayMs = performance.now() - t1;
  clearInterval(liveTimer);
  await until(() => received >= total + live);
  row('replay (link up)', perSec(total, replayMs));
  const sorted = [...latencies].sort((a, b) => a - b);
  row(
    'live latency during replay',
    `${live} events: p50 ${percentile(sorted, 50).toFixed(0)} ms, max ${percentile(sorted, 100).toFixed(0)} ms (they queue behind the backlog)`,
  );

  // 3. live latency with an empty buffer
  latencies.length = 0;
  for (let i = 0; i < 200; i++) {
    await publisher.publish('sensors.live', ['live', performance.now()]);
    await sleep(2);
  }
  await until(() => latencies.length >= 200);
  const idle = [...latencies].sort((a, b) => a - b);
  row('live latency, empty buffer', `p50 ${percentile(idle, 50).toFixed(2)} ms, p99 ${percentile(idle, 99).toFixed(2)} ms`);

  await publisher.close();
  await receiver.close();
  await uplink.stop();
  await router.close();
  await cloud.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('\nuplink');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(30)} ${v}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
