// Event history benchmark (issue 12): router CPU per 100k events 1→1 with a history rule on the
// topic against the same router without one, back to back per round (alternating which goes
// first, so a shared machine disturbs both alike); the growth of history.sqlite per 100k stored
// events; the router's RSS after each run. The router runs as its own process (the real CLI);
// the publisher and subscriber run in one forked worker process (this file, "client").
//
//   node dist/bench/history.js [--rounds N (5)] [--count N (200000)] [--bytes N] [--topics N] [--quick] [--cpu-prof DIR]
//
// --cpu-prof writes a V8 CPU profile of each router process (node --cpu-prof) into DIR/off and
// DIR/on (read them with dist/bench/core/profile-summary.js); profiling slows the router, so
// figures from such a run are not for comparison.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { serializerByName, type Serializer } from '../src/serializers';
import { freePort, processCpuMs, processMemory, waitForPort } from './core/common';

const PREFIX = 'bench.history.';

interface Job {
  url: string;
  count: number;
  bytes: number;
  topics: number;
  window: number;
}

function session(url: string, s: Serializer): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, s.subprotocol, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(s.encode([1, 'realm1', { roles: { publisher: {}, subscriber: {} } }]), { binary: s.binary });
      ws.once('message', () => resolve(ws));
    });
  });
}

/** Publishes `count` events over `topics` topics under PREFIX, a subscriber (prefix) receives
 * them all; at most `window` in flight so neither side's queue limits drop anything. */
async function runJob(job: Job): Promise<{ delivered: number; ms: number }> {
  const json = serializerByName('json') as Serializer;
  const sub = await session(job.url, json);
  await new Promise<void>((resolve) => {
    sub.once('message', () => resolve());
    sub.send(json.encode([32, 1, { match: 'prefix' }, PREFIX]));
  });
  const pub = await session(job.url, json);
  const payload = 'x'.repeat(Math.max(1, job.bytes - 20));
  const frames = Array.from({ length: job.topics }, (_, i) => json.encode([16, 1, {}, `${PREFIX}t${i}`, [payload, i]]));
  let received = 0;
  let published = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const kick = (): void => {
    while (published < job.count && published < received + job.window) {
      pub.send(frames[published % job.topics] as Buffer);
      published++;
    }
  };
  sub.on('message', () => {
    if (++received >= job.count) resolveDone();
    else kick();
  });
  const start = Date.now();
  kick();
  await done;
  const ms = Date.now() - start;
  sub.terminate();
  pub.terminate();
  return { delivered: job.count, ms };
}

if (process.argv[2] === 'client') {
  process.on('message', (job: Job) => {
    runJob(job).then(
      (r) => process.send?.(r),
      (err: unknown) => process.send?.({ error: String(err) }),
    );
  });
}

// ---- orchestrator -------------------------------------------------------------------------

interface Router {
  child: ChildProcess;
  url: string;
  dataDir: string;
}

async function startRouter(root: string, dir: string, history: boolean, nodeArgs: string[]): Promise<Router> {
  const port = await freePort();
  const dataDir = path.join(dir, `data-${port}`);
  const file = path.join(dir, `config-${port}.json`);
  const realm: Record<string, unknown> = { name: 'realm1' };
  // Every event is kept (no count or byte eviction in the run), so the file growth is per event.
  if (history) realm.history = [{ uri: PREFIX, match: 'prefix', maxEvents: 10_000_000 }];
  writeFileSync(
    file,
    JSON.stringify({
      dataDir,
      realms: [realm],
      listeners: [{ name: 'websocket', type: 'websocket', host: '127.0.0.1', port, path: '/ws' }],
      log: { level: 'warn' },
      status: { enabled: false },
      history: { maxBytes: 4 * 1024 * 1024 * 1024 },
    }),
  );
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin', 'wampgate.js'), 'start', '--config', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 10_000);
  return { child, url: `ws://127.0.0.1:${port}/ws`, dataDir };
}

function clientRun(client: ChildProcess, job: Job): Promise<{ delivered: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('client run timed out')), 600_000);
    client.once('message', (m: { delivered: number; ms: number; error?: string }) => {
      clearTimeout(timer);
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    client.send(job);
  });
}

function fileBytes(dataDir: string): number {
  let n = 0;
  for (const f of ['history.sqlite', 'history.sqlite-wal']) {
    try {
      n += statSync(path.join(dataDir, f)).size;
    } catch {
      // absent
    }
  }
  return n;
}

const median = (l: number[]): number => [...l].sort((a, b) => a - b)[Math.floor(l.length / 2)] ?? NaN;

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const root = path.resolve(__dirname, '..', '..');
  const quick = argv.includes('--quick');
  // Enough events per run that the 10 ms CPU ticks of /proc are under 1 %, and enough rounds for
  // a median: a shared VM moves single runs by ±10 %.
  const rounds = Number(opt('--rounds') ?? (quick ? 1 : 5));
  const count = Number(opt('--count') ?? (quick ? 20_000 : 200_000));
  const bytes = Number(opt('--bytes') ?? 100);
  const topics = Number(opt('--topics') ?? 1);
  const profileDir = opt('--cpu-prof');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wampgate-history-bench-'));
  const client = fork(__filename, ['client'], { stdio: 'inherit' });
  const cpu: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const rate: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const rss: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const growth: number[] = [];
  process.stdout.write(`history bench: ${count} events 1→1, ${bytes} B JSON payload, ${topics} topic(s), ${rounds} round(s)\n`);
  try {
    for (let round = 0; round < rounds; round++) {
      const order: Array<'off' | 'on'> = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const mode of order) {
        const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir, mode)}`] : [];
        const router = await startRouter(root, dir, mode === 'on', nodeArgs);
        try {
          const job: Job = { url: router.url, count, bytes, topics, window: 1000 };
          await clientRun(client, { ...job, count: Math.max(1, Math.round(count / 10)) }); // warm-up
          await new Promise((r) => setTimeout(r, 200)); // the writer's last flush of the warm-up
          const cpu0 = processCpuMs(router.child.pid as number);
          const r = await clientRun(client, job);
          await new Promise((res) => setTimeout(res, 200)); // counts the writer's last batch too
          const used = processCpuMs(router.child.pid as number) - cpu0;
          const mem = processMemory(router.child.pid as number);
          cpu[mode].push((used / r.delivered) * 100_000);
          rate[mode].push((r.delivered / r.ms) * 1000);
          rss[mode].push(mem.rss / 1024 / 1024);
          const line = `  round ${round + 1} history ${mode}: ${Math.round((used / r.delivered) * 100_000)} ms CPU/100k, ${Math.round((r.delivered / r.ms) * 1000)} events/s, RSS ${(mem.rss / 1024 / 1024).toFixed(1)} MB`;
          process.stdout.write(line + (mode === 'on' ? '' : '\n'));
        } finally {
          router.child.kill('SIGTERM');
          await new Promise((res) => router.child.once('exit', res));
        }
        if (mode === 'on') {
          // After a clean stop SQLite has checkpointed the WAL into the file: its size is what the
          // warm-up and the run stored (each event is kept: no limit is reached in the run).
          const stored = count + Math.max(1, Math.round(count / 10));
          const g = (fileBytes(router.dataDir) / stored) * 100_000;
          growth.push(g);
          process.stdout.write(`, history.sqlite ${(g / 1024 / 1024).toFixed(2)} MiB per 100k events\n`);
        }
      }
    }
  } finally {
    client.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const off = median(cpu.off);
  const on = median(cpu.on);
  process.stdout.write(`\nmedians over ${rounds} round(s):\n`);
  process.stdout.write(`| history | router CPU ms / 100k events | events/s | RSS after run |\n| --- | --- | --- | --- |\n`);
  process.stdout.write(`| off | ${Math.round(off)} | ${Math.round(median(rate.off))} | ${median(rss.off).toFixed(1)} MB |\n`);
  process.stdout.write(`| on | ${Math.round(on)} | ${Math.round(median(rate.on))} | ${median(rss.on).toFixed(1)} MB |\n`);
  process.stdout.write(`CPU with history: ${on >= off ? '+' : ''}${(((on - off) / off) * 100).toFixed(0)}% (target ≤ +25%)\n`);
  // Each round's two runs are back to back, so their ratio cancels most of the machine's drift.
  const changes = cpu.on.map((v, i) => (v / (cpu.off[i] as number) - 1) * 100);
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(0)}%`;
  process.stdout.write(`per round: ${changes.map(pct).join(' ')}; median ${pct(median(changes))}\n`);
  process.stdout.write(`history.sqlite growth per 100k events: ${(median(growth) / 1024 / 1024).toFixed(2)} MiB\n`);
}

if (process.argv[2] !== 'client') {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
