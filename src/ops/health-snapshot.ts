// Owns the shape of the board health snapshot: what HealthMonitor takes every interval, what the
// ops part publishes on wampgate.health and the status page shows. Plain JSON data only.

import type { ThrottleStatus } from './throttle';

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
