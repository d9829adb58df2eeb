// Reconnect delays for every link that retries (uplink, MQTT, serial ports, kept sessions): one
// rule everywhere. It owns only the numbers; the caller sleeps and decides when a success
// resets it.

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /**
   * Share (0..1) of each delay taken off at random. Links to a shared server (the cloud, an MQTT
   * broker) use NETWORK_JITTER so a fleet that lost the same server does not come back in
   * lockstep; links to something only this process uses (a serial device, its own realm) use 0.
   */
  jitter: number;
}

/** Default jitter of network links: each delay is uniform in [base / 2, base]. */
export const NETWORK_JITTER = 0.5;

/**
 * Exponential backoff: initial × 2^n capped at max, then up to `jitter` of it taken off at
 * random. Randomised down, never up: max stays a real upper bound, and with jitter < 1 a delay
 * never collapses to zero (full jitter would let a fleet hammer a server that just came back).
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call counts one more attempt. */
  next(): number {
    const base = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base * (1 - this.options.jitter * this.random()));
  }

  /** After a success: the next delay is the initial one again. */
  reset(): void {
    this.attempt = 0;
  }
}
