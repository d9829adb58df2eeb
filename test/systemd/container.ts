// A Debian 12 container booted with systemd as PID 1 (systemd-nspawn), for the tests that check
// the unit as users run it. Owns: a private copy of the cached root file system, boot, commands
// inside (nsenter), hard kill, cleanup. Knows nothing about wampgate.

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root, from dist/test/systemd. */
export const REPO = resolve(__dirname, '../../..');

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command on the host with a bound wait; never throws for a non-zero exit. */
export function host(cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ExecResult> {
  return new Promise((resolvePromise) => {
    execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env, cwd: options.cwd ?? REPO },
      (err, stdout, stderr) => {
        const code: unknown = err ? (err as { code?: unknown }).code : 0;
        const killed = err !== null && (err as { killed?: boolean }).killed === true;
        resolvePromise({
          code: typeof code === 'number' ? code : null,
          stdout,
          stderr: killed ? `${stderr}\n(killed after timeout: ${cmd} ${args.join(' ')})` : stderr,
        });
      },
    );
  });
}

export async function hostOk(cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const r = await host(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined; fails naming what it waited for. */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

/** Whether this machine can run the container tests at all (root, nspawn, debootstrap). */
export function containerSupport(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['systemd-nspawn', 'debootstrap', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed`;
  }
  return undefined;
}

export class Container {
  private nspawn: ChildProcess | undefined;
  private leader = 0;
  private bootCount = 0;

  private constructor(
    /** The scratch directory: root/ (the container's /) and boot logs. */
    readonly dir: string,
  ) {}

  get root(): string {
    return join(this.dir, 'root');
  }

  /** A private copy of the cached root file system (`.ci/rootfs ARCH`), under `/var/tmp`. An
   * arm64 tree runs through qemu-user-static (binfmt_misc), about 15 times slower than native. */
  static async create(arch = 'amd64'): Promise<Container> {
    const cached = (await hostOk(join(REPO, '.ci/rootfs'), [arch], { timeoutMs: 30 * 60_000 })).trim();
    const dir = mkdtempSync('/var/tmp/wampgate-systemd-');
    // cp --reflink=auto: a cheap clone where the file system can, a plain copy elsewhere.
    await hostOk('cp', ['-a', '--reflink=auto', cached, join(dir, 'root')], { timeoutMs: 10 * 60_000 });
    return new Container(dir);
  }

  /** Runs a command in the (not booted) root file system, with the host's network. */
  async run(cmd: string, timeoutMs = 600_000): Promise<ExecResult> {
    return host('systemd-nspawn', ['--quiet', '--register=no', '--keep-unit', '-D', this.root, '--pipe', '-E', 'HOME=/root', '/bin/sh', '-c', cmd], {
      timeoutMs,
    });
  }

  /** Starts a long-running command in the (not booted) root file system, sharing the host's
   * network (so the host can connect to it); its output goes to `log` in the scratch dir. */
  start(cmd: string, log: string): ChildProcess {
    const fd = openSync(join(this.dir, log), 'w');
    try {
      return spawn('systemd-nspawn', ['--quiet', '--register=no', '--keep-unit', '-D', this.root, '-E', 'HOME=/root', '/bin/sh', '-c', cmd], {
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
  }

  log(name: string): string {
    const f = join(this.dir, name);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** Boots systemd as PID 1 with a private network (only loopback: default ports are free). */
  async boot(): Promise<void> {
    this.bootCount++;
    const log = openSync(join(this.dir, `boot-${this.bootCount}.log`), 'w');
    try {
      this.nspawn = spawn('systemd-nspawn', ['--quiet', '--register=no', '--keep-unit', '--private-network', '-D', this.root, '--boot'], {
        // A unified cgroup hierarchy inside, as on Debian 12 and Raspberry Pi OS (the host may be hybrid).
        env: { ...process.env, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' },
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const nspawnPid = this.nspawn.pid ?? 0;
    this.leader = await waitUntil(async () => leaderOf(nspawnPid), 'the container PID 1', 30_000, 100);
    await waitUntil(
      async () => {
        const r = await this.exec(['systemctl', 'is-system-running']);
        const state = r.stdout.trim();
        return state === 'running' || state === 'degraded' ? state : undefined;
      },
      'systemd in the container to finish booting',
      90_000,
      250,
    );
  }

  /** Runs a command inside the booted container (all its namespaces). */
  exec(argv: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    if (this.leader === 0) throw new Error('container not booted');
    const args = ['-t', String(this.leader), '-a', '--', 'env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'HOME=/root', ...argv];
    if (options.input === undefined) return host('nsenter', args, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
    const input = options.input;
    return new Promise((resolvePromise) => {
      const child = spawn('nsenter', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolvePromise({ code, stdout, stderr });
      });
      child.stdin.end(input);
    });
  }

  /** `sh -c SCRIPT` inside; throws with the output on a non-zero exit. */
  async sh(script: string, options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    const r = await this.exec(['/bin/sh', '-c', script], options);
    if (r.code !== 0) throw new Error(`in container: ${script}\nexit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** Power cut: SIGKILL to the container's PID 1 takes every process in it down at once. */
  async hardKill(): Promise<void> {
    const n = this.nspawn;
    if (!n || this.leader === 0) return;
    const exited = new Promise<void>((r) => (n.exitCode !== null || n.signalCode !== null ? r() : n.once('exit', () => r())));
    process.kill(this.leader, 'SIGKILL');
    await Promise.race([exited, sleep(30_000).then(() => n.kill('SIGKILL'))]);
    await exited;
    this.nspawn = undefined;
    this.leader = 0;
  }

  bootLog(): string {
    const f = join(this.dir, `boot-${this.bootCount}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  async destroy(): Promise<void> {
    await this.hardKill();
    if (!process.env.WAMPGATE_KEEP_CONTAINER) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The PID (host namespace) of the process that is PID 1 in a child PID namespace of nspawn. */
function leaderOf(nspawnPid: number): number | undefined {
  const seen = new Set<number>();
  const queue = [nspawnPid];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
    if (ns.length >= 2 && ns[ns.length - 1] === '1' && readCmd(pid).includes('systemd')) return pid;
    try {
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        const kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
        if (kids) queue.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
  }
  return undefined;
}

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
