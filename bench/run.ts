// `npm run bench`: the router's core benchmark by default; the other benchmarks with --all or by
// name (node dist/bench/run.js core outbox mqtt …). Each other benchmark runs as its own child
// process with its default arguments; one whose compiled file is missing is skipped with a note.
// Options starting with -- (other than --all) go to the core benchmark: see bench/README.md.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { killAll, runCore, USAGE } from './core/core-bench';

/** name -> compiled script, relative to dist/bench. */
const others: Record<string, string> = {
  outbox: 'outbox.js',
  mqtt: 'mqtt.js',
  uplink: 'uplink.js',
  serial: 'serial.js',
  'health-cost': 'ops/health-cost.js',
  'notify-cost': 'ops/notify-cost.js',
  payload: 'payload.js',
  'payload-codec': 'payload-codec.js',
  history: 'history.js',
  'history-writer': 'history-writer.js',
  'series-memory': 'ops/series-memory.js',
  'preauth-memory': 'preauth-memory.js',
  'auth-timing': 'auth-timing.js',
};
const groups: Record<string, string[]> = { ops: ['health-cost', 'notify-cost', 'series-memory'] };

let current: ChildProcess | undefined;

function runOther(name: string, file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { stdio: 'inherit' });
    current = child;
    child.once('exit', (code, signal) => {
      current = undefined;
      resolve(code ?? (signal ? 1 : 0));
    });
    child.once('error', (err) => {
      process.stderr.write(`${name}: ${err.message}\n`);
      resolve(1);
    });
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`usage: node dist/bench/run.js [--all | core ${Object.keys(others).join(' ')} ops …] [core options]\n${USAGE}\n`);
    return 0;
  }
  const coreArgs = argv.filter(
    (a, i) => a !== '--all' && (a.startsWith('--') || (i > 0 && ['--rounds', '--clients', '--json', '--router'].includes(argv[i - 1] as string))),
  );
  let names = argv.filter((a) => !coreArgs.includes(a) && a !== '--all').flatMap((a) => groups[a] ?? [a]);
  if (argv.includes('--all')) names = ['core', ...Object.keys(others)];
  if (names.length === 0) names = ['core'];
  let status = 0;
  for (const name of names) {
    if (name === 'core') {
      status = Math.max(status, await runCore(coreArgs));
      continue;
    }
    const rel = others[name];
    if (!rel) {
      process.stderr.write(`unknown benchmark "${name}"; known: core, ${Object.keys(others).join(', ')}, ops\n`);
      status = Math.max(status, 2);
      continue;
    }
    const file = path.join(__dirname, rel);
    if (!existsSync(file)) {
      process.stdout.write(`\n== ${name}: skipped, ${path.relative(process.cwd(), file)} is not built (no bench/${rel.replace(/\.js$/, '.ts')} yet?)\n`);
      continue;
    }
    process.stdout.write(`\n== ${name} (${path.relative(process.cwd(), file)})\n`);
    status = Math.max(status, await runOther(name, file));
  }
  return status;
}

const onSignal = (signal: NodeJS.Signals): void => {
  current?.kill(signal);
  void killAll().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main(process.argv.slice(2)).then(
  async (code) => {
    await killAll();
    process.exitCode = code;
  },
  async (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    await killAll();
    process.exitCode = 1;
  },
);
