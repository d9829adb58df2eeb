// Starts bench/hostile/router-process.js as a child and talks to it: its listener addresses,
// stats on request (memory breakdown, counters), stop. Optionally inside a memory cgroup of its
// own with the systemd unit's MemoryMax (cgroup v1 or v2, where this machine lets us create one
// under our own cgroup), so the unit's limit is enforced by the kernel as systemd would.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { GatewayConfig } from '../../src/config/types';
import type { ListenAddress } from '../../src/transports/transport-server';
import type { RouterStatsReply } from './router-process';

export interface RouterChild {
  pid: number;
  addresses: ListenAddress[];
  stats(gc?: boolean): Promise<RouterStatsReply>;
  snapshot(file: string): Promise<string>;
  stop(): Promise<void>;
  /** Resolves when the child exits: its code or signal (SIGKILL from the cgroup = OOM kill). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The cgroup the child runs in, if any. */
  cgroup?: MemoryCgroup;
}

export interface RouterChildOptions {
  config: GatewayConfig;
  /** Node flags, e.g. the unit's NODE_OPTIONS. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Bytes: run the child in a memory cgroup with this limit (and no swap). */
  memoryMax?: number;
}

/** A memory cgroup created below this process's own. */
export class MemoryCgroup {
  private constructor(
    readonly dir: string,
    readonly version: 1 | 2,
  ) {}

  /** Undefined when no writable memory cgroup is available here (say so in the report). */
  static create(name: string, limit: number): MemoryCgroup | undefined {
    try {
      const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
      const v1 = lines.find((l) => /^\d+:memory:/.test(l));
      if (v1 && existsSync('/sys/fs/cgroup/memory')) {
        const dir = path.join('/sys/fs/cgroup/memory', v1.split(':')[2] ?? '/', name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limit));
        // MemorySwapMax=0: memory+swap equal to memory.
        try {
          writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), String(limit));
        } catch {
          // no swap accounting: nothing to limit
        }
        return new MemoryCgroup(dir, 1);
      }
      const v2 = lines.find((l) => l.startsWith('0::'));
      if (v2 && existsSync('/sys/fs/cgroup/cgroup.controllers')) {
        const dir = path.join('/sys/fs/cgroup', v2.slice(3), name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, 'memory.max'), String(limit));
        writeFileSync(path.join(dir, 'memory.swap.max'), '0');
        return new MemoryCgroup(dir, 2);
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  get procsFile(): string {
    return path.join(this.dir, 'cgroup.procs');
  }

  /** Peak memory charged to the cgroup (RSS + page cache), bytes. */
  peak(): number {
    const file = this.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak';
    try {
      return Number(readFileSync(path.join(this.dir, file), 'utf8').trim());
    } catch {
      return -1;
    }
  }

  /** Times the kernel's OOM killer ran in this cgroup. */
  oomKills(): number {
    try {
      if (this.version === 1) {
        const m = /oom_kill (\d+)/.exec(readFileSync(path.join(this.dir, 'memory.oom_control'), 'utf8'));
        return m ? Number(m[1]) : 0;
      }
      const m = /oom_kill (\d+)/.exec(readFileSync(path.join(this.dir, 'memory.events'), 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return -1;
    }
  }

  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // still has a process: left for the next run's mkdir
    }
  }
}

export async function startRouterChild(options: RouterChildOptions): Promise<RouterChild> {
  const script = path.join(__dirname, 'router-process.js');
  const env = { ...process.env, ...options.env, WAMPGATE_BENCH_CONFIG: JSON.stringify(options.config) };
  const cgroup = options.memoryMax ? MemoryCgroup.create(`wampgate-bench-${process.pid}`, options.memoryMax) : undefined;
  let child: ChildProcess;
  const args = [...(options.nodeArgs ?? []), script];
  if (cgroup) {
    // The shell joins the cgroup, then becomes node: every byte node touches is charged.
    child = spawn('/bin/sh', ['-c', `echo $$ > '${cgroup.procsFile}' && exec "$0" "$@"`, process.execPath, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
    });
  } else {
    child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let nextId = 1;
  const waiting = new Map<number, (reply: unknown) => void>();
  const ready = new Promise<{ ready: ListenAddress[]; pid: number }>((resolve, reject) => {
    child.on('message', (msg: { id?: number; reply?: unknown; ready?: ListenAddress[]; pid?: number }) => {
      if (msg.ready) resolve(msg as { ready: ListenAddress[]; pid: number });
      else if (msg.id !== undefined) {
        waiting.get(msg.id)?.(msg.reply);
        waiting.delete(msg.id);
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`router process exited (${code ?? signal}) before it was ready`)));
  });
  void exited.then(({ code, signal }) => {
    for (const w of waiting.values()) w({ error: `router exited (${code ?? signal})` });
    waiting.clear();
  });
  const request = <T>(msg: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error('router process is gone'));
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`router process did not answer ${String(msg.cmd)} in 60 s`));
      }, 60_000);
      waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (reply && typeof reply === 'object' && 'error' in reply) reject(new Error(String((reply as { error: unknown }).error)));
        else resolve(reply as T);
      });
      child.send({ ...msg, id });
    });
  const { ready: addresses, pid } = await ready;
  return {
    pid,
    addresses,
    stats: (gc = false) => request<RouterStatsReply>({ cmd: 'stats', gc }),
    snapshot: (file) => request<string>({ cmd: 'snapshot', file }),
    async stop() {
      if (child.connected) child.send({ cmd: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      cgroup?.remove();
    },
    exited,
    ...(cgroup ? { cgroup } : {}),
  };
}
