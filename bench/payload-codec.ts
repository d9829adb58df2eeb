// Payload codec micro-bench (issue 9, a diagnostic beside bench/payload.ts): the router's own
// per-message serializer work on the relay path — SerializedPeer.receiveFrame of the sender's
// frame, then SerializedPeer.send of the EVENT / INVOCATION / RESULT to the receiver — with no
// sockets, so a change of a few percent is visible above the VM's noise. Each build runs in its
// own forked process (cbor-x keeps tag decoders process-wide), the order alternating per round.
//
//   node dist/bench/payload-codec.js --router DIR [--rounds 7] [--ms 400] [--sizes 100,65536]
//     [--pairs json-msgpack,msgpack-json] [--cases event,call]
//
// Figures are CPU microseconds (process.cpuUsage) per message relayed; the change is the median
// and range of the per-round ratios (this build against the baseline).

import { fork } from 'node:child_process';
import * as path from 'node:path';

type Name = 'json' | 'msgpack' | 'cbor';

interface Task {
  root: string;
  pairs: Array<[Name, Name]>;
  sizes: number[];
  cases: string[];
  ms: number;
}

/** The same records as bench/payload.ts (an ID, a millisecond timestamp, a reading, a string). */
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

interface PeerLike {
  setListener(l: unknown): void;
  receiveFrame(frame: Buffer): void;
  send(msg: unknown): unknown;
}
type Msg = Record<string, unknown> & { args?: unknown[]; kwargs?: unknown };

/** Runs in the forked worker: loads one build's SerializedPeer and serializers by path. */
function runTask(task: Task): Record<string, number> {
  const load = (p: string): Record<string, unknown> => require(path.join(task.root, 'dist', 'src', p)) as Record<string, unknown>;
  const { SerializedPeer } = load('transports/serialized-peer') as { SerializedPeer: new (t: unknown, s: unknown, c: unknown) => PeerLike };
  const { serializerByName } = load('serializers/index') as { serializerByName: (n: string) => { encode(v: unknown): Buffer } };
  let passthru: { copyPayload?: (a: unknown, b: unknown) => void } = {};
  try {
    passthru = load('core/payload-passthru') as typeof passthru;
  } catch {
    // The baseline build copies args/kwargs by hand (no encoded form to carry).
  }
  const copy = (from: Msg, to: Msg): void => {
    if (passthru.copyPayload) passthru.copyPayload(from, to);
    else {
      if (from.args !== undefined) to.args = from.args;
      if (from.kwargs !== undefined) to.kwargs = from.kwargs;
    }
  };
  let sink = 0;
  const channel = { writeFrame: (f: Buffer) => void (sink += f.length), close: () => undefined, bufferedBytes: () => 0 };
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
  const out: Record<string, number> = {};
  for (const bytes of task.sizes) {
    const args = makeArgs(bytes);
    for (const [from, to] of task.pairs) {
      const a = peer(from);
      const b = peer(to);
      const fromS = serializerByName(from);
      const toS = serializerByName(to);
      const publish = fromS.encode([16, 1, {}, 'bench.payload', args]);
      const call = fromS.encode([48, 1, {}, 'bench.payload.echo', args]);
      const yieldFrame = toS.encode([70, 1, {}, args]);
      const relay: Record<string, () => void> = {
        event: () => {
          a.p.receiveFrame(publish);
          const ev: Msg = { type: 36, subscription: 1234567, publication: 7654321, details: {} };
          copy(a.last(), ev);
          b.p.send(ev);
        },
        // One call is two relays: CALL → INVOCATION and YIELD → RESULT.
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
      for (const c of task.cases) {
        const fn = relay[c] as () => void;
        for (let i = 0; i < 200; i++) fn(); // warm-up: let V8 optimise
        let n = 0;
        const t0 = process.cpuUsage();
        const wall = Date.now();
        while (Date.now() - wall < task.ms) {
          for (let i = 0; i < 20; i++) fn();
          n += 20;
        }
        const d = process.cpuUsage(t0);
        out[`${bytes} B | ${c} | ${from}→${to}`] = (d.user + d.system) / n;
      }
    }
  }
  if (sink < 0) out.sink = sink;
  return out;
}

if (process.argv[2] === 'worker') {
  process.once('message', (task: Task) => {
    process.send?.(runTask(task), () => process.exit(0));
  });
}

function inWorker(task: Task): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['worker'], { stdio: 'inherit' });
    child.once('message', (m) => resolve(m as Record<string, number>));
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
  const rounds = Number(opt('--rounds') ?? 7);
  const names: Name[] = ['json', 'msgpack', 'cbor'];
  const all: Array<[Name, Name]> = names.flatMap((a) => names.map((b): [Name, Name] => [a, b]));
  const filter = opt('--pairs')?.split(',');
  const task = {
    pairs: filter ? all.filter(([a, b]) => filter.includes(`${a}-${b}`)) : all,
    sizes: (opt('--sizes') ?? '100,65536').split(',').map(Number),
    cases: (opt('--cases') ?? 'event,call').split(','),
    ms: Number(opt('--ms') ?? 400),
  };
  const builds: Array<[string, string]> = [
    ['this build', path.resolve(__dirname, '..', '..')],
    ['baseline', path.resolve(baseline)],
  ];
  const results = new Map<string, Map<string, number[]>>();
  for (let round = 0; round < rounds; round++) {
    for (const [label, root] of round % 2 === 0 ? builds : [...builds].reverse()) {
      const r = await inWorker({ ...task, root });
      for (const [key, us] of Object.entries(r)) {
        if (key === 'sink') continue;
        const per = results.get(key) ?? new Map<string, number[]>();
        results.set(key, per);
        per.set(label, [...(per.get(label) ?? []), us]);
      }
      process.stdout.write(`  round ${round + 1} ${label} done\n`);
    }
  }
  const median = (l: number[]): number => [...l].sort((x, y) => x - y)[Math.floor(l.length / 2)] as number;
  const pct = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
  process.stdout.write(`\nrouter codec CPU µs per relayed message (call = CALL→INVOCATION + YIELD→RESULT): median over ${rounds} rounds\n`);
  process.stdout.write('| payload | case | serializers | this build | baseline | change per round: median (range) |\n| --- | --- | --- | --- | --- | --- |\n');
  for (const [key, per] of results) {
    const a = per.get('this build') ?? [];
    const b = per.get('baseline') ?? [];
    const ratios = a.map((v, i) => ((v - (b[i] as number)) / (b[i] as number)) * 100).sort((x, y) => x - y);
    process.stdout.write(
      `| ${key.split(' | ').join(' | ')} | ${median(a).toFixed(2)} | ${median(b).toFixed(2)} | ${pct(median(ratios))} (${pct(ratios[0] as number)} to ${pct(ratios[ratios.length - 1] as number)}) |\n`,
    );
  }
}

if (process.argv[2] !== 'worker') {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
