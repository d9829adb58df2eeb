// Payload benchmark (issue 9): router CPU per 100k delivered events (1→1, 1→50) and per 100k
// calls, with small and large payloads, publisher/caller and subscriber/callee on the same
// serializer or on different ones. Compares this build with a baseline build (--router DIR):
// both routers run side by side and each case runs on one and then the other, so a shared
// machine disturbs both halves of a pair alike; the change is the median of the per-round pairs. The router runs as its own
// process (the real CLI); the clients run in one forked worker process (this file, "client").
//
//   node dist/bench/payload.js [--router DIR] [--rounds N] [--sizes 100,65536] [--quick]
//     [--pairs json-json,cbor-json] [--phases events1,events50,calls] [--cpu-prof DIR]
//
// --pairs / --phases pick a subset of the cases; --cpu-prof writes V8 CPU profiles of the
// routers (node --cpu-prof) into DIR/this-build and DIR/baseline, one file per router process.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { serializerByName, type Serializer, type SerializerName } from '../src/serializers';
import { freePort, processCpuMs, waitForPort } from './core/common';

const TOPIC = 'bench.payload';
const PROCEDURE = 'bench.payload.echo';

/** A structured payload of about `bytes` JSON bytes: records of the kind a gateway carries
 * (an ID, a millisecond timestamp, a reading, a short string). */
function makeArgs(bytes: number): unknown[] {
  const out: unknown[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const rec = { id: 4000 + i, t: 1764979200000 + i * 1000, v: 21.5 + (i % 10) / 10, s: 'sensor-' + (i % 100) };
    out.push(rec);
    size += JSON.stringify(rec).length + 1;
  }
  return out;
}

// ---- client worker ------------------------------------------------------------------------

interface Job {
  url: string;
  mode: 'pubsub' | 'rpc';
  from: SerializerName;
  to: SerializerName;
  subscribers: number;
  bytes: number;
  count: number;
  window: number;
}

function session(url: string, s: Serializer): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, s.subprotocol, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(s.encode([1, 'realm1', { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } }]), { binary: s.binary });
      ws.once('message', () => resolve(ws));
    });
  });
}

function request(ws: WebSocket, s: Serializer, msg: unknown[]): Promise<void> {
  return new Promise((resolve) => {
    ws.once('message', () => resolve());
    ws.send(s.encode(msg), { binary: s.binary });
  });
}

async function runJob(job: Job): Promise<{ delivered: number; ms: number }> {
  const from = serializerByName(job.from) as Serializer;
  const to = serializerByName(job.to) as Serializer;
  const args = makeArgs(job.bytes);
  if (job.mode === 'pubsub') {
    const subs: WebSocket[] = [];
    const counts: number[] = [];
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolveDone = r));
    let kick: () => void = () => undefined;
    for (let i = 0; i < job.subscribers; i++) {
      const ws = await session(job.url, to);
      await request(ws, to, [32, 1, {}, TOPIC]);
      counts.push(0);
      ws.on('message', () => {
        counts[i]!++;
        if (counts.every((c) => c >= job.count)) resolveDone();
        kick();
      });
      subs.push(ws);
    }
    const pub = await session(job.url, from);
    const frame = from.encode([16, 1, {}, TOPIC, args]);
    let published = 0;
    kick = () => {
      const min = Math.min(...counts);
      while (published < job.count && published < min + job.window) {
        pub.send(frame, { binary: from.binary });
        published++;
      }
    };
    const start = Date.now();
    kick();
    await done;
    const ms = Date.now() - start;
    for (const ws of [...subs, pub]) ws.terminate();
    return { delivered: job.count * job.subscribers, ms };
  }
  // RPC: the callee (serializer `to`) answers every INVOCATION with its own args.
  const callee = await session(job.url, to);
  await request(callee, to, [64, 1, {}, PROCEDURE]);
  callee.on('message', (data: Buffer) => {
    const inv = to.decode(data) as unknown[];
    callee.send(to.encode([70, inv[1], {}, inv[4] ?? []]), { binary: to.binary });
  });
  const caller = await session(job.url, from);
  let sent = 0;
  let received = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const send = (): void => {
    while (sent < job.count && sent - received < job.window) caller.send(from.encode([48, ++sent, {}, PROCEDURE, args]), { binary: from.binary });
  };
  caller.on('message', () => {
    if (++received >= job.count) resolveDone();
    send();
  });
  const start = Date.now();
  send();
  await done;
  const ms = Date.now() - start;
  callee.terminate();
  caller.terminate();
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
}

async function startRouter(root: string, dir: string, nodeArgs: string[] = []): Promise<Router> {
  const port = await freePort();
  const file = path.join(dir, `config-${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      realms: [{ name: 'realm1' }],
      listeners: [{ name: 'websocket', type: 'websocket', host: '127.0.0.1', port, path: '/ws' }],
      log: { level: 'warn' },
      status: { enabled: false },
    }),
  );
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin', 'wampgate.js'), 'start', '--config', file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, 10_000);
  return { child, url: `ws://127.0.0.1:${port}/ws` };
}

function clientRun(client: ChildProcess, job: Job): Promise<{ delivered: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client run timed out: ${JSON.stringify({ ...job, url: undefined })}`)), 300_000);
    client.once('message', (m: { delivered: number; ms: number; error?: string }) => {
      clearTimeout(timer);
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    client.send(job);
  });
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const here = path.resolve(__dirname, '..', '..');
  const baseline = opt('--router');
  const rounds = Number(opt('--rounds') ?? 3);
  const sizes = (opt('--sizes') ?? '100,65536').split(',').map(Number);
  const scale = argv.includes('--quick') ? 0.1 : 1;
  const allPairs: Array<[SerializerName, SerializerName]> = [
    ['json', 'json'],
    ['msgpack', 'msgpack'],
    ['cbor', 'cbor'],
    ['json', 'msgpack'],
    ['json', 'cbor'],
    ['msgpack', 'json'],
    ['msgpack', 'cbor'],
    ['cbor', 'json'],
    ['cbor', 'msgpack'],
  ];
  const pairFilter = opt('--pairs')?.split(',');
  const pairs = pairFilter ? allPairs.filter(([a, b]) => pairFilter.includes(`${a}-${b}`)) : allPairs;
  const phaseFilter = opt('--phases')?.split(',');
  const profileDir = opt('--cpu-prof');
  const builds: Array<[string, string]> = [['this build', here]];
  if (baseline) builds.push(['baseline', path.resolve(baseline)]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wampgate-payload-bench-'));
  const client = fork(__filename, ['client'], { stdio: 'inherit' });
  // key -> build -> router CPU ms per 100k over the rounds
  const results = new Map<string, Map<string, number[]>>();
  try {
    for (let round = 0; round < rounds; round++) {
      // Both builds' routers run side by side (an idle router costs nothing) and every case
      // runs on one and then the other, seconds apart, the order alternating per case: drift on
      // the shared machine then hits both halves of a pair alike, not a whole build's block.
      const routers = new Map<string, Router>();
      try {
        for (const [label, root] of builds) {
          routers.set(
            label,
            await startRouter(root, dir, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir, label.replace(/\W+/g, '-'))}`] : []),
          );
        }
        let caseIndex = round;
        for (const bytes of sizes) {
          const big = bytes > 4096;
          const allPhases: Array<{ id: string; name: string; mode: Job['mode']; subscribers: number; count: number; window: number }> = [
            { id: 'events1', name: 'events 1→1', mode: 'pubsub', subscribers: 1, count: Math.round((big ? 4000 : 100_000) * scale), window: big ? 8 : 1000 },
            { id: 'events50', name: 'events 1→50', mode: 'pubsub', subscribers: 50, count: Math.round((big ? 200 : 4000) * scale), window: big ? 4 : 100 },
            { id: 'calls', name: 'calls', mode: 'rpc', subscribers: 0, count: Math.round((big ? 3000 : 50_000) * scale), window: big ? 8 : 100 },
          ];
          const phases = phaseFilter ? allPhases.filter((p) => phaseFilter.includes(p.id)) : allPhases;
          for (const [from, to] of pairs) {
            for (const ph of phases) {
              const order = caseIndex++ % 2 === 0 ? builds : [...builds].reverse();
              for (const [label] of order) {
                const router = routers.get(label) as Router;
                const job: Job = { url: router.url, mode: ph.mode, from, to, subscribers: ph.subscribers, bytes, count: ph.count, window: ph.window };
                await clientRun(client, { ...job, count: Math.max(1, Math.round(job.count / 10)) }); // warm-up
                const cpu0 = processCpuMs(router.child.pid as number);
                const r = await clientRun(client, job);
                const cpu = processCpuMs(router.child.pid as number) - cpu0;
                const key = `${bytes} B | ${ph.name} | ${from}→${to}`;
                const perBuild = results.get(key) ?? new Map<string, number[]>();
                results.set(key, perBuild);
                const list = perBuild.get(label) ?? [];
                list.push((cpu / r.delivered) * 100_000);
                perBuild.set(label, list);
                process.stdout.write(
                  `  round ${round + 1} ${label}: ${key}: ${Math.round((cpu / r.delivered) * 100_000)} ms CPU/100k (${r.delivered} in ${r.ms} ms)\n`,
                );
              }
            }
          }
        }
      } finally {
        // Wait for each to exit: its CPU profile is written then.
        for (const router of routers.values()) {
          const exited = new Promise((r) => router.child.once('exit', r));
          router.child.kill('SIGTERM');
          await exited;
        }
      }
    }
  } finally {
    client.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`\nrouter CPU ms per 100k delivered events / calls: median (min–max) over ${rounds} rounds\n`);
  const fmt = (l: number[] | undefined): string => {
    if (!l || l.length === 0) return '–';
    const s = [...l].sort((a, b) => a - b);
    return `${Math.round(s[Math.floor(s.length / 2)] as number)} (${Math.round(s[0] as number)}–${Math.round(s[s.length - 1] as number)})`;
  };
  process.stdout.write(`| payload | phase | serializers | ${builds.map(([l]) => l).join(' | ')} |${baseline ? ' change per round: median (range) |' : ''}\n`);
  for (const [key, perBuild] of results) {
    const cells = builds.map(([l]) => fmt(perBuild.get(l)));
    let change = '';
    if (baseline) {
      // The change of each round's pair (measured seconds apart), median and range over rounds.
      const a = perBuild.get('this build') ?? [];
      const b = perBuild.get('baseline') ?? [];
      const ratios = a.map((v, i) => ((v - (b[i] as number)) / (b[i] as number)) * 100).sort((x, y) => x - y);
      const pct = (v: number | undefined): string => `${(v ?? NaN) >= 0 ? '+' : ''}${(v ?? NaN).toFixed(0)}%`;
      change = ` ${pct(ratios[Math.floor(ratios.length / 2)])} (${pct(ratios[0])} to ${pct(ratios[ratios.length - 1])}) |`;
    }
    process.stdout.write(`| ${key.split(' | ').join(' | ')} | ${cells.join(' | ')} |${change}\n`);
  }
}

if (process.argv[2] !== 'client') {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
