// Dead-peer detection shared by the network transports: probe every interval, fail the
// connection if nothing comes back within the timeout. The transport decides what a probe is
// (RawSocket PING frame, WebSocket ping) and what proves life.

export interface KeepaliveOptions {
  /** 0 turns keepalive off. */
  intervalMs: number;
  timeoutMs: number;
  sendPing(): void;
  onTimeout(): void;
}

export class Keepalive {
  private interval: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;

  constructor(private readonly options: KeepaliveOptions) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.interval) return;
    // unref: a connection's timer must never be what keeps a stopping process alive.
    this.interval = setInterval(() => this.probe(), this.options.intervalMs).unref();
  }

  /**
   * Any inbound traffic proves the peer alive, not only a PONG: on a slow link the PONG may sit
   * behind a large message, and that is not a dead peer.
   */
  alive(): void {
    if (this.deadline) {
      clearTimeout(this.deadline);
      this.deadline = undefined;
    }
  }

  stop(): void {
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    this.alive();
  }

  private probe(): void {
    if (this.deadline) return;
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      this.stop();
      this.options.onTimeout();
    }, this.options.timeoutMs).unref();
    this.options.sendPing();
  }
}
