// Owns reading the board: small files under /proc and /sys, statfs, os and systeminformation, one
// function per fact (board model and OS, CPU times, the CPU's thermal zone, memory, disk of a
// directory, network interfaces). Stateless: what is remembered between polls is health.ts's.
//
// Cost matters on a Pi: per poll only small files are read, statfs is called and si.mem() (which
// reads /proc/meminfo). systeminformation's currentLoad(), cpuTemperature(), networkStats() and
// time() spawn shells on Linux, some with execSync (blocking the event loop), so they are not used
// per poll; static facts (OS, CPU) come from systeminformation once.

import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import type * as SystemInformation from 'systeminformation';
import type { BoardInfo, HealthSnapshot, NetworkInterfaceHealth } from './health-snapshot';

// systeminformation is large; it is loaded on the first poll, not when the gateway starts.
let siModule: typeof SystemInformation | undefined;
function si(): typeof SystemInformation {
  return (siModule ??= require('systeminformation') as typeof SystemInformation);
}

/** Runs a probe; a throw or rejection becomes `fallback` (and one log line, the caller's). */
export type Guard = <T>(part: string, fallback: T, probe: () => Promise<T>) => Promise<T>;

export interface CpuTimes {
  busy: number;
  total: number;
}

export async function readText(path: string): Promise<string | null> {
  try {
    return (await fsp.readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

export async function readNumber(path: string): Promise<number | null> {
  const t = await readText(path);
  if (t === null || t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** The aggregate "cpu" line of /proc/stat: busy and total jiffies. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal (guest is already counted in user)
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export function cpuTimesFromOs(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}

export async function loadBoard(guard: Guard): Promise<BoardInfo> {
  // The device tree names the exact board revision; a NUL terminates it.
  const model =
    (await readText('/proc/device-tree/model'))?.replace(/\0/g, '') ?? (await readText('/sys/firmware/devicetree/base/model'))?.replace(/\0/g, '') ?? null;
  const osInfo = await guard('os-info', null, () => si().osInfo());
  const cpu = await guard('cpu-info', null, () => si().cpu());
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

/** Prefer a zone whose type names the CPU or SoC (Pi: "cpu-thermal"), else zone 0. */
export async function findThermalZone(): Promise<string | null> {
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

export async function memory(): Promise<HealthSnapshot['memory']> {
  const m = await si().mem();
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
  const total = num(m.total);
  if (total === null || total === 0) throw new Error('systeminformation mem() returned no total');
  return { totalBytes: total, availableBytes: num(m.available), swapTotalBytes: num(m.swaptotal), swapUsedBytes: num(m.swapused) };
}

export async function disk(path: string | undefined): Promise<HealthSnapshot['disk']> {
  if (path === undefined) return null;
  const s = await fsp.statfs(path);
  const totalBytes = s.blocks * s.bsize;
  const freeBytes = s.bfree * s.bsize;
  const availableBytes = s.bavail * s.bsize;
  const used = totalBytes - freeBytes;
  const usedRatio = used + availableBytes > 0 ? used / (used + availableBytes) : 0;
  return { path, totalBytes, freeBytes, availableBytes, usedRatio };
}

export async function network(includeLoopback = false): Promise<NetworkInterfaceHealth[]> {
  // /sys/class/net lists interfaces without addresses too (a down eth0 is worth showing).
  const names = (await fsp.readdir('/sys/class/net')).sort();
  const addrs = os.networkInterfaces();
  const out: NetworkInterfaceHealth[] = [];
  for (const name of names) {
    if (name === 'lo' && !includeLoopback) continue;
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
