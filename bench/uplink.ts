// Uplink throughput, latency and footprint, each router in its own process: the gateway is the real
// CLI (`node bin/wampgate.js start --config <tmp>` with an `uplink` section, SQLite buffer), the
// cloud is a second CLI process started only for the replay, and this process is the publisher
// (WebSocket, JSON) and the cloud-side subscriber. Measures: events/s accepted into the buffer
// while the link is down, the gateway's RSS (/proc/<pid>/status) every 50k buffered events, events/s
// replayed once the cloud is up, and the latency of a live event published every 100 ms during the
// replay (and with an empty buffer).
// Usage: node dist/bench/uplink.js [--events N | --million] [--durability full|normal|both]
//                                  [--window N] [--rate N] [--dir PATH] [--heap-snapshots]
//                                  [--order live-first|strict]  (the forwarding rule's order; default: the config default)
//                                  [--gateway-flags "--max-old-space-size=128"]

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WampClient } from '../src/client/wamp-client';
import { jsonSerializer } from '../src/serializers/json';
import { connectWebSocket } from '../src/transports/websocket/client';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const million = process.argv.includes('--million');
const events = million ? 1_000_000 : Number(flag('--events') ?? 200_000);
const durabilityFlag = flag('--durability') ?? 'both';
const durabilities = durabilityFlag === 'both' ? ['full', 'normal'] : [durabilityFlag];
/** Acknowledged publications in flight from the publisher (the pacing: the gateway is never overrun). */
const window = Number(flag('--window') ?? 1000);
/** buffer.replayRatePerSecond of the gateway (0: unlimited). */
const replayRate = Number(flag('--rate') ?? 0);
const heapSnapshots = process.argv.includes('--heap-snapshots');
/** Extra node flags for the gateway process, e.g. the systemd unit's "--max-old-space-size=128". */
const gatewayFlags = (flag('--gateway-flags') ?? '').split(' ').filter((f) => f.length > 0);
const baseDir = flag('--dir') ?? os.tmpdir();
/** The rule's `order` (live lane); undefined leaves the config default. */
const order = flag('--order');
const SAMPLE_EVERY = 50_000;
const LIVE_EVERY_MS = 100;

const repo = path.resolve(__dirname, '../..');
const MB = 1024 * 1024;
const mb = (n: number): string => `${(n / MB).toFixed(1)} MB`;
const perSec = (n: number, ms: number): string => `${Math.round((n * 1000) / ms).toLocaleString('en-US')} events/s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const k = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${Math.round(n / 1000)}k`);

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM of a process, in bytes. */
function procMem(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

interface Probe {
  mem: NodeJS.MemoryUsage;
  heap: { total: number; used: number; malloced: number; peakMalloced: number };
}

interface RouterProcess {
  proc: ChildProcess;
  pid: number;
  tail: string[];
  probe(): Promise<Probe | undefined>;
  stop(): Promise<void>;
}

/** `node [flags] bin/wampgate.js start --config FILE`, resolved at its "ready" log line. */
function startCli(configFile: string, nodeFlags: string[] = []): Promise<RouterProcess> {
  const proc = spawn(process.execPath, [...nodeFlags, 'bin/wampgate.js', 'start', '--config', configFile], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const tail: string[] = [];
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let ready = false;
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (!ready && /\[wampgate\.main\] ready\b/.test(line)) {
          ready = true;
          resolve({
            proc,
            pid: proc.pid as number,
            tail,
            probe: () =>
              new Promise((res) => {
                if (!proc.connected) return res(undefined);
                const timer = setTimeout(() => res(undefined), 2000);
                proc.once('message', (m) => {
                  clearTimeout(timer);
                  res(m as Probe);
                });
                proc.send('mem');
              }),
            stop: async () => {
              if (proc.connected) proc.disconnect();
              if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
              await exited;
            },
          });
        }
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      if (!ready) reject(new Error(`wampgate exited (${String(code)}) before ready:\n${tail.join('\n')}`));
    });
  });
}

async function connect(port: number, realm: string): Promise<WampClient> {
  const peer = await connectWebSocket({ url: `ws://127.0.0.1:${port}/ws`, serializer: jsonSerializer });
  return WampClient.connect(peer, { realm, timeoutMs: 10_000 });
}

interface Status {
  state: string;
  counters: { accepted: number; refused: number; publishedUp: number };
  outbox: { count: number; bytes: number };
  replay: { backlogAtStart: number; startedAt: number | null; finishedAt: number | null };
}
const status = async (client: WampClient): Promise<Status> => (await client.call('wampgate.uplink.status')).args[0] as Status;

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

interface Sample {
  buffered: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  fileBytes: number;
}

interface Result {
  durability: string;
  appendRate: string;
  samples: Sample[];
  rssPeakBuffering: number;
  hwmBuffering: number;
  growthAfterWarm: number;
  replayRate: string;
  rssPeakReplay: number;
  live: string;
  idle: string;
  fileMax: number;
}

const payloadPad = 'x'.repeat(88);

async function runOne(durability: string): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'wampgate-uplink-bench-'));
  const [gwPort, cloudPort] = [await freePort(), await freePort()];
  const dbPath = path.join(dir, 'data', 'uplink.sqlite');
  const gatewayConfig = path.join(dir, 'gateway.json');
  fs.writeFileSync(
    gatewayConfig,
    JSON.stringify({
      realms: [{ name: 'realm1' }],
      listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: gwPort, path: '/ws' }],
      status: { enabled: false },
      dataDir: path.join(dir, 'data'),
      log: { level: 'info' },
      uplink: {
        // Nothing listens there until the replay phase: the link is down while the buffer fills.
        url: `ws://127.0.0.1:${cloudPort}/ws`,
        realm: 'cloud',
        gatewayId: 'bench',
        reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
        statsIntervalMs: 0,
        buffer: { durability, replayRatePerSecond: replayRate, maxCount: 2_000_000, maxBytes: 1024 ** 3 },
        forward: [{ name: 'sensors', direction: 'up', type: 'event', local: 'sensors.', remote: 'site.bench.sensors.', ...(order ? { order } : {}) }],
      },
    }),
  );
  const cloudConfig = path.join(dir, 'cloud.json');
  fs.writeFileSync(
    cloudConfig,
    JSON.stringify({
      realms: [{ name: 'cloud' }],
      listeners: [{ name: 'ws', type: 'websocket', host: '127.0.0.1', port: cloudPort, path: '/ws' }],
      status: { enabled: false },
      log: { level: 'info' },
    }),
  );
  const snapDir = path.join(repo, '.bench', 'uplink-heap');
  if (heapSnapshots) fs.mkdirSync(snapDir, { recursive: true });
  const flags = [...gatewayFlags, '-r', path.join(__dirname, 'uplink-memprobe.js')];
  if (heapSnapshots) flags.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`);
  const gateway = await startCli(gatewayConfig, flags);
  let cloud: RouterProcess | undefined;
  const clients: WampClient[] = [];
  try {
    const publisher = await connect(gwPort, 'realm1');
    clients.push(publisher);
    const fileBytes = (): number => ['', '-wal'].reduce((sum, suffix) => sum + (fs.existsSync(dbPath + suffix) ? fs.statSync(dbPath + suffix).size : 0), 0);
    const snapshot = (label: string): void => {
      if (!heapSnapshots) return;
      gateway.proc.kill('SIGUSR2');
      console.error(`    heap snapshot at ${label} requested (${snapDir})`);
    };

    await sleep(1000);
    const samples: Sample[] = [];
    let rssPeak = 0;
    const sample = async (buffered: number): Promise<void> => {
      const { rss } = procMem(gateway.pid);
      const p = await gateway.probe();
      rssPeak = Math.max(rssPeak, rss);
      const s = {
        buffered,
        rss,
        heapUsed: p?.mem.heapUsed ?? NaN,
        heapTotal: p?.mem.heapTotal ?? NaN,
        external: p?.mem.external ?? NaN,
        arrayBuffers: p?.mem.arrayBuffers ?? NaN,
        fileBytes: fileBytes(),
      };
      samples.push(s);
      console.error(
        `    ${k(buffered).padStart(5)} buffered: RSS ${mb(s.rss)} = V8 heap ${mb(s.heapTotal)} (used ${mb(s.heapUsed)}) + external ${mb(s.external)} + rest ${mb(s.rss - s.heapTotal - s.external)}; file+wal ${mb(s.fileBytes)}`,
      );
    };
    await sample(0);
    snapshot('0');

    // 1. append while the link is down
    let inflight = 0;
    let drained: (() => void) | undefined;
    let failed: unknown;
    const settle = (): void => {
      inflight--;
      if (drained && inflight <= window / 2) {
        const d = drained;
        drained = undefined;
        d();
      }
    };
    const t0 = performance.now();
    for (let i = 1; i <= events; i++) {
      inflight++;
      publisher.publish('sensors.temp', [i, payloadPad], undefined, { acknowledge: true }).then(settle, (err: unknown) => {
        failed = err;
        settle();
      });
      if (inflight >= window) await new Promise<void>((r) => (drained = r));
      if (i % SAMPLE_EVERY === 0 || i === events) {
        await until('acks', () => inflight === 0);
        if (failed) throw failed;
        await until('accepted', async () => (await status(publisher)).counters.accepted >= i);
        await sample(i);
        if (i === SAMPLE_EVERY && i !== events) snapshot(k(i));
      }
    }
    const appendMs = performance.now() - t0;
    snapshot(k(events));
    const afterAppend = await status(publisher);
    if (afterAppend.counters.refused > 0 || afterAppend.outbox.count !== events) {
      throw new Error(`buffer holds ${afterAppend.outbox.count} of ${events} (refused ${afterAppend.counters.refused})`);
    }
    const hwmBuffering = procMem(gateway.pid).hwm;
    const warm = samples.find((s) => s.buffered === SAMPLE_EVERY) ?? samples[0];
    const growthAfterWarm = Math.max(...samples.filter((s) => s.buffered >= (warm?.buffered ?? 0)).map((s) => s.rss)) - (warm?.rss ?? 0);
    const fileMax = Math.max(...samples.map((s) => s.fileBytes));

    // 2. the cloud comes up: replay, a live event every 100 ms meanwhile
    cloud = await startCli(cloudConfig);
    const receiver = await connect(cloudPort, 'cloud');
    clients.push(receiver);
    const latencies: number[] = [];
    await receiver.subscribe('site.bench.sensors.live', (args) => {
      latencies.push(performance.now() - (args[0] as number));
    });
    let live = 0;
    let st = await status(publisher);
    await until('the uplink online', async () => (st = await status(publisher)).state === 'online', 30_000, 5);
    const liveTimer = setInterval(() => {
      live++;
      publisher.publish('sensors.live', [performance.now()]).catch(() => undefined);
    }, LIVE_EVERY_MS);
    let rssPeakReplay = 0;
    await until(
      'the replay',
      async () => {
        rssPeakReplay = Math.max(rssPeakReplay, procMem(gateway.pid).rss);
        st = await status(publisher);
        return st.replay.finishedAt !== null && st.replay.startedAt !== null;
      },
      600_000,
      100,
    );
    clearInterval(liveTimer);
    const replayMs = (st.replay.finishedAt as number) - (st.replay.startedAt as number);
    await until('the live events', () => latencies.length >= live, 60_000);
    const during = [...latencies].sort((a, b) => a - b);
    rssPeakReplay = Math.max(rssPeakReplay, procMem(gateway.pid).rss);
    console.error(`    replay done: ${st.replay.backlogAtStart} in ${replayMs} ms; RSS peak during replay ${mb(rssPeakReplay)}`);

    // 3. live latency with an empty buffer
    await until('an empty buffer', async () => (await status(publisher)).outbox.count === 0, 30_000);
    latencies.length = 0;
    for (let i = 0; i < 200; i++) {
      publisher.publish('sensors.live', [performance.now()]).catch(() => undefined);
      await sleep(10);
    }
    await until('the idle live events', () => latencies.length >= 200, 30_000);
    const idle = [...latencies].sort((a, b) => a - b);

    return {
      durability,
      appendRate: perSec(events, appendMs),
      samples,
      rssPeakBuffering: rssPeak,
      hwmBuffering,
      growthAfterWarm,
      replayRate: `${perSec(st.replay.backlogAtStart, replayMs)} (${k(st.replay.backlogAtStart)} in ${(replayMs / 1000).toFixed(1)} s)`,
      rssPeakReplay,
      live: `${during.length} events: p50 ${percentile(during, 50).toFixed(0)} ms, p90 ${percentile(during, 90).toFixed(0)} ms, p99 ${percentile(during, 99).toFixed(0)} ms, max ${percentile(during, 100).toFixed(0)} ms`,
      idle: `p50 ${percentile(idle, 50).toFixed(2)} ms, p99 ${percentile(idle, 99).toFixed(2)} ms`,
      fileMax,
    };
  } catch (err) {
    console.error(`gateway output (last lines):\n${gateway.tail.join('\n')}`);
    throw err;
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await cloud?.stop();
    await gateway.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.error(
    `uplink bench: ${events.toLocaleString('en-US')} events of ~100 bytes, durability ${durabilities.join(' + ')}, publisher window ${window}, ` +
      `replay rate ${replayRate || 'unlimited'}, gateway node flags ${gatewayFlags.join(' ') || 'none'}; gateway, cloud and publisher in separate processes; ${os.cpus().length} cores, node ${process.version}`,
  );
  const results: Result[] = [];
  for (const d of durabilities) {
    console.error(`  durability ${d}:`);
    results.push(await runOne(d));
  }
  const marks = [0, 50_000, 100_000, 200_000, 500_000, 1_000_000].filter((n) => n <= events);
  if (!marks.includes(events)) marks.push(events);
  const cols = results.map((r) => `durability ${r.durability}`);
  const lines: Array<[string, ...string[]]> = [];
  const add = (what: string, f: (r: Result) => string): void => void lines.push([what, ...results.map(f)]);
  add('append, link down', (r) => r.appendRate);
  for (const n of marks) {
    add(`gateway RSS, ${k(n)} buffered`, (r) => {
      const s = r.samples.find((x) => x.buffered === n);
      return s ? `${mb(s.rss)} (heap ${mb(s.heapUsed)})` : '-';
    });
  }
  add('gateway RSS peak while buffering', (r) => `${mb(r.rssPeakBuffering)} (VmHWM ${mb(r.hwmBuffering)})`);
  add(`RSS growth after ${k(SAMPLE_EVERY)}`, (r) => `+${mb(r.growthAfterWarm)}${r.growthAfterWarm <= 20 * MB ? ' (flat, ≤ 20 MB)' : ' (NOT flat)'}`);
  add('buffer file + WAL, max', (r) => mb(r.fileMax));
  add('replay, link up', (r) => r.replayRate);
  add('gateway RSS peak during replay', (r) => mb(r.rssPeakReplay));
  add(`live latency during replay (1 per ${LIVE_EVERY_MS} ms)`, (r) => r.live);
  add('live latency, empty buffer', (r) => r.idle);
  const width = Math.max(...lines.map((l) => l[0].length));
  console.log(`\nuplink (${events.toLocaleString('en-US')} events)`);
  console.log(`  ${''.padEnd(width)}  ${cols.join(' | ')}`);
  for (const [what, ...values] of lines) console.log(`  ${what.padEnd(width)}  ${values.join(' | ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
