// The router's benchmark (DESIGN §6): wampgate started by its real CLI in its own process, a
// plain `ws` relay in another, client workers in others. Each phase pushes the same traffic
// through both and reads their CPU (/proc/<pid>/stat) and memory (/proc/<pid>/status), so
// every wampgate figure sits beside the ceiling of one Node WebSocket hop on this machine.
// Prints a table and writes .bench/latest.json. Options: see USAGE below or bench/README.md.

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  freePort,
  processCpuMs,
  processMemory,
  waitForPort,
  type FromWorker,
  type RunResult,
  type SerializerName,
  type Target,
  type WorkerSetup,
} from './common';
import { summariseProfile } from './profile-summary';

export const USAGE = `core benchmark options:
  --rounds N          repeat every phase N times, router and relay interleaved (default 2); the table shows the best
  --quick             a tenth of the counts (a smoke test, not figures)
  --clients 2         split the fan-out subscribers over two client processes (client-bottleneck check)
  --serializers       also pub/sub 1→1 with msgpack and cbor (router only)
  --profile           run the router under --cpu-prof and print its top functions (slower; not for figures)
  --auth              also run pub/sub 1→1 and RPC with a RoleAuthorizer on the realm
  --json FILE         where to write the results (default .bench/latest.json)
  --relay-cork        the relay corks each socket per tick (batched writes) instead of one write per message
  --router DIR        benchmark the wampgate build in DIR (its bin/wampgate.js and dist/), e.g. a baseline worktree`;

const root = path.resolve(__dirname, '..', '..', '..');
const distBench = path.resolve(__dirname);

interface Options {
  rounds: number;
  scale: number;
  clients: number;
  serializers: boolean;
  profile: boolean;
  auth: boolean;
  json: string;
  routerRoot: string;
  relayCork: boolean;
}

function parseOptions(args: string[]): Options {
  const o: Options = {
    rounds: 2,
    scale: 1,
    clients: 1,
    serializers: false,
    profile: false,
    auth: false,
    json: path.join(root, '.bench', 'latest.json'),
    routerRoot: root,
    relayCork: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--rounds') o.rounds = Math.max(1, Number(args[++i]));
    else if (a === '--quick') o.scale = 0.1;
    else if (a === '--clients') o.clients = Math.max(1, Math.min(2, Number(args[++i])));
    else if (a === '--serializers') o.serializers = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--auth') o.auth = true;
    else if (a === '--json') o.json = path.resolve(String(args[++i]));
    else if (a === '--relay-cork') o.relayCork = true;
    else if (a === '--router') o.routerRoot = path.resolve(String(args[++i]));
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

// ---- child processes: every one is tracked and killed on the way out -------------------------

const children = new Set<ChildProcess>();

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export async function killAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 2000)));
}

// ---- the router and the relay -----------------------------------------------------------------

interface Started {
  child: ChildProcess;
  pid: number;
  port: number;
  /** spawn -> first accepted TCP connection */
  listenMs: number;
  /** the "ready" log line's startupMs (process start -> listeners up, as the router sees it) */
  startupMs: number;
}

let routerRoot = root;

async function startRouter(dir: string, o: { profileDir?: string; roles?: unknown[] }): Promise<Started> {
  const port = await freePort();
  const config = {
    realms: [{ name: 'realm1', ...(o.roles ? { roles: o.roles } : {}) }],
    listeners: [{ name: 'websocket', type: 'websocket', host: '127.0.0.1', port, path: '/ws' }],
    log: { level: 'info' },
    // No status page: the default port would collide with a gateway running on this machine.
    status: { enabled: false },
  };
  const file = path.join(dir, `config-${port}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const nodeArgs = o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : [];
  const script = [path.join(routerRoot, 'bin', 'wampgate.js'), 'start', '--config', file];
  const t0 = process.hrtime.bigint();
  const child = track(spawn(process.execPath, [...nodeArgs, ...script], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir }));
  let out = '';
  let readyResolve: (ms: number) => void = () => undefined;
  const ready = new Promise<number>((resolve) => (readyResolve = resolve));
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /ready .*startupMs=(\d+)/.exec(out);
    if (m) readyResolve(Number(m[1]));
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`  [router] ${d.toString()}`));
  const died = exited(child).then(() => {
    throw new Error(`router exited during start (code ${child.exitCode}):\n${out}`);
  });
  await Promise.race([waitForPort(port, 10_000), died]);
  const listenMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const startupMs = await Promise.race([ready, died, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`no ready line:\n${out}`)), 5000))]);
  void died.catch(() => undefined);
  return { child, pid: child.pid as number, port, listenMs, startupMs };
}

async function startRelay(cork: boolean): Promise<Started> {
  const t0 = process.hrtime.bigint();
  const child = track(fork(path.join(distBench, 'relay.js'), cork ? ['--cork'] : [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`relay exited (${code})`)));
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { child, pid: child.pid as number, port, listenMs: ms, startupMs: ms };
}

const mb = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;

// ---- one phase: workers set up, warm up, then the measured run ---------------------------------

interface PhaseResult {
  name: string;
  target: Target;
  serializer: SerializerName;
  ok: boolean;
  wallMs: number;
  /** events delivered (pub/sub) or calls completed (rpc) */
  units: number;
  lost: number;
  unexpected: number;
  perSecond: number;
  /** CPU of the router / relay process during the measured run */
  serverCpuMs: number;
  serverCpuPct: number;
  /** per 100k units */
  serverCpuPer100k: number;
  /** each client worker's CPU as a share of one core during the run */
  clientCpuPct: number[];
  /** the server's VmHWM (peak RSS so far) after this phase, MB */
  serverHwmMB: number;
  latency?: RunResult['latency'];
}

function worker(): ChildProcess {
  return track(fork(path.join(distBench, 'client.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

function expect<T extends FromWorker['ev']>(w: ChildProcess, ev: T): Promise<Extract<FromWorker, { ev: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker): void => {
      w.off('exit', onExit);
      w.off('message', onMessage);
      if (m.ev === ev) resolve(m as Extract<FromWorker, { ev: T }>);
      else reject(new Error(m.ev === 'error' ? `client worker: ${m.message}` : `client worker sent ${m.ev}, expected ${ev}`));
    };
    const onExit = (code: number | null): void => {
      w.off('message', onMessage);
      reject(new Error(`client worker exited (${code})`));
    };
    w.on('message', onMessage);
    w.once('exit', onExit);
  });
}

async function runPhase(
  name: string,
  server: Started,
  target: Target,
  setups: Array<Omit<WorkerSetup, 'cmd' | 'target' | 'url'>>,
  warmup: number,
  count: number,
  unitsPerCount: number,
  rate?: number,
): Promise<PhaseResult> {
  const url = target === 'router' ? `ws://127.0.0.1:${server.port}/ws` : `ws://127.0.0.1:${server.port}/`;
  const workers = setups.map(() => worker());
  try {
    await Promise.all(
      workers.map((w, i) => {
        const ready = expect(w, 'ready');
        w.send({ cmd: 'setup', target, url, ...setups[i] });
        return ready;
      }),
    );
    const run = async (n: number): Promise<RunResult[]> => {
      const done = workers.map((w) => expect(w, 'done'));
      for (const w of workers) w.send({ cmd: 'run', count: n, ...(rate !== undefined ? { rate } : {}) });
      return Promise.all(done);
    };
    if (warmup > 0) await run(warmup);
    const cpu0 = processCpuMs(server.pid);
    const t0 = performance.now();
    const results = await run(count);
    const wallMs = performance.now() - t0;
    const serverCpuMs = processCpuMs(server.pid) - cpu0;
    const units = results.reduce((a, r) => a + r.received, 0);
    const expected = count * unitsPerCount;
    const out: PhaseResult = {
      name,
      target,
      serializer: setups[0]?.serializer ?? 'json',
      ok: results.every((r) => r.complete) && units === expected,
      wallMs,
      units,
      lost: expected - units,
      unexpected: results.reduce((a, r) => a + r.unexpected, 0),
      perSecond: (units / wallMs) * 1000,
      serverCpuMs,
      serverCpuPct: (serverCpuMs / wallMs) * 100,
      serverCpuPer100k: (serverCpuMs / units) * 100_000,
      clientCpuPct: results.map((r) => Math.round((r.cpuMs / r.ms) * 100)),
      serverHwmMB: mb(processMemory(server.pid).hwm),
    };
    const latency = results.find((r) => r.latency)?.latency;
    if (latency) out.latency = latency;
    return out;
  } finally {
    for (const w of workers) if (w.connected) w.send({ cmd: 'close' });
    await Promise.all(workers.map((w) => Promise.race([exited(w), new Promise((r) => setTimeout(r, 2000))])));
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  }
}

// ---- the run ----------------------------------------------------------------------------------

const k = (n: number): string => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`);

function describe(r: PhaseResult): string {
  const lat = r.latency ? ` p50=${r.latency.p50}µs p99=${r.latency.p99}µs max=${r.latency.max}µs` : '';
  return `  ${r.name.padEnd(22)} ${r.target.padEnd(6)} ${k(r.perSecond).padStart(6)}/s  server CPU ${Math.round(r.serverCpuPct)}% (${Math.round(r.serverCpuPer100k)} ms/100k)  client CPU ${r.clientCpuPct.join('+')}%  HWM ${r.serverHwmMB} MB${lat}${r.ok ? '' : `  LOST ${r.lost} unexpected ${r.unexpected}`}`;
}

interface Row {
  metric: string;
  wampgate: string;
  relay: string;
  ratio: string;
  target: string;
  pass: boolean | undefined;
}

export async function runCore(args: string[]): Promise<number> {
  const o = parseOptions(args);
  routerRoot = o.routerRoot;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wampgate-bench-'));
  const profileDir = o.profile ? path.join(root, '.bench', 'prof') : undefined;
  if (profileDir) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  const n = (x: number): number => Math.max(100, Math.round(x * o.scale));
  const started = Date.now();
  try {
    console.log(
      `core benchmark: node ${process.version}, ${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(
          ' ',
        )}, ${o.rounds} round(s)${o.scale !== 1 ? ', QUICK' : ''}${o.profile ? ', PROFILING' : ''}${o.relayCork ? ', corked relay' : ''}${o.routerRoot !== root ? `, router from ${o.routerRoot}` : ''}`,
    );

    // Start-up: two throwaway starts, then the one the run uses; the median of the three.
    const starts: Array<{ listenMs: number; startupMs: number }> = [];
    for (let i = 0; i < 2; i++) {
      const s = await startRouter(dir, {});
      starts.push({ listenMs: s.listenMs, startupMs: s.startupMs });
      await stopChild(s.child);
    }
    const router = await startRouter(dir, profileDir ? { profileDir } : {});
    starts.push({ listenMs: router.listenMs, startupMs: router.startupMs });
    const relay = await startRelay(o.relayCork);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = processMemory(router.pid);
    const relayIdle = processMemory(relay.pid);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const listenMs = median(starts.map((s) => s.listenMs));
    const startupMs = median(starts.map((s) => s.startupMs));
    console.log(
      `  start → listening ${starts.map((s) => Math.round(s.listenMs)).join(', ')} ms (ready line startupMs ${starts.map((s) => s.startupMs).join(', ')}); idle RSS ${mb(idle.rss)} MB (relay ${mb(relayIdle.rss)} MB)`,
    );

    const all: PhaseResult[] = [];
    const servers: Record<Target, Started> = { router, relay };
    const targets: Target[] = ['router', 'relay'];
    const fanSubs = 50;
    const fanSetups =
      o.clients === 2
        ? [
            { serializer: 'json' as const, mode: 'pubsub' as const, publisher: true, subscribers: fanSubs / 2, window: 200, outstanding: 0, timeoutMs: 60_000 },
            {
              serializer: 'json' as const,
              mode: 'pubsub' as const,
              publisher: false,
              subscribers: fanSubs / 2,
              window: 200,
              outstanding: 0,
              timeoutMs: 60_000,
            },
          ]
        : [{ serializer: 'json' as const, mode: 'pubsub' as const, publisher: true, subscribers: fanSubs, window: 200, outstanding: 0, timeoutMs: 60_000 }];
    const pubsub = (serializer: SerializerName): Array<Omit<WorkerSetup, 'cmd' | 'target' | 'url'>> => [
      { serializer, mode: 'pubsub', publisher: true, subscribers: 1, window: 2000, outstanding: 0, timeoutMs: 60_000 },
    ];
    const rpc = (outstanding: number): Array<Omit<WorkerSetup, 'cmd' | 'target' | 'url'>> => [
      { serializer: 'json', mode: 'rpc', publisher: false, subscribers: 0, window: 0, outstanding, timeoutMs: 60_000 },
    ];
    for (let round = 1; round <= o.rounds; round++) {
      console.log(`round ${round}/${o.rounds}`);
      const phases: Array<(t: Target) => Promise<PhaseResult>> = [
        (t) => runPhase('pubsub 1→1', servers[t], t, pubsub('json'), n(20_000), n(200_000), 1),
        (t) => runPhase(`fan-out 1→${fanSubs}`, servers[t], t, fanSetups, n(2_000), n(20_000), fanSubs),
        (t) => runPhase('rpc, 100 outstanding', servers[t], t, rpc(100), n(10_000), n(100_000), 1),
        (t) => runPhase('rpc @1000/s latency', servers[t], t, rpc(1), 500, Math.max(1000, n(5_000)), 1, 1000),
      ];
      for (const phase of phases) {
        for (const t of round % 2 === 1 ? targets : [...targets].reverse()) {
          const r = await phase(t);
          all.push(r);
          console.log(describe(r));
        }
      }
      if (o.serializers) {
        for (const s of ['msgpack', 'cbor'] as const) {
          const r = await runPhase(`pubsub 1→1 ${s}`, router, 'router', pubsub(s), n(20_000), n(200_000), 1);
          all.push(r);
          console.log(describe(r));
        }
      }
    }
    const peak = processMemory(router.pid);
    const relayPeak = processMemory(relay.pid);
    await new Promise((r) => setTimeout(r, 1000));
    const after = processMemory(router.pid);
    console.log(
      `  router RSS idle ${mb(idle.rss)} MB, peak (VmHWM) ${mb(peak.hwm)} MB, after the run ${mb(after.rss)} MB; relay ${mb(relayIdle.rss)} / ${mb(relayPeak.hwm)} MB`,
    );
    await stopChild(router.child);
    await stopChild(relay.child);

    let auth: PhaseResult[] = [];
    if (o.auth) auth = await runAuthPhases(dir, n);

    // ---- the table -------------------------------------------------------------------------
    const best = (name: string, t: Target, pick: (r: PhaseResult) => number, lower = false): PhaseResult | undefined => {
      const rs = all.filter((r) => r.name === name && r.target === t);
      return rs.sort((a, b) => (lower ? pick(a) - pick(b) : pick(b) - pick(a)))[0];
    };
    const spread = (name: string, t: Target, pick: (r: PhaseResult) => number): string => {
      const xs = all.filter((r) => r.name === name && r.target === t).map(pick);
      return xs.length > 1 ? ` (${k(Math.min(...xs))}–${k(Math.max(...xs))})` : '';
    };
    const rows: Row[] = [];
    const ratioRow = (metric: string, name: string, min: number): void => {
      const w = best(name, 'router', (r) => r.perSecond);
      const rl = best(name, 'relay', (r) => r.perSecond);
      if (!w || !rl) return;
      const ratio = w.perSecond / rl.perSecond;
      const lost = all.filter((r) => r.name === name).reduce((a, r) => a + r.lost, 0);
      rows.push({
        metric,
        wampgate: `${k(w.perSecond)}/s${spread(name, 'router', (r) => r.perSecond)}`,
        relay: `${k(rl.perSecond)}/s${spread(name, 'relay', (r) => r.perSecond)}`,
        ratio: `${ratio.toFixed(2)}×`,
        target: `≥ ${min}× relay, none lost`,
        pass: ratio >= min && lost === 0,
      });
    };
    ratioRow('pub/sub 1→1, events/s', 'pubsub 1→1', 0.9);
    ratioRow(`fan-out 1→${fanSubs}, events delivered/s`, `fan-out 1→${fanSubs}`, 0.9);
    ratioRow('RPC, 100 outstanding, calls/s', 'rpc, 100 outstanding', 0.8);
    const lw = best('rpc @1000/s latency', 'router', (r) => r.latency?.p99 ?? Infinity, true);
    const lr = best('rpc @1000/s latency', 'relay', (r) => r.latency?.p99 ?? Infinity, true);
    if (lw?.latency && lr?.latency) {
      rows.push({
        metric: 'RPC round trip @1000/s, p50',
        wampgate: `${lw.latency.p50} µs`,
        relay: `${lr.latency.p50} µs`,
        ratio: `${(lw.latency.p50 / lr.latency.p50).toFixed(2)}×`,
        target: '',
        pass: undefined,
      });
      rows.push({
        metric: 'RPC round trip @1000/s, p99',
        wampgate: `${lw.latency.p99} µs`,
        relay: `${lr.latency.p99} µs`,
        ratio: `${(lw.latency.p99 / lr.latency.p99).toFixed(2)}×`,
        target: '≤ 1000 µs',
        pass: lw.latency.p99 <= 1000 && lw.lost === 0,
      });
      rows.push({
        metric: 'RPC round trip @1000/s, max',
        wampgate: `${lw.latency.max} µs`,
        relay: `${lr.latency.max} µs`,
        ratio: '',
        target: '',
        pass: undefined,
      });
    }
    const cpuRow = (metric: string, name: string): void => {
      const w = best(name, 'router', (r) => r.serverCpuPer100k, true);
      const rl = best(name, 'relay', (r) => r.serverCpuPer100k, true);
      if (!w || !rl) return;
      rows.push({
        metric,
        wampgate: `${Math.round(w.serverCpuPer100k)} ms`,
        relay: `${Math.round(rl.serverCpuPer100k)} ms`,
        ratio: `${(w.serverCpuPer100k / rl.serverCpuPer100k).toFixed(2)}×`,
        target: '(what a Pi feels)',
        pass: undefined,
      });
    };
    cpuRow('server CPU per 100k events, 1→1', 'pubsub 1→1');
    cpuRow(`server CPU per 100k events, 1→${fanSubs}`, `fan-out 1→${fanSubs}`);
    cpuRow('server CPU per 100k calls', 'rpc, 100 outstanding');
    rows.push({
      metric: 'RSS idle (after start)',
      wampgate: `${mb(idle.rss)} MB`,
      relay: `${mb(relayIdle.rss)} MB`,
      ratio: '',
      target: '≤ 60 MB',
      pass: mb(idle.rss) <= 60,
    });
    rows.push({
      metric: 'RSS peak (VmHWM)',
      wampgate: `${mb(peak.hwm)} MB`,
      relay: `${mb(relayPeak.hwm)} MB`,
      ratio: '',
      target: '≤ 100 MB',
      pass: mb(peak.hwm) <= 100,
    });
    rows.push({
      metric: 'start → port accepting',
      wampgate: `${Math.round(listenMs)} ms`,
      relay: `${Math.round(relay.listenMs)} ms`,
      ratio: '',
      target: '≤ 1000 ms',
      pass: listenMs <= 1000,
    });
    rows.push({ metric: 'ready line startupMs', wampgate: `${startupMs} ms`, relay: '', ratio: '', target: '≤ 1000 ms', pass: startupMs <= 1000 });
    for (const s of ['msgpack', 'cbor'] as const) {
      const r = best(`pubsub 1→1 ${s}`, 'router', (x) => x.perSecond);
      const j = best('pubsub 1→1', 'router', (x) => x.perSecond);
      if (r && j)
        rows.push({
          metric: `pub/sub 1→1 ${s}, events/s`,
          wampgate: `${k(r.perSecond)}/s`,
          relay: '',
          ratio: `${(r.perSecond / j.perSecond).toFixed(2)}× json`,
          target: r.ok ? 'none lost' : 'LOST',
          pass: r.ok ? undefined : false,
        });
    }
    for (const a of auth) {
      const plain = best(a.name, 'router', (x) => x.serverCpuPer100k, true);
      const cpu = plain ? ` (${(a.serverCpuPer100k / plain.serverCpuPer100k).toFixed(2)}× without)` : '';
      rows.push({
        metric: `${a.name} with roles (RoleAuthorizer)`,
        wampgate: `${k(a.perSecond)}/s`,
        relay: '',
        ratio: plain ? `${(a.perSecond / plain.perSecond).toFixed(2)}× without` : '',
        target: `CPU ${Math.round(a.serverCpuPer100k)} ms/100k${cpu}`,
        pass: a.ok ? undefined : false,
      });
    }
    const maxClient = Math.max(...all.map((r) => Math.max(...r.clientCpuPct)));
    printTable(rows);
    console.log(
      `client CPU (share of one core, per worker) by phase: ${[...new Set(all.map((r) => r.name))]
        .map(
          (name) =>
            `${name}: ${all
              .filter((r) => r.name === name)
              .map((r) => `${r.target === 'router' ? 'w' : 'r'}${r.clientCpuPct.join('+')}%`)
              .join(' ')}`,
        )
        .join('; ')} (w=wampgate, r=relay); max ${maxClient}%`,
    );
    console.log(`command: node dist/bench/run.js core ${args.join(' ')}`.trimEnd() + `   (${Math.round((Date.now() - started) / 1000)} s)`);

    mkdirSync(path.dirname(o.json), { recursive: true });
    writeFileSync(
      o.json,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          command: `node dist/bench/run.js core ${args.join(' ')}`.trim(),
          machine: {
            node: process.version,
            cpus: os.cpus().length,
            model: os.cpus()[0]?.model,
            memMB: Math.round(os.totalmem() / 1024 / 1024),
            loadavg: os.loadavg(),
          },
          options: o,
          rows,
          startup: starts,
          memory: { idle, peak, after, relayIdle, relayPeak },
          phases: all,
          auth,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`wrote ${path.relative(process.cwd(), o.json) || o.json}`);
    if (profileDir) {
      for (const f of readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile'))) {
        console.log(`\nrouter profile ${path.join(profileDir, f)}:`);
        console.log(summariseProfile(path.join(profileDir, f), 25));
      }
    }
    return rows.some((r) => r.pass === false) ? 1 : 0;
  } finally {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pub/sub 1→1 and RPC through a router whose realm has roles (the gateway builds a
 * RoleAuthorizer from them), for the cost of authorizing every publish and call. */
async function runAuthPhases(dir: string, n: (x: number) => number): Promise<PhaseResult[]> {
  const roles = [
    {
      name: 'anonymous',
      permissions: [
        { uri: 'bench.', match: 'prefix', allow: { publish: true, subscribe: true, call: true, register: true } },
        { uri: 'other.', match: 'prefix', allow: { subscribe: true } },
      ],
    },
    // The gateway's own ops session (health procedures and topic) keeps working, quietly.
    { name: 'wampgate.ops', permissions: [{ uri: 'wampgate.', match: 'prefix', allow: { publish: true, subscribe: true, call: true, register: true } }] },
  ];
  const router = await startRouter(dir, { roles });
  try {
    const out: PhaseResult[] = [];
    out.push(
      await runPhase(
        'pubsub 1→1',
        router,
        'router',
        [{ serializer: 'json', mode: 'pubsub', publisher: true, subscribers: 1, window: 2000, outstanding: 0, timeoutMs: 60_000 }],
        n(20_000),
        n(200_000),
        1,
      ),
    );
    out.push(
      await runPhase(
        'rpc, 100 outstanding',
        router,
        'router',
        [{ serializer: 'json', mode: 'rpc', publisher: false, subscribers: 0, window: 0, outstanding: 100, timeoutMs: 60_000 }],
        n(10_000),
        n(100_000),
        1,
      ),
    );
    for (const r of out) console.log(describe({ ...r, name: `${r.name} +auth` }));
    return out;
  } finally {
    await stopChild(router.child);
  }
}

function printTable(rows: Row[]): void {
  const head: Row = { metric: 'metric', wampgate: 'wampgate', relay: 'ws relay', ratio: 'ratio', target: 'target', pass: undefined };
  const cells = (r: Row): string[] => [
    r.metric,
    r.wampgate,
    r.relay,
    r.ratio,
    r.target,
    r === head ? 'result' : r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL',
  ];
  const all = [head, ...rows].map(cells);
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const line = (c: string[]): string => '| ' + c.map((x, i) => x.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log('\n' + line(all[0]!));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const c of all.slice(1)) console.log(line(c));
  console.log('');
}
