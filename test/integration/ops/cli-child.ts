// Test helper, not a test: runs the real CLI (bin/wampgate.js, i.e. the compiled dist/) as a child
// process, with free ports picked beforehand and its output collected so a test can wait for a
// line ("ready") and for the exit code.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { partFactories, configPlugins } from '../../../src/cli/wiring';
import { opsPartFactory } from '../../../src/ops/ops-part';
import { healthSection, statusSection } from '../../../src/ops/ops-config';

/** From dist/test/integration/ops up to the package root. */
export const BIN = resolve(__dirname, '../../../../bin/wampgate.js');

/** Whether this build's cli/wiring.ts plugs in the ops part (the lead registers it there). */
export const opsWired =
  partFactories.includes(opsPartFactory) && configPlugins.sections?.includes(statusSection) === true && configPlugins.sections.includes(healthSection);

/** A port that was free a moment ago (bound and released): good enough for a test's child. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

export interface TempConfig {
  dir: string;
  path: string;
  wsPort: number;
  rawPort: number;
  statusPort: number;
  cleanup(): void;
}

export async function writeTempConfig(extra: (ports: { statusPort: number }) => Record<string, unknown> = () => ({})): Promise<TempConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'wampgate-cli-'));
  const [wsPort, rawPort, statusPort] = [await freePort(), await freePort(), await freePort()];
  const config = {
    realms: [{ name: 'realm1' }],
    listeners: [
      { name: 'websocket', type: 'websocket', host: '127.0.0.1', port: wsPort, path: '/ws' },
      { name: 'rawsocket', type: 'rawsocket', host: '127.0.0.1', port: rawPort },
    ],
    dataDir: join(dir, 'data'),
    ...extra({ statusPort }),
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { dir, path, wsPort, rawPort, statusPort, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliChild {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the output (stdout + stderr) matches; rejects if the child exits first. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliChild {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // The child must not think it writes to our journal, nor inherit a notify socket by accident.
  delete childEnv.JOURNAL_STREAM;
  if (env.NOTIFY_SOCKET === undefined) delete childEnv.NOTIFY_SOCKET;
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners: Array<() => void> = [];
  const onData = (c: Buffer): void => {
    out += c.toString('utf8');
    for (const l of [...listeners]) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitForOutput(re, timeoutMs = 15_000) {
      return new Promise((res, rej) => {
        const done = (err?: Error): void => {
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(check), 1);
          if (err) rej(err);
          else res();
        };
        const check = (): void => {
          if (re.test(out)) done();
        };
        const timer = setTimeout(() => done(new Error(`no ${re} in output:\n${out}`)), timeoutMs);
        listeners.push(check);
        void exited.then(({ code, signal }) => {
          if (listeners.includes(check) && !re.test(out)) done(new Error(`exited (${code ?? signal}) before ${re}:\n${out}`));
        });
        check();
      });
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const env = { ...process.env };
    delete env.JOURNAL_STREAM;
    execFile(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}
