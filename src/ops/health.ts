// Owns the board health snapshot: CPU load and temperature, memory, disk of the data directory,
// network interfaces, uptime, Raspberry Pi throttling flags, and this process's own footprint.
// Does not own publishing it (the status server and a meta session read `snapshot`).
//
// Cost matters on a Pi: per poll we only read small files under /proc and /sys, call statfs and
// si.mem() (which reads /proc/meminfo). systeminformation's currentLoad(), cpuTemperature(),
// networkStats() and time() spawn shells on Linux, some with execSync (blocking the event loop),
// so they are not used per poll; static facts (OS, CPU) come from systeminformation once.

import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import type * as SystemInformation from 'systeminformation';
import type { Logger } from '../util/logger';
import { quietLogger } from '../util/logger';

// systeminformation is large; it is loaded on the first poll, not when the gateway starts.
let siModule: typeof SystemInformation | undefined;
function si(): typeof SystemInformation {
  return (siModule ??= require('systeminformation') as typeof SystemInformation);
}

export interface ThrottleFlags {
  /** The raw bit field as the firmware reports it. */
  raw: number;
  underVoltageNow: boolean;
  frequencyCappedNow: boolean;
  throttledNow: boolean;
  softTempLimitNow: boolean;
  underVoltageOccurred: boolean;
  frequencyCappedOccurred: boolean;
  throttledOccurred: boolean;
  softTempLimitOccurred: boolean;
}

export interface ThrottleStatus extends ThrottleFlags {
  source: 'sysfs' | 'vcgencmd';
}

export interface BoardInfo {
  /** /proc/device-tree/model, e.g. "Raspberry Pi 4 Model B Rev 1.4"; null off ARM boards. */
  model: string | null;
  os: string | null;
  kernel: string;
  arch: string;
  cpuBrand: string | null;
  cpuCores: number;
  nodeVersion: string;
}

export interface NetworkInterfaceHealth {
  name: string;
  /** operstate "up", or "unknown" with IFF_UP set (tun, ppp and some Wi-Fi drivers report that). */
  up: boolean;
  operstate: string | null;
  ip4: string | null;
  rxBytes: number | null;
  txBytes: number | null;
}

export interface HealthSnapshot {
  /** Wall-clock ms when taken; wrong until the clock is synced on boards without an RTC. */
  takenAt: number;
  board: BoardInfo;
  cpu: {
    /** Share of all cores busy since the previous poll, 0..1; null on the first poll if unknown. */
    usage: number | null;
    load1: number;
    load5: number;
    load15: number;
    temperatureC: number | null;
  };
  memory: {
    totalBytes: number | null;
    /** MemAvailable: what can be allocated without swapping. */
    availableBytes: number | null;
    swapTotalBytes: number | null;
    swapUsedBytes: number | null;
  };
  process: {
    rssBytes: number;
    heapUsedBytes: number;
    heapTotalBytes: number;
    externalBytes: number;
    /** Total CPU time of this process (user + system). */
    cpuSeconds: number;
    /** Share of one core used since the previous poll. */
    cpuUsage: number | null;
    uptimeSeconds: number;
  };
  /** statfs of the data directory, or null if it is not given or unreadable. */
  disk: {
    path: string;
    totalBytes: number;
    freeBytes: number;
    /** Free to unprivileged users (what df shows as Avail). */
    availableBytes: number;
    /** As df computes Use%: used / (used + available). */
    usedRatio: number;
  } | null;
  network: NetworkInterfaceHealth[];
  uptimeSeconds: number;
  /** Raspberry Pi firmware throttling flags; null where the board does not report them. */
  throttled: ThrottleStatus | null;
}

// Bits of the firmware's get_throttled value (Raspberry Pi documentation, "vcgencmd get_throttled").
const THROTTLE_BITS = {
  underVoltageNow: 0,
  frequencyCappedNow: 1,
  throttledNow: 2,
  softTempLimitNow: 3,
  underVoltageOccurred: 16,
  frequencyCappedOccurred: 17,
  throttledOccurred: 18,
  softTempLimitOccurred: 19,
} as const;

export function decodeThrottled(raw: number): ThrottleFlags {
  const bit = (n: number): boolean => ((raw >>> n) & 1) === 1;
  return {
    raw,
    underVoltageNow: bit(THROTTLE_BITS.underVoltageNow),
    frequencyCappedNow: bit(THROTTLE_BITS.frequencyCappedNow),
    throttledNow: bit(THROTTLE_BITS.throttledNow),
    softTempLimitNow: bit(THROTTLE_BITS.softTempLimitNow),
    underVoltageOccurred: bit(THROTTLE_BITS.underVoltageOccurred),
    frequencyCappedOccurred: bit(THROTTLE_BITS.frequencyCappedOccurred),
    throttledOccurred: bit(THROTTLE_BITS.throttledOccurred),
    softTempLimitOccurred: bit(THROTTLE_BITS.softTempLimitOccurred),
  };
}

/**
 * Parses what the firmware prints: "throttled=0x50005" (vcgencmd) or "50005" (the sysfs
 * attribute prints hex without a prefix). Returns null for anything else.
 */
export function parseThrottled(text: string): number | null {
  const m = /^\s*(?:throttled=)?(?:0x)?([0-9a-f]{1,8})\s*$/i.exec(text);
  if (!m || m[1] === undefined) return null;
  return parseInt(m[1], 16);
}

export interface HealthMonitorOptions {
  logger?: Logger;
  /** Directory whose filesystem is reported (the SQLite outbox lives there). */
  dataDir?: string;
  /** Poll period; default 10 s. */
  intervalMs?: number;
  /** Report the loopback interface too; default false. */
  includeLoopback?: boolean;
  /** Overridable for tests; defaults are the real paths. */
  throttledPath?: string;
  vcgencmd?: string;
  /** vcgencmd spawns a process: ask it at most this often (default 60 s). */
  vcgencmdIntervalMs?: number;
}

const DEFAULT_THROTTLED_PATH = '/sys/devices/platform/soc/soc:firmware/get_throttled';

interface CpuTimes {
  busy: number;
  total: number;
}

async function readText(path: string): Promise<string | null> {
  try {
    return (await fsp.readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function readNumber(path: string): Promise<number | null> {
  const t = await readText(path);
  if (t === null || t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** The aggregate "cpu" line of /proc/stat: busy and total jiffies. */
function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal (guest is already counted in user)
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function cpuTimesFromOs(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
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
  private vcgencmdAt = 0;
  private vcgencmdLast: ThrottleStatus | null = null;
  /** part -> failing: log a part's failure once when it starts and once when it recovers. */
  private readonly failing = new Map<string, boolean>();

  constructor(options: HealthMonitorOptions = {}) {
    this.options = options;
    this.log = (options.logger ?? quietLogger).child('health');
    this.intervalMs = Math.max(1000, options.intervalMs ?? 10_000);
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
    const board = this.board ?? (this.board = await this.loadBoard());
    const [cpuUsage, temperatureC, memory, disk, network, throttled] = await Promise.all([
      this.guard('cpu', null, () => this.cpuUsage()),
      this.guard('temperature', null, () => this.temperature()),
      this.guard('memory', { totalBytes: null, availableBytes: null, swapTotalBytes: null, swapUsedBytes: null }, () => this.memory()),
      this.guard('disk', null, () => this.disk()),
      this.guard('network', [], () => this.network()),
      this.guard('throttled', null, () => this.throttled()),
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

  private async loadBoard(): Promise<BoardInfo> {
    // The device tree names the exact board revision; a NUL terminates it.
    const model =
      (await readText('/proc/device-tree/model'))?.replace(/\0/g, '') ?? (await readText('/sys/firmware/devicetree/base/model'))?.replace(/\0/g, '') ?? null;
    const osInfo = await this.guard('os-info', null, () => si().osInfo());
    const cpu = await this.guard('cpu-info', null, () => si().cpu());
    const cpuBrand = cpu ? [cpu.manufacturer, cpu.brand].filter((s) => s).join(' ') || null : null;
    return {
      model: model || null,
      os: osInfo ? [osInfo.distro, osInfo.release, osInfo.codename ? `(${osInfo.codename})` : ''].filter((s) => s).join(' ') || null : null,
      kernel: os.release(),
      arch: os.arch(),
      cpuBrand,
      cpuCores: os.availableParallelism(),
      nodeVersion: process.version,
    };
  }

  private async cpuUsage(): Promise<number | null> {
    const stat = await readText('/proc/stat');
    const now = (stat !== null ? parseProcStat(stat) : null) ?? cpuTimesFromOs();
    const prev = this.prevCpu;
    this.prevCpu = now;
    if (!prev) return null;
    const dTotal = now.total - prev.total;
    if (dTotal <= 0) return null;
    return Math.min(1, Math.max(0, (now.busy - prev.busy) / dTotal));
  }

  private async temperature(): Promise<number | null> {
    if (this.thermalPath === undefined) this.thermalPath = await this.findThermalZone();
    if (this.thermalPath === null) return null;
    const milli = await readNumber(this.thermalPath);
    return milli === null ? null : Math.round(milli / 100) / 10;
  }

  /** Prefer a zone whose type names the CPU or SoC (Pi: "cpu-thermal"), else zone 0. */
  private async findThermalZone(): Promise<string | null> {
    const base = '/sys/class/thermal';
    let zones: string[];
    try {
      zones = (await fsp.readdir(base)).filter((z) => z.startsWith('thermal_zone')).sort();
    } catch {
      return null;
    }
    let first: string | null = null;
    for (const z of zones) {
      const type = (await readText(`${base}/${z}/type`))?.toLowerCase() ?? '';
      const path = `${base}/${z}/temp`;
      if ((await readNumber(path)) === null) continue;
      first ??= path;
      if (/cpu|soc|x86_pkg/.test(type)) return path;
    }
    return first;
  }

  private async memory(): Promise<HealthSnapshot['memory']> {
    const m = await si().mem();
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
    const total = num(m.total);
    if (total === null || total === 0) throw new Error('systeminformation mem() returned no total');
    return { totalBytes: total, availableBytes: num(m.available), swapTotalBytes: num(m.swaptotal), swapUsedBytes: num(m.swapused) };
  }

  private async disk(): Promise<HealthSnapshot['disk']> {
    const path = this.options.dataDir;
    if (path === undefined) return null;
    const s = await fsp.statfs(path);
    const totalBytes = s.blocks * s.bsize;
    const freeBytes = s.bfree * s.bsize;
    const availableBytes = s.bavail * s.bsize;
    const used = totalBytes - freeBytes;
    const usedRatio = used + availableBytes > 0 ? used / (used + availableBytes) : 0;
    return { path, totalBytes, freeBytes, availableBytes, usedRatio };
  }

  private async network(): Promise<NetworkInterfaceHealth[]> {
    // /sys/class/net lists interfaces without addresses too (a down eth0 is worth showing).
    const names = (await fsp.readdir('/sys/class/net')).sort();
    const addrs = os.networkInterfaces();
    const out: NetworkInterfaceHealth[] = [];
    for (const name of names) {
      if (name === 'lo' && !this.options.includeLoopback) continue;
      const dir = `/sys/class/net/${name}`;
      const [operstate, flagsText, rxBytes, txBytes] = await Promise.all([
        readText(`${dir}/operstate`),
        readText(`${dir}/flags`),
        readNumber(`${dir}/statistics/rx_bytes`),
        readNumber(`${dir}/statistics/tx_bytes`),
      ]);
      const flags = flagsText !== null ? parseInt(flagsText, 16) : 0;
      const up = operstate === 'up' || (operstate === 'unknown' && (flags & 1) === 1);
      const ip4 = addrs[name]?.find((a) => a.family === 'IPv4')?.address ?? null;
      out.push({ name, up, operstate, ip4, rxBytes, txBytes });
    }
    return out;
  }

  private async throttled(): Promise<ThrottleStatus | null> {
    const sysfs = await readText(this.options.throttledPath ?? DEFAULT_THROTTLED_PATH);
    if (sysfs !== null) {
      const raw = parseThrottled(sysfs);
      if (raw === null) throw new Error(`unexpected get_throttled content ${JSON.stringify(sysfs.slice(0, 40))}`);
      return { ...decodeThrottled(raw), source: 'sysfs' };
    }
    // vcgencmd spawns a process and talks to the firmware: only every vcgencmdIntervalMs.
    const now = Date.now();
    if (this.vcgencmdAt !== 0 && Math.abs(now - this.vcgencmdAt) < (this.options.vcgencmdIntervalMs ?? 60_000)) return this.vcgencmdLast;
    this.vcgencmdAt = now;
    this.vcgencmdLast = await new Promise<ThrottleStatus | null>((resolve) => {
      execFile(this.options.vcgencmd ?? 'vcgencmd', ['get_throttled'], { timeout: 3000 }, (err, stdout) => {
        // Not installed (most boards) is the normal case, not a failure worth logging.
        if (err) return resolve(null);
        const raw = parseThrottled(stdout);
        resolve(raw === null ? null : { ...decodeThrottled(raw), source: 'vcgencmd' });
      });
    });
    return this.vcgencmdLast;
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
