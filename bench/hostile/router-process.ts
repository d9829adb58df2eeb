// A gateway in its own process for the hostile-traffic benchmarks (fuzz, pre-auth memory): the
// config comes as JSON in WAMPGATE_BENCH_CONFIG, the listener addresses go to the parent over IPC,
// and each { cmd: 'stats' } is answered with memory (after a full GC when run with --expose-gc)
// and the router's and guard's counters. The same Gateway.start the CLI runs, without the CLI.

import { readdirSync, readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import type { GatewayConfig } from '../../src/config/types';
import { Gateway } from '../../src/gateway';
import { quietLogger } from '../../src/util/logger';

export interface RouterMemory {
  rss: number;
  hwm: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** rss - heapTotal - external: native memory of Node, V8 code and malloc arenas. */
  native: number;
}

export interface RouterStatsReply {
  memory: RouterMemory;
  internalErrors: number;
  sessions: number;
  closed: Record<string, number>;
  pending: number;
  heldBytes: number;
  peakHeldBytes: number;
  /** Connections admitted beyond maxPendingConnections from known addresses. */
  admittedFromReserve: number;
  fds: number;
}

/** VmRSS / VmHWM in bytes from /proc/self/status. */
function procStatus(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function fdCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.WAMPGATE_BENCH_CONFIG ?? '{}') as GatewayConfig;
  const gateway = await Gateway.start(config, { logger: quietLogger });
  const gc = (globalThis as { gc?: () => void }).gc;
  const send = (msg: unknown): void => {
    process.send?.(msg);
  };
  process.on('message', (msg: { id: number; cmd: string; gc?: boolean; file?: string }) => {
    if (msg.cmd === 'stats') {
      if (msg.gc && gc) {
        gc();
        gc();
      }
      const m = process.memoryUsage();
      const memory: RouterMemory = {
        rss: procStatus('VmRSS'),
        hwm: procStatus('VmHWM'),
        heapTotal: m.heapTotal,
        heapUsed: m.heapUsed,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        native: procStatus('VmRSS') - m.heapTotal - m.external,
      };
      const reply: RouterStatsReply = {
        memory,
        internalErrors: gateway.router.stats.internalErrors,
        sessions: gateway.router.sessions.size,
        closed: { ...gateway.router.stats.connectionsClosed },
        pending: gateway.guard.stats.pending,
        heldBytes: gateway.guard.stats.heldBytes,
        peakHeldBytes: gateway.guard.stats.peakHeldBytes,
        admittedFromReserve: gateway.guard.stats.admittedFromReserve,
        fds: fdCount(),
      };
      send({ id: msg.id, reply });
    } else if (msg.cmd === 'snapshot' && msg.file) {
      send({ id: msg.id, reply: writeHeapSnapshot(msg.file) });
    } else if (msg.cmd === 'stop') {
      void gateway.stop().then(() => process.exit(0));
    }
  });
  send({ ready: gateway.listeners.map((l) => l.address), pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`router-process: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
