// Shared pieces of the core benchmark: the IPC messages between the orchestrator and its client
// workers, the fixed 100-byte payload, and readers for another process's CPU time and memory
// (/proc/<pid>/stat and /status). No WAMP logic beyond the frame shapes the workers send.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/** The payload of every PUBLISH / CALL: one 100-character string (100 bytes of UTF-8). */
export const PAYLOAD = 'x'.repeat(100);
export const TOPIC = 'bench.topic';
export const PROCEDURE = 'bench.echo';

export type Target = 'router' | 'relay';
export type SerializerName = 'json' | 'msgpack' | 'cbor';

/** What one client worker process is asked to set up. */
export interface WorkerSetup {
  cmd: 'setup';
  target: Target;
  url: string;
  serializer: SerializerName;
  mode: 'pubsub' | 'rpc';
  /** pubsub: this worker hosts the publisher (and paces it on its own subscribers). */
  publisher: boolean;
  /** pubsub: subscriber connections in this worker. */
  subscribers: number;
  /** pubsub: publications in flight (published minus received by the slowest local subscriber). */
  window: number;
  /** rpc: calls outstanding at once in a throughput run. */
  outstanding: number;
  /** A run that has not completed after this long reports what it has (counted as lost). */
  timeoutMs: number;
}

/** One run: `count` publications or calls; with `rate`, calls are paced at that many per second. */
export interface WorkerRun {
  cmd: 'run';
  count: number;
  rate?: number;
}

export type ToWorker = WorkerSetup | WorkerRun | { cmd: 'close' };

export interface RunResult {
  ev: 'done';
  complete: boolean;
  ms: number;
  /** pubsub: publications sent by this worker; rpc: calls sent. */
  sent: number;
  /** pubsub: events counted over all local subscribers in this run; rpc: results. */
  received: number;
  /** Frames that were neither the expected event/result nor setup traffic (should be 0). */
  unexpected: number;
  /** This worker's own CPU over the run (user + system), ms. */
  cpuMs: number;
  /** rpc paced runs: round trip in microseconds. */
  latency?: { p50: number; p99: number; p999: number; max: number; n: number };
}

export type FromWorker = { ev: 'ready' } | RunResult | { ev: 'error'; message: string };

// ---- another process's CPU and memory --------------------------------------------------------

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process in ms (resolution 1/CLK_TCK, usually 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces; fields after the closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** VmRSS (current) and VmHWM (peak) of a process in bytes. */
export function processMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to the port succeeds; polls every `everyMs`. */
export async function waitForPort(port: number, timeoutMs: number, everyMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not accepting connections after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** A structured payload of about `bytes` JSON bytes: records of the kind a gateway carries
 * (an ID, a millisecond timestamp, a reading, a short string); bench/payload.ts and
 * bench/payload-codec.ts measure the same records. */
export function makeArgs(bytes: number): unknown[] {
  const out: unknown[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const rec = { id: 4000 + i, t: 1764979200000 + i * 1000, v: 21.5 + (i % 10) / 10, s: 'sensor-' + (i % 100) };
    out.push(rec);
    size += JSON.stringify(rec).length + 1;
  }
  return out;
}
