// Owns the board health monitor: one poll every interval (concurrent callers share it) that runs
// every probe guarded — a failing probe reports null and logs once when it starts failing and once
// when it recovers — and keeps what spans polls (CPU times for usage, the thermal zone found, this
// process's CPU time). Does not own the probes (board-probes.ts, throttle.ts) nor publishing the
// snapshot (health-publisher.ts, the status server).

import * as os from 'node:os';
import type { Logger } from '../util/logger';
import { quietLogger } from '../util/logger';
import * as probe from './board-probes';
import type { CpuTimes } from './board-probes';
import type { BoardInfo, HealthSnapshot } from './health-snapshot';
import { ThrottleReader, type ThrottleReaderOptions } from './throttle';
import { DEFAULT_HEALTH_INTERVAL_MS } from './ops-config';

export type { BoardInfo, HealthSnapshot, NetworkInterfaceHealth } from './health-snapshot';
export { decodeThrottled, parseThrottled, type ThrottleFlags, type ThrottleStatus } from './throttle';

export interface HealthMonitorOptions extends ThrottleReaderOptions {
  logger?: Logger;
  /** Directory whose filesystem is reported (the SQLite outbox lives there). */
  dataDir?: string;
  /** Poll period; default 10 s. */
  intervalMs?: number;
  /** Report the loopback interface too; default false. */
  includeLoopback?: boolean;
}

export class HealthMonitor {
  readonly intervalMs: number;
  private readonly log: Logger;
  private readonly options: HealthMonitorOptions;
  private timer: NodeJS.Timeout | null = null;
  private last: HealthSnapshot | null = null;
  private polling: Promise<HealthSnapshot> | null = null;
  private board: BoardInfo | null = null;
  private prevCpu: CpuTimes | null = null;
  private prevProcess: { cpuMicros: number; at: bigint } | null = null;
  /** Discovered once: the thermal zone that belongs to the CPU, or null if there is none. */
  private thermalPath: string | null | undefined = undefined;
  private readonly throttle: ThrottleReader;
  /** part -> failing: log a part's failure once when it starts and once when it recovers. */
  private readonly failing = new Map<string, boolean>();

  constructor(options: HealthMonitorOptions = {}) {
    this.options = options;
    this.log = (options.logger ?? quietLogger).child('health');
    this.intervalMs = Math.max(1000, options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS);
    this.throttle = new ThrottleReader(options);
  }

  /** The latest snapshot, or null before the first poll finished. */
  get snapshot(): HealthSnapshot | null {
    return this.last;
  }

  /** First poll now, then every intervalMs. The timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One poll now; concurrent callers share it. Never rejects. */
  poll(): Promise<HealthSnapshot> {
    if (!this.polling) {
      this.polling = this.collect().finally(() => {
        this.polling = null;
      });
    }
    return this.polling;
  }

  private noteFailure(part: string, err: unknown): void {
    if (!this.failing.get(part)) {
      this.failing.set(part, true);
      this.log.warn('health probe failed; reporting null', { part, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private noteSuccess(part: string): void {
    if (this.failing.get(part)) {
      this.failing.set(part, false);
      this.log.info('health probe works again', { part });
    }
  }

  /** Runs a probe; a throw or rejection becomes `fallback` and one log line. */
  private async guard<T>(part: string, fallback: T, probe: () => Promise<T>): Promise<T> {
    try {
      const v = await probe();
      this.noteSuccess(part);
      return v;
    } catch (err) {
      this.noteFailure(part, err);
      return fallback;
    }
  }

  private async collect(): Promise<HealthSnapshot> {
    const board = this.board ?? (this.board = await probe.loadBoard((part, fallback, probe) => this.guard(part, fallback, probe)));
    const [cpuUsage, temperatureC, memory, disk, network, throttled] = await Promise.all([
      this.guard('cpu', null, () => this.cpuUsage()),
      this.guard('temperature', null, () => this.temperature()),
      this.guard('memory', { totalBytes: null, availableBytes: null, swapTotalBytes: null, swapUsedBytes: null }, () => probe.memory()),
      this.guard('disk', null, () => probe.disk(this.options.dataDir)),
      this.guard('network', [], () => probe.network(this.options.includeLoopback)),
      this.guard('throttled', null, () => this.throttle.read()),
    ]);
    const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
    const snapshot: HealthSnapshot = {
      takenAt: Date.now(),
      board,
      cpu: { usage: cpuUsage, load1, load5, load15, temperatureC },
      memory,
      process: this.processFootprint(),
      disk,
      network,
      uptimeSeconds: os.uptime(),
      throttled,
    };
    this.last = snapshot;
    return snapshot;
  }

  private async cpuUsage(): Promise<number | null> {
    const stat = await probe.readText('/proc/stat');
    const now = (stat !== null ? probe.parseProcStat(stat) : null) ?? probe.cpuTimesFromOs();
    const prev = this.prevCpu;
    this.prevCpu = now;
    if (!prev) return null;
    const dTotal = now.total - prev.total;
    if (dTotal <= 0) return null;
    return Math.min(1, Math.max(0, (now.busy - prev.busy) / dTotal));
  }

  private async temperature(): Promise<number | null> {
    if (this.thermalPath === undefined) this.thermalPath = await probe.findThermalZone();
    if (this.thermalPath === null) return null;
    const milli = await probe.readNumber(this.thermalPath);
    return milli === null ? null : Math.round(milli / 100) / 10;
  }

  private processFootprint(): HealthSnapshot['process'] {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const cpuMicros = cpu.user + cpu.system;
    const at = process.hrtime.bigint();
    let cpuUsage: number | null = null;
    if (this.prevProcess) {
      const dtMicros = Number(at - this.prevProcess.at) / 1000;
      if (dtMicros > 0) cpuUsage = (cpuMicros - this.prevProcess.cpuMicros) / dtMicros;
    }
    this.prevProcess = { cpuMicros, at };
    return {
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      externalBytes: mem.external,
      cpuSeconds: cpuMicros / 1e6,
      cpuUsage,
      uptimeSeconds: process.uptime(),
    };
  }
}
