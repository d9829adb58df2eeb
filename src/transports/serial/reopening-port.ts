// A serial port that survives hot-plug: opens the path, reports data, and when the device goes
// away (USB unplugged, driver error) reopens it with backoff until it is back. Shared by the
// frame-mode link and the line-mode bridge; it knows nothing of frames, lines or sessions.

import { stat, statSync } from 'node:fs';
import { SerialPort } from 'serialport';
import type { Logger } from '../../util/logger';
import { Backoff } from '../../util/backoff';

/** 115200 8N1, what USB-serial sensors and the firmware bridge speak out of the box. Reopen after
 * 0.5 s (a replug settles that fast) doubling to 10 s (a port gone for good costs a stat every 10 s);
 * the device path is checked every second so an unplug is noticed even while the port is quiet. */
export const PORT_DEFAULTS = {
  baudRate: 115200,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
  reopenMinMs: 500,
  reopenMaxMs: 10_000,
  presenceCheckMs: 1000,
} as const;

export type ReopeningPortState = 'opening' | 'open' | 'unplugged' | 'closed';
export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export interface SerialPortSettings {
  /** Device path; prefer the stable /dev/serial/by-id/… names over /dev/ttyUSBn. */
  path: string;
  /** Default 115200. */
  baudRate?: number;
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 'none'. */
  parity?: SerialParity;
  /** Default 1. */
  stopBits?: 1 | 1.5 | 2;
}

export interface ReopeningPortOptions extends SerialPortSettings {
  /** First reopen delay after the port is lost; doubles up to reopenMaxMs. Default 500. */
  reopenMinMs?: number;
  /** Default 10000. */
  reopenMaxMs?: number;
  /**
   * While open, check this often that the path still names the device that was opened; 0 = never.
   * Default 1000. Needed because a hung-up tty (USB unplugged, pty master gone) reads as EOF,
   * which the serialport bindings retry in a loop instead of reporting a disconnect.
   */
  presenceCheckMs?: number;
  logger: Logger;
  /** The port is open (the first time or again after a loss). */
  onOpen(): void;
  onData(chunk: Buffer): void;
  /** A port that was open (or opening) is gone; `reason` is the driver's message. */
  onLost(reason: string): void;
  onStateChange?(state: ReopeningPortState): void;
}

export class ReopeningPort {
  readonly path: string;
  private readonly settings: Required<SerialPortSettings>;
  /** No jitter: the device is this process's alone, nobody else reopens it in lockstep. */
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private current: ReopeningPortState = 'closed';
  private changedAt = Date.now();
  private started = false;
  private port: SerialPort | undefined;
  /** The delay of the scheduled reopen attempt. */
  private retryDelay = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private error: string | undefined;
  private buffered = 0;
  private readonly presenceCheckMs: number;
  private presenceTimer: NodeJS.Timeout | undefined;
  /** Successful opens, the first one included. */
  opens = 0;

  constructor(private readonly options: ReopeningPortOptions) {
    this.path = options.path;
    this.settings = {
      path: options.path,
      baudRate: options.baudRate ?? PORT_DEFAULTS.baudRate,
      dataBits: options.dataBits ?? PORT_DEFAULTS.dataBits,
      parity: options.parity ?? PORT_DEFAULTS.parity,
      stopBits: options.stopBits ?? PORT_DEFAULTS.stopBits,
    };
    this.backoff = new Backoff({
      initialDelayMs: options.reopenMinMs ?? PORT_DEFAULTS.reopenMinMs,
      maxDelayMs: options.reopenMaxMs ?? PORT_DEFAULTS.reopenMaxMs,
      jitter: 0,
    });
    this.presenceCheckMs = options.presenceCheckMs ?? PORT_DEFAULTS.presenceCheckMs;
    this.log = options.logger;
  }

  get state(): ReopeningPortState {
    return this.current;
  }
  /** Epoch ms when the current state began. */
  get since(): number {
    return this.changedAt;
  }
  /** Why the port was last lost or failed to open. */
  get lastError(): string | undefined {
    return this.error;
  }
  /** Delay before the next reopen attempt, while one is scheduled. */
  get nextRetryMs(): number | undefined {
    return this.current === 'unplugged' && this.retryTimer ? this.retryDelay : undefined;
  }
  /** Bytes handed to the port and not yet drained by the OS. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Opens the port (retrying with backoff while it is absent). Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.openPort();
  }

  /** Writes when open; false (nothing written) otherwise. A write error counts as losing the port. */
  write(data: Buffer, done?: (err: Error | null) => void): boolean {
    const port = this.port;
    if (!port || this.current !== 'open') return false;
    this.buffered += data.length;
    port.write(data, (err) => {
      if (port !== this.port) return;
      this.buffered = Math.max(0, this.buffered - data.length);
      if (err) this.portFailed(port, err);
      done?.(err ?? null);
    });
    return true;
  }

  /** Stops reopening and closes the port. Resolves when the port is closed. */
  async close(): Promise<void> {
    if (this.current === 'closed' && !this.started) return;
    this.started = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const port = this.port;
    this.detachPort();
    this.setState('closed');
    if (port?.isOpen) {
      await new Promise<void>((resolve) => {
        try {
          port.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
  }

  private setState(state: ReopeningPortState): void {
    if (this.current === state) return;
    this.current = state;
    this.changedAt = Date.now();
    try {
      this.options.onStateChange?.(state);
    } catch (err) {
      this.log.error('onStateChange threw', { path: this.path, err });
    }
  }

  private openPort(): void {
    if (!this.started) return;
    this.retryTimer = undefined;
    if (this.current !== 'unplugged') this.setState('opening');
    let port: SerialPort;
    try {
      port = new SerialPort({ ...this.settings, autoOpen: false });
    } catch (err) {
      // Bad settings throw synchronously; retrying cannot fix them but must not crash either.
      this.portFailed(undefined, err);
      return;
    }
    this.port = port;
    // Attached before open so that no port error is ever unhandled (an unhandled 'error' event
    // would take the whole gateway down).
    port.on('error', (err: Error) => this.portFailed(port, err));
    port.on('close', (err?: Error | null) => this.portFailed(port, err ?? new Error('port closed')));
    port.on('data', (chunk: Buffer) => {
      if (port === this.port) this.options.onData(chunk);
    });
    port.open((err) => {
      if (err) this.portFailed(port, err);
      else this.portOpened(port);
    });
  }

  private portOpened(port: SerialPort): void {
    if (port !== this.port || !this.started) {
      port.close(() => undefined);
      return;
    }
    // Vanished between open and now: still 'opening', so no onLost for a port never reported open.
    if (!this.watchPresence(port)) return;
    this.opens++;
    this.backoff.reset();
    this.buffered = 0;
    if (this.opens === 1) this.log.info('serial port open', { path: this.path, baudRate: this.settings.baudRate });
    else this.log.info('serial port reopened', { path: this.path, baudRate: this.settings.baudRate, opens: this.opens });
    this.setState('open');
    try {
      this.options.onOpen();
    } catch (err) {
      this.log.error('onOpen threw', { path: this.path, err });
    }
  }

  private portFailed(port: SerialPort | undefined, err: unknown): void {
    if (port !== undefined && port !== this.port) return; // a stale port's late events
    if (!this.started) return;
    const message = err instanceof Error ? err.message : String(err);
    const wasOpen = this.current === 'open';
    this.error = message;
    this.detachPort();
    if (port?.isOpen) port.close(() => undefined);
    if (wasOpen || this.current === 'opening') {
      this.log.warn('serial port unplugged', { path: this.path, error: message });
    } else {
      this.log.debug('serial port still absent', { path: this.path, error: message });
    }
    if (wasOpen) {
      try {
        this.options.onLost(message);
      } catch (e) {
        this.log.error('onLost threw', { path: this.path, err: e });
      }
    }
    this.setState('unplugged');
    if (this.retryTimer) return;
    this.retryDelay = this.backoff.next();
    this.retryTimer = setTimeout(() => this.openPort(), this.retryDelay);
  }

  /**
   * Polls the path while the port is open: gone, or now a different device node (replugged
   * between two checks), means the port we hold is dead even if the driver has not said so.
   */
  private watchPresence(port: SerialPort): boolean {
    if (this.presenceCheckMs <= 0) return true;
    let identity: string;
    try {
      const st = statSync(this.path);
      identity = `${st.dev}:${st.ino}:${st.rdev}`;
    } catch (err) {
      this.portFailed(port, err);
      return false;
    }
    const timer = setInterval(() => {
      stat(this.path, (err, st) => {
        if (port !== this.port) return;
        if (err) this.portFailed(port, new Error(`device path vanished (${err.code ?? err.message})`));
        else if (`${st.dev}:${st.ino}:${st.rdev}` !== identity) this.portFailed(port, new Error('device path now names another device'));
      });
    }, this.presenceCheckMs);
    timer.unref();
    this.presenceTimer = timer;
    return true;
  }

  /** Forgets the current port, keeping a dying port's late errors swallowed. */
  private detachPort(): void {
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    this.presenceTimer = undefined;
    const port = this.port;
    this.port = undefined;
    if (port) {
      port.removeAllListeners('data');
      port.removeAllListeners('error');
      port.on('error', () => undefined);
    }
    this.buffered = 0;
  }
}
