// Runs the built CLI (`node bin/wampgate.js …`) as a child process: one-shot commands with their
// exit code and output, and a long-running `start` whose log lines can be awaited.

import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { deferred, within, WAIT_MS } from './gateway';

/** bin/wampgate.js, from dist/test/integration/support. */
export const BIN = resolve(__dirname, '../../../../bin/wampgate.js');
export const REPO = resolve(__dirname, '../../../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  return within(
    new Promise<CliResult>((resolvePromise) => {
      execFile(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO, timeout: WAIT_MS }, (err, stdout, stderr) => {
        const code: unknown = err ? (err as { code?: unknown }).code : 0;
        resolvePromise({ code: typeof code === 'number' ? code : null, stdout, stderr });
      });
    }),
    `wampgate ${args.join(' ')}`,
  );
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp, what: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, wait for the exit (SIGKILL if it hangs). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], options: { cwd?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const watchers: Array<() => void> = [];
  const onData = (d: Buffer): void => {
    output += d.toString('utf8');
    for (const w of [...watchers]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = deferred<{ code: number | null; signal: NodeJS.Signals | null }>();
  child.on('exit', (code, signal) => {
    exited.resolve({ code, signal });
    for (const w of [...watchers]) w();
  });
  let done = false;
  exited.promise.then(
    () => (done = true),
    () => undefined,
  );
  return {
    child,
    output: () => output,
    exited: exited.promise,
    waitFor(pattern, what) {
      return within(
        new Promise<void>((resolvePromise, reject) => {
          const check = (): void => {
            if (pattern.test(output)) {
              watchers.splice(watchers.indexOf(check), 1);
              resolvePromise();
            } else if (done || child.exitCode !== null) {
              watchers.splice(watchers.indexOf(check), 1);
              reject(new Error(`wampgate exited (${String(child.exitCode)}) before ${what}:\n${output}`));
            }
          };
          watchers.push(check);
          check();
        }),
        `${what}; output so far:\n${output}`,
      );
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      try {
        return await within(exited.promise, 'wampgate to exit after SIGTERM');
      } catch (err) {
        child.kill('SIGKILL');
        throw err;
      }
    },
  };
}
