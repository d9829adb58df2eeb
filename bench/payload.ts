// Payload benchmark (issue 9): router CPU per 100k delivered events (1→1, 1→50) and per 100k
// calls, with small and large payloads, publisher/caller and subscriber/callee on the same
// serializer or on different ones. Compares this build with a baseline build (--router DIR):
// both routers run side by side, each case's sessions are set up on both, and then the case
// runs in --slices alternating slices (this build, baseline, baseline, this build, …), so load
// from other jobs on a shared machine hits both alike; only the slices are measured (router
// utime+stime from /proc), not connecting. The change is the median of the per-round ratios.
// The router runs as its own process (the real CLI); the clients run in one forked worker.
//
//   node dist/bench/payload.js [--router DIR] [--rounds N] [--slices 4] [--sizes 100,65536]
//     [--scale 1 | --quick] [--pairs json-json,cbor-json] [--phases events1,events50,calls]
//     [--cpu-prof DIR]
//
// --pairs / --phases pick a subset of the cases; --scale multiplies every count (--quick: 0.1);
// --cpu-prof writes V8 CPU profiles of the routers (node --cpu-prof) into DIR/this-build and
// DIR/baseline, one file per router process.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { serializerByName, type Serializer, type SerializerName } from '../src/serializers';
import { freePort, makeArgs, processCpuMs, waitForPort } from './core/common';

const TOPIC = 'bench.payload';
const PROCEDURE = 'bench.payload.echo';

// ---- client worker ------------------------------------------------------------------------

/** The sessions of one case on one router: set up once, then run in slices. */
interface Setup {
  id: string;
  url: string;
  mode: 'pubsub' | 'rpc';
  from: SerializerName;
  to: SerializerName;
  subscribers: number;
  bytes: number;
}
type ClientCommand = ({ op: 'setup' } & Setup) | { op: 'run'; id: string; count: number; window: number } | { op: 'teardown'; id: string };

interface Runner {
  run(count: number, window: number): Promise<{ delivered: number; ms: number }>;
  close(): void;
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

async function setupPubSub(job: Setup, from: Serializer, to: Serializer): Promise<Runner> {
  const subs: WebSocket[] = [];
  const counts: number[] = [];
  for (let i = 0; i < job.subscribers; i++) {
    const ws = await session(job.url, to);
    await request(ws, to, [32, 1, {}, TOPIC]);
    counts.push(0);
    subs.push(ws);
  }
  const pub = await session(job.url, from);
  const frame = from.encode([16, 1, {}, TOPIC, makeArgs(job.bytes)]);
  return {
    run: (count, window) =>
      new Promise((resolve) => {
        counts.fill(0);
        let published = 0;
        const start = Date.now();
        const kick = (): void => {
          const min = Math.min(...counts);
          while (published < count && published < min + window) {
            pub.send(frame, { binary: from.binary });
            published++;
          }
        };
        subs.forEach((ws, i) => {
          ws.removeAllListeners('message');
          ws.on('message', () => {
            counts[i]!++;
            if (counts.every((c) => c >= count)) resolve({ delivered: count * job.subscribers, ms: Date.now() - start });
            else kick();
          });
        });
        kick();
      }),
    close: () => {
      for (const ws of [...subs, pub]) ws.terminate();
    },
  };
}

/** RPC: the callee (serializer `to`) answers every INVOCATION with its own args. */
async function setupRpc(job: Setup, from: Serializer, to: Serializer): Promise<Runner> {
  const callee = await session(job.url, to);
  await request(callee, to, [64, 1, {}, PROCEDURE]);
  callee.on('message', (data: Buffer) => {
    const inv = to.decode(data) as unknown[];
    callee.send(to.encode([70, inv[1], {}, inv[4] ?? []]), { binary: to.binary });
  });
  const caller = await session(job.url, from);
  const args = makeArgs(job.bytes);
  let requestId = 0;
  return {
    run: (count, window) =>
      new Promise((resolve) => {
        let sent = 0;
        let received = 0;
        const start = Date.now();
        const send = (): void => {
          while (sent < count && sent - received < window) {
            sent++;
            caller.send(from.encode([48, ++requestId, {}, PROCEDURE, args]), { binary: from.binary });
          }
        };
        caller.removeAllListeners('message');
        caller.on('message', () => {
          if (++received >= count) resolve({ delivered: count, ms: Date.now() - start });
          else send();
        });
        send();
      }),
    close: () => {
      callee.terminate();
      caller.terminate();
    },
  };
}

if (process.argv[2] === 'client') {
  const runners = new Map<string, Runner>();
  const handle = async (cmd: ClientCommand): Promise<unknown> => {
    if (cmd.op === 'setup') {
      const from = serializerByName(cmd.from) as Serializer;
      const to = serializerByName(cmd.to) as Serializer;
      runners.set(cmd.id, await (cmd.mode === 'pubsub' ? setupPubSub(cmd, from, to) : setupRpc(cmd, from, to)));
      return {};
    }
    const runner = runners.get(cmd.id) as Runner;
    if (cmd.op === 'run') return runner.run(cmd.count, cmd.window);
    runner.close();
    runners.delete(cmd.id);
    return {};
  };
  process.on('message', (cmd: ClientCommand) => {
    handle(cmd).then(
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

function clientCall<T>(client: ChildProcess, cmd: ClientCommand): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${cmd.op} timed out: ${JSON.stringify(cmd)}`)), 300_000);
    client.once('message', (m: T & { error?: string }) => {
      clearTimeout(timer);
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    client.send(cmd);
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
  const scale = Number(opt('--scale') ?? (argv.includes('--quick') ? 0.1 : 1));
  const slices = Number(opt('--slices') ?? 4);
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
      // Both builds' routers run side by side (an idle router costs nothing).
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
          const allPhases: Array<{ id: string; name: string; mode: Setup['mode']; subscribers: number; count: number; window: number }> = [
            { id: 'events1', name: 'events 1→1', mode: 'pubsub', subscribers: 1, count: Math.round((big ? 4000 : 100_000) * scale), window: big ? 8 : 1000 },
            // 1→50 counts: about a second of router CPU, so a 10 ms /proc tick is noise no more.
            { id: 'events50', name: 'events 1→50', mode: 'pubsub', subscribers: 50, count: Math.round((big ? 600 : 16_000) * scale), window: big ? 4 : 100 },
            { id: 'calls', name: 'calls', mode: 'rpc', subscribers: 0, count: Math.round((big ? 3000 : 50_000) * scale), window: big ? 8 : 100 },
          ];
          const phases = phaseFilter ? allPhases.filter((p) => phaseFilter.includes(p.id)) : allPhases;
          for (const [from, to] of pairs) {
            for (const ph of phases) {
              // Both routers get their sessions first; then the case runs in slices, the order
              // alternating per slice, and only the slices are measured (not connecting).
              const key = `${bytes} B | ${ph.name} | ${from}→${to}`;
              const ids = builds.map(([label]) => `${label} ${key}`);
              for (const [i, [label]] of builds.entries()) {
                const router = routers.get(label) as Router;
                await clientCall(client, { op: 'setup', id: ids[i] as string, url: router.url, mode: ph.mode, from, to, subscribers: ph.subscribers, bytes });
                // Warm-up: let V8 optimise this path on this router.
                await clientCall(client, { op: 'run', id: ids[i] as string, count: Math.max(1, Math.round(ph.count / 10)), window: ph.window });
              }
              const cpu = builds.map(() => 0);
              const delivered = builds.map(() => 0);
              const ms = builds.map(() => 0);
              const count = Math.max(1, Math.round(ph.count / slices));
              for (let slice = 0; slice < slices; slice++) {
                const order = (caseIndex + slice) % 2 === 0 ? [0, 1] : [1, 0];
                for (const i of order.filter((k) => k < builds.length)) {
                  const router = routers.get((builds[i] as [string, string])[0]) as Router;
                  const cpu0 = processCpuMs(router.child.pid as number);
                  const r = await clientCall<{ delivered: number; ms: number }>(client, { op: 'run', id: ids[i] as string, count, window: ph.window });
                  cpu[i]! += processCpuMs(router.child.pid as number) - cpu0;
                  delivered[i]! += r.delivered;
                  ms[i]! += r.ms;
                }
              }
              caseIndex++;
              for (const [i, [label]] of builds.entries()) {
                await clientCall(client, { op: 'teardown', id: ids[i] as string });
                const perBuild = results.get(key) ?? new Map<string, number[]>();
                results.set(key, perBuild);
                const value = (cpu[i]! / delivered[i]!) * 100_000;
                perBuild.set(label, [...(perBuild.get(label) ?? []), value]);
                process.stdout.write(`  round ${round + 1} ${label}: ${key}: ${Math.round(value)} ms CPU/100k (${delivered[i]} in ${ms[i]} ms)\n`);
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
