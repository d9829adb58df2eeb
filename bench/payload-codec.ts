// Payload codec micro-bench (issue 9, a diagnostic beside bench/payload.ts): the router's own
// per-message serializer work on the relay path — SerializedPeer.receiveFrame of the sender's
// frame, then SerializedPeer.send of the EVENT / INVOCATION / RESULT to the receiver — with no
// sockets. Both builds are loaded into one process (each resolves its own msgpackr and cbor-x,
// so cbor-x's process-wide tag decoders do not mix) and run in interleaved slices of ~10 ms,
// the order alternating per slice: a burst of load from the other jobs on a shared machine hits
// both builds alike. Each round is a fresh process (fresh JIT).
//
//   node dist/bench/payload-codec.js --router DIR [--rounds 5] [--slices 40] [--sizes 100,65536]
//     [--pairs json-msgpack,msgpack-json] [--cases event,event50,call]
//
// event: PUBLISH in, EVENT out to one subscriber; event50: the same EVENT to 50 subscribers
// (figures per publication); call: CALL → INVOCATION plus YIELD → RESULT.
//
// Figures are CPU microseconds (process.cpuUsage) per message relayed; the change is the
// median and range over rounds of each round's ratio (this build's CPU sum over the baseline's).

import { fork } from 'node:child_process';
import * as path from 'node:path';
import { makeArgs } from './core/common';

type Name = 'json' | 'msgpack' | 'cbor';

interface Task {
  roots: [string, string];
  pairs: Array<[Name, Name]>;
  sizes: number[];
  cases: string[];
  slices: number;
}

interface PeerLike {
  setListener(l: unknown): void;
  receiveFrame(frame: Buffer): void;
  send(msg: unknown): unknown;
}
type Msg = Record<string, unknown> & { args?: unknown[]; kwargs?: unknown };
type Relays = Record<string, () => void>;

/** One build's relay functions for a pair and size: its own SerializedPeer and serializers. */
export function relays(root: string, from: Name, to: Name, args: unknown[]): Relays {
  const load = (p: string): Record<string, unknown> => require(path.join(root, 'dist', 'src', p)) as Record<string, unknown>;
  const { SerializedPeer } = load('transports/serialized-peer') as { SerializedPeer: new (t: unknown, s: unknown, c: unknown) => PeerLike };
  const { serializerByName } = load('serializers/index') as { serializerByName: (n: string) => { encode(v: unknown): Buffer } };
  let passthru: { copyPayload?: (a: unknown, b: unknown) => void } = {};
  try {
    passthru = load('core/payload-passthru') as typeof passthru;
  } catch {
    // The baseline build copies args/kwargs by hand (it has no encoded form to carry).
  }
  const copy = (a: Msg, b: Msg): void => {
    if (passthru.copyPayload) return passthru.copyPayload(a, b);
    if (a.args !== undefined) b.args = a.args;
    if (a.kwargs !== undefined) b.kwargs = a.kwargs;
  };
  const channel = { writeFrame: () => true, close: () => undefined, bufferedBytes: () => 0 };
  const peer = (name: Name): { p: PeerLike; last: () => Msg } => {
    let last: Msg = {};
    const p = new SerializedPeer({ type: 'websocket', serializer: name, peer: 'bench', loopback: true }, serializerByName(name), channel);
    p.setListener({
      onMessage: (m: Msg) => (last = m),
      onProtocolViolation: (r: string) => {
        throw new Error(r);
      },
      onClose: () => undefined,
    });
    return { p, last: () => last };
  };
  const a = peer(from);
  const b = peer(to);
  const fanOut = Array.from({ length: 50 }, () => peer(to).p);
  const publish = serializerByName(from).encode([16, 1, {}, 'bench.payload', args]);
  const call = serializerByName(from).encode([48, 1, {}, 'bench.payload.echo', args]);
  const yieldFrame = serializerByName(to).encode([70, 1, {}, args]);
  return {
    event: () => {
      a.p.receiveFrame(publish);
      const ev: Msg = { type: 36, subscription: 1234567, publication: 7654321, details: {} };
      copy(a.last(), ev);
      b.p.send(ev);
    },
    // One publication to 50 subscribers of one subscription: encoded once, sent 50 times.
    event50: () => {
      a.p.receiveFrame(publish);
      const ev: Msg = { type: 36, subscription: 1234567, publication: 7654321, details: {} };
      copy(a.last(), ev);
      for (const p of fanOut) p.send(ev);
    },
    // One call is two relays: CALL → INVOCATION, then YIELD → RESULT.
    call: () => {
      a.p.receiveFrame(call);
      const inv: Msg = { type: 68, request: 1, registration: 1234567, details: {} };
      copy(a.last(), inv);
      b.p.send(inv);
      b.p.receiveFrame(yieldFrame);
      const res: Msg = { type: 50, request: 1, details: {} };
      copy(b.last(), res);
      a.p.send(res);
    },
  };
}

function cpuUs(fn: () => void, n: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(t0);
  return d.user + d.system;
}

/** Runs in the forked worker: per case, µs per relay of each build, measured interleaved. */
export function runTask(task: Task): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const bytes of task.sizes) {
    const args = makeArgs(bytes);
    for (const [from, to] of task.pairs) {
      const builds = task.roots.map((root) => relays(root, from, to, args));
      for (const c of task.cases) {
        const fns = builds.map((r) => r[c] as () => void);
        for (const fn of fns) cpuUs(fn, 300); // warm-up: let V8 optimise both
        // About 10 ms per slice on the baseline.
        let n = 1;
        while (cpuUs(fns[1] as () => void, n) < 10_000) n *= 2;
        const sums = [0, 0];
        for (let slice = 0; slice < task.slices; slice++) {
          const order = slice % 2 === 0 ? [0, 1] : [1, 0];
          for (const k of order) sums[k]! += cpuUs(fns[k] as () => void, n);
        }
        out[`${bytes} B | ${c} | ${from}→${to}`] = [sums[0]! / (n * task.slices), sums[1]! / (n * task.slices)];
      }
    }
  }
  return out;
}

if (process.argv[2] === 'worker') {
  process.once('message', (task: Task) => {
    process.send?.(runTask(task), () => process.exit(0));
  });
}

function inWorker(task: Task): Promise<Record<string, [number, number]>> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['worker'], { stdio: 'inherit' });
    child.once('message', (m) => resolve(m as Record<string, [number, number]>));
    child.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
    child.send(task);
  });
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const baseline = opt('--router');
  if (!baseline) throw new Error('--router DIR (a built baseline worktree) is required');
  const rounds = Number(opt('--rounds') ?? 5);
  const names: Name[] = ['json', 'msgpack', 'cbor'];
  const all: Array<[Name, Name]> = names.flatMap((a) => names.map((b): [Name, Name] => [a, b]));
  const filter = opt('--pairs')?.split(',');
  const task: Task = {
    roots: [path.resolve(__dirname, '..', '..'), path.resolve(baseline)],
    pairs: filter ? all.filter(([a, b]) => filter.includes(`${a}-${b}`)) : all,
    sizes: (opt('--sizes') ?? '100,65536').split(',').map(Number),
    cases: (opt('--cases') ?? 'event,event50,call').split(','),
    slices: Number(opt('--slices') ?? 40),
  };
  const results = new Map<string, Array<[number, number]>>();
  for (let round = 0; round < rounds; round++) {
    const r = await inWorker(task);
    for (const [key, pair] of Object.entries(r)) results.set(key, [...(results.get(key) ?? []), pair]);
    process.stdout.write(`  round ${round + 1} of ${rounds} done\n`);
  }
  const median = (l: number[]): number => [...l].sort((x, y) => x - y)[Math.floor(l.length / 2)] as number;
  const pct = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
  process.stdout.write(
    `\nrouter codec CPU µs per relayed message (call = CALL→INVOCATION + YIELD→RESULT), ${rounds} rounds of ${task.slices} interleaved slice pairs\n`,
  );
  process.stdout.write(
    '| payload | case | serializers | this build | baseline | change: median (range) over rounds |\n| --- | --- | --- | --- | --- | --- |\n',
  );
  for (const [key, pairs] of results) {
    const ratios = pairs.map(([a, b]) => (a / b - 1) * 100).sort((x, y) => x - y);
    const cells = [median(pairs.map((p) => p[0])).toFixed(2), median(pairs.map((p) => p[1])).toFixed(2)];
    process.stdout.write(
      `| ${key.split(' | ').join(' | ')} | ${cells.join(' | ')} | ${pct(median(ratios))} (${pct(ratios[0] as number)} to ${pct(ratios[ratios.length - 1] as number)}) |\n`,
    );
  }
}

if (process.argv[2] !== 'worker') {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
