// Owns the Raspberry Pi firmware's throttling flags: decoding the get_throttled bit field, parsing
// what the firmware prints, and reading it — from sysfs when the kernel offers it, else from
// vcgencmd at most once a minute (it spawns a process). Does not own when it is asked (health.ts).

import { execFile } from 'node:child_process';
import { readText } from './board-probes';

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

/** vcgencmd (no sysfs file) at most once a minute: each run forks a process and asks the firmware,
 * and under-voltage flags are sticky, so a minute loses nothing. */
const VCGENCMD_INTERVAL_MS = 60_000;
const DEFAULT_THROTTLED_PATH = '/sys/devices/platform/soc/soc:firmware/get_throttled';

export interface ThrottleReaderOptions {
  /** Overridable for tests; defaults are the real paths. */
  throttledPath?: string;
  vcgencmd?: string;
  /** vcgencmd spawns a process: ask it at most this often (default 60 s). */
  vcgencmdIntervalMs?: number;
}

export class ThrottleReader {
  private vcgencmdAt = 0;
  private vcgencmdLast: ThrottleStatus | null = null;

  constructor(private readonly options: ThrottleReaderOptions = {}) {}

  /** The flags now; null where the board does not report them. Throws on content it cannot read. */
  async read(): Promise<ThrottleStatus | null> {
    const sysfs = await readText(this.options.throttledPath ?? DEFAULT_THROTTLED_PATH);
    if (sysfs !== null) {
      const raw = parseThrottled(sysfs);
      if (raw === null) throw new Error(`unexpected get_throttled content ${JSON.stringify(sysfs.slice(0, 40))}`);
      return { ...decodeThrottled(raw), source: 'sysfs' };
    }
    // vcgencmd spawns a process and talks to the firmware: only every vcgencmdIntervalMs.
    const now = Date.now();
    if (this.vcgencmdAt !== 0 && Math.abs(now - this.vcgencmdAt) < (this.options.vcgencmdIntervalMs ?? VCGENCMD_INTERVAL_MS)) return this.vcgencmdLast;
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
}
