// Reconnect delays for every link that retries (uplink, MQTT, serial ports, kept sessions):
// exponential growth capped at a maximum, with jitter. It owns only the numbers; the caller
// sleeps and decides when a success resets it.

/** Exponential backoff: initial × 2^n capped at max, then the jitter share of it randomised. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly options: { initialDelayMs: number; maxDelayMs: number; jitter: number },
    private readonly random: () => number = Math.random,
  ) {}
  next(): number {
    const base = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // Randomise down, never up: max stays a real upper bound, and a fleet of gateways that lost
    // the same cloud does not come back in lockstep.
    return Math.round(base * (1 - this.options.jitter * this.random()));
  }
  reset(): void {
    this.attempt = 0;
  }
}
