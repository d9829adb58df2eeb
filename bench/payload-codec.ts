// Payload codec and router micro-bench (issue 9, a diagnostic beside bench/payload.ts): the
// router's own per-message work on the relay path with no sockets, for this build and a
// baseline build. The codec cases run SerializedPeer.receiveFrame of the sender's frame, then
// SerializedPeer.send of the EVENT / INVOCATION / RESULT to the receiver; the routed cases
// run a PUBLISH through each build's real Router.
//
//   node dist/bench/payload-codec.js [--router DIR] [--rounds 3] [--slices 100] [--sizes 100,65536]
//     [--pairs json-msgpack,msgpack-json] [--cases event,event50,call,routed,routed50]
//
// event: PUBLISH in, EVENT out to one subscriber; event50: the same EVENT to 50 subscribers
// (figures per publication); call: CALL → INVOCATION plus YIELD → RESULT. routed / routed50:
// a PUBLISH through the Router (sessions, broker, serializers) to 1 or 50 subscribers over
// channels that only count the frames: the whole router but its sockets.
//
// How it measures: each case of each round runs in a fresh process that loads both builds
// (each resolves its own msgpackr and cbor-x, so cbor-x's process-wide tag decoders do not mix)
// and runs them in interleaved slices of ~5 ms, the order alternating per slice, so a burst of
// load from other jobs on a shared machine hits both alike. A build's figure for the round is
// the median of its slices; the change is the median and range over rounds of the per-round
// ratios. Without --router this build runs against itself (one copy of the code): the change
// is the timing noise. --router at a copy of this build in another directory is the full A/A.
//
// Figures are CPU microseconds (process.cpuUsage) per message relayed.

import { fork } from 'node:child_process';
import * as path from 'node:path';
import { makeArgs } from './core/common';

type Name = 'json' | 'msgpack' | 'cbor';

/** One worker's job: one case of one pair and size, both builds, measured interleaved. */
interface Task {
  /** [this build, baseline]; `baselineFirst` loads the baseline first (see main). */
  roots: [string, string];
  baselineFirst: boolean;
  from: Name;
  to: Name;
  bytes: number;
  kase: string;
  slices: number;
}

interface PeerLike {
  setListener(l: unknown): void;
  receiveFrame(frame: Buffer): void;
  send(msg: unknown): unknown;
}
type Msg = Record<string, unknown> & { args?: unknown[]; kwargs?: unknown };
/** One build's relay function for a case, pair and size: its own SerializedPeer and serializers. */
export function relay(root: string, from: Name, to: Name, args: unknown[], kase: string): () => void {
  // The routed cases build a whole router; nothing else of this function is needed for them.
  if (kase === 'routed') return routed(root, from, to, args, 1);
  if (kase === 'routed50') return routed(root, from, to, args, 50);
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
  const relays: Record<string, () => void> = {
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
  const fn = relays[kase];
  if (!fn) throw new Error(`unknown case ${kase}`);
  return fn;
}

/** A publisher and `subscribers` subscribers joined to one build's real Router over
 * SerializedPeers whose channels only count frames; the function publishes once. */
function routed(root: string, from: Name, to: Name, args: unknown[], subscribers: number): () => void {
  const load = (p: string): Record<string, unknown> => require(path.join(root, 'dist', 'src', p)) as Record<string, unknown>;
  const { Router } = load('core/router') as { Router: new (o: unknown) => { attach(p: unknown): unknown } };
  const { anonymousOnLoopback } = load('auth/anonymous') as { anonymousOnLoopback: () => unknown };
  const { SerializedPeer } = load('transports/serialized-peer') as { SerializedPeer: new (t: unknown, s: unknown, c: unknown) => PeerLike };
  const { serializerByName } = load('serializers/index') as { serializerByName: (n: string) => { encode(v: unknown): Buffer } };
  const anonymous = anonymousOnLoopback();
  const router = new Router({ realms: [{ name: 'realm1' }], authenticatorFor: () => anonymous });
  let frames = 0;
  const join = (name: Name): PeerLike => {
    const channel = { writeFrame: () => (frames++, true), close: () => undefined, bufferedBytes: () => 0 };
    const info = { type: 'websocket', serializer: name, peer: 'bench', loopback: true, listener: 'bench' };
    const p = new SerializedPeer(info, serializerByName(name), channel);
    router.attach(p);
    p.receiveFrame(serializerByName(name).encode([1, 'realm1', { roles: { publisher: {}, subscriber: {} } }]));
    return p;
  };
  const publisher = join(from);
  for (let i = 0; i < subscribers; i++) join(to).receiveFrame(serializerByName(to).encode([32, 1, {}, 'bench.payload']));
  const publish = serializerByName(from).encode([16, 2, {}, 'bench.payload', args]);
  // WELCOME and SUBSCRIBED went out; from here on every frame is an EVENT.
  const expected = 1 + 2 * subscribers;
  if (frames !== expected) throw new Error(`routed set-up: ${frames} frames written, expected ${expected}`);
  return () => {
    const before = frames;
    publisher.receiveFrame(publish);
    if (frames - before !== subscribers) throw new Error(`routed: ${frames - before} EVENTs for ${subscribers} subscribers`);
  };
}

function cpuUs(fn: () => void, n: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(t0);
  return d.user + d.system;
}

const median = (l: number[]): number => [...l].sort((x, y) => x - y)[Math.floor(l.length / 2)] as number;

/** Runs in the forked worker: µs per relay of each build (the median over slices), measured
 * in interleaved slices of ~5 ms whose order alternates, so a burst of load from other jobs
 * hits both builds alike and a slice caught by one counts for little. */
export function runTask(task: Task): [number, number] {
  const args = makeArgs(task.bytes);
  const order = task.baselineFirst ? [1, 0] : [0, 1];
  const fns: Array<() => void> = [];
  for (const k of order) fns[k] = relay(task.roots[k] as string, task.from, task.to, args, task.kase);
  // Warm-up, alternating, until each build has run 300 ms: V8 moves hot code up its tiers for
  // a while, and a tier-up inside the measured slices of one build only is a false difference
  // (300 calls of warm-up left 2.5x the steady cost and ±30 % between identical builds).
  const warm = [0, 0];
  while (warm[0]! < 300_000 || warm[1]! < 300_000) for (const k of [0, 1]) warm[k]! += cpuUs(fns[k] as () => void, 50);
  let n = 1;
  while (cpuUs(fns[1] as () => void, n) < 5_000) n *= 2;
  const per: [number[], number[]] = [[], []];
  for (let slice = 0; slice < task.slices; slice++) {
    for (const k of slice % 2 === 0 ? [0, 1] : [1, 0]) per[k as 0 | 1].push(cpuUs(fns[k] as () => void, n) / n);
  }
  return [median(per[0]), median(per[1])];
}

// Run only as a program (the worker, or the orchestrator), not when another bench requires
// relays() from this file.
if (require.main === module && process.argv[2] === 'worker') {
  process.once('message', (task: Task) => {
    process.send?.(runTask(task), () => process.exit(0));
  });
}

function inWorker(task: Task): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['worker'], { stdio: 'inherit' });
    child.once('message', (m) => resolve(m as [number, number]));
    child.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
    child.send(task);
  });
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const here = path.resolve(__dirname, '..', '..');
  // Without a baseline, this build runs against itself: its own figures, and a change column
  // that is the timing noise alone (one copy of the code; a copy in another directory, given
  // as --router, also shows how V8 compiles two copies apart).
  const baseline = opt('--router') ?? here;
  if (baseline === here) process.stdout.write('no --router: this build against itself (the change column is timing noise)\n');
  const rounds = Number(opt('--rounds') ?? 3);
  const names: Name[] = ['json', 'msgpack', 'cbor'];
  const all: Array<[Name, Name]> = names.flatMap((a) => names.map((b): [Name, Name] => [a, b]));
  const filter = opt('--pairs')?.split(',');
  const pairs = filter ? all.filter(([a, b]) => filter.includes(`${a}-${b}`)) : all;
  const sizes = (opt('--sizes') ?? '100,65536').split(',').map(Number);
  const cases = (opt('--cases') ?? 'event,event50,call,routed,routed50').split(',');
  const slices = Number(opt('--slices') ?? 100);
  const roots: [string, string] = [here, path.resolve(baseline)];
  const results = new Map<string, Array<[number, number]>>();
  // A fresh process per case and round: what V8 learned on one case (shapes, inlining) does not
  // colour the next. The build loaded first alternates by round: in one process two copies of
  // the same code measured up to 4 % apart, in favour of the first loaded.
  for (let round = 0; round < rounds; round++) {
    for (const bytes of sizes) {
      for (const [from, to] of pairs) {
        for (const kase of cases) {
          const r = await inWorker({ roots, baselineFirst: round % 2 === 1, from, to, bytes, kase, slices });
          const key = `${bytes} B | ${kase} | ${from}→${to}`;
          results.set(key, [...(results.get(key) ?? []), r]);
        }
      }
    }
    process.stdout.write(`  round ${round + 1} of ${rounds} done\n`);
  }
  const pct = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
  process.stdout.write(
    `\nrouter CPU µs per relayed message (call = CALL→INVOCATION + YIELD→RESULT; routed50 per publication), ${rounds} rounds of ${slices} interleaved slice pairs\n`,
  );
  process.stdout.write(
    '| payload | case | serializers | this build | baseline | change: median (range) over rounds |\n| --- | --- | --- | --- | --- | --- |\n',
  );
  for (const [key, runs] of results) {
    const ratios = runs.map(([a, b]) => (a / b - 1) * 100).sort((x, y) => x - y);
    const cells = [median(runs.map((p) => p[0])).toFixed(2), median(runs.map((p) => p[1])).toFixed(2)];
    process.stdout.write(
      `| ${key.split(' | ').join(' | ')} | ${cells.join(' | ')} | ${pct(median(ratios))} (${pct(ratios[0] as number)} to ${pct(ratios[ratios.length - 1] as number)}) |\n`,
    );
  }
}

if (require.main === module && process.argv[2] !== 'worker') {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
