// Owns telling systemd about readiness, status text, watchdog pings and shutdown (sd_notify), by
// running the `systemd-notify` binary: Node cannot send on an AF_UNIX datagram socket and we ship
// no native addon. Does not own deciding when the gateway is ready (the composition root calls
// ready()) nor the unit file (systemd/wampgate.service, which must say NotifyAccess=all).

import { execFile } from 'node:child_process';
import type { Logger } from '../util/logger';
import { quietLogger } from '../util/logger';

/** A systemd-notify child gets 8 s: more than its own 5 s barrier wait, so only a hung one is
 * killed, and well inside systemd's default 90 s start timeout. */
const NOTIFY_TIMEOUT_MS = 8000;

export interface Notifier {
  /** True when NOTIFY_SOCKET is set and the systemd-notify binary has not been found missing. */
  readonly enabled: boolean;
  /** READY=1 (+ STATUS=). Resolves true once systemd has taken the message; never rejects. */
  ready(status?: string): Promise<boolean>;
  status(text: string): Promise<boolean>;
  watchdog(): Promise<boolean>;
  stopping(status?: string): Promise<boolean>;
  /** Any other assignments (EXTEND_TIMEOUT_USEC=…, ERRNO=…), sent as one datagram. */
  send(assignments: readonly string[]): Promise<boolean>;
}

export interface NotifierOptions {
  logger?: Logger;
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to 'systemd-notify' looked up in PATH. */
  command?: string;
  /** The PID systemd should attribute messages to; defaults to process.pid. */
  pid?: number;
  /** A systemd-notify that hangs is killed after this long. systemd-notify's own barrier wait is 5 s. */
  timeoutMs?: number;
}

/** Sends queued one at a time so READY precedes the STATUS that follows it; bounded. */
const MAX_QUEUE = 16;

interface Pending {
  kind: 'watchdog' | 'status' | 'other';
  args: string[];
  waiters: Array<(ok: boolean) => void>;
}

// STATUS= is one line of the newline-separated datagram: a newline in it would start a new field.
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

export function createNotifier(options: NotifierOptions = {}): Notifier {
  const env = options.env ?? process.env;
  const log = (options.logger ?? quietLogger).child('systemd-notify');
  const command = options.command ?? 'systemd-notify';
  const pid = options.pid ?? process.pid;
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  const socket = env.NOTIFY_SOCKET;
  let enabled = socket !== undefined && socket !== '';
  const queue: Pending[] = [];
  let running = false;
  let failures = 0;

  // --pid=: as root, systemd-notify sends with our PID as the credential sender (so the message is
  // attributed to the main process even with NotifyAccess=main); as an unprivileged user the kernel
  // refuses that, systemd-notify falls back to its own PID and adds MAINPID=<pid> (a no-op when it
  // is already the main PID). Without --no-block, systemd-notify waits (BARRIER=1) until systemd has
  // processed the message, so it is not lost when the short-lived sender exits first.
  const run = (args: string[]): Promise<boolean> =>
    new Promise((resolve) => {
      const childEnv: NodeJS.ProcessEnv = { PATH: env.PATH ?? process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socket };
      execFile(command, [`--pid=${pid}`, ...args], { env: childEnv, timeout: timeoutMs, windowsHide: true }, (err, _stdout, stderr) => {
        if (!err) {
          if (failures > 0) log.info('systemd-notify works again', { after_failures: failures });
          failures = 0;
          resolve(true);
          return;
        }
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          // Without the binary there is no other way to notify: say so once and stop trying. Under
          // Type=notify systemd will time the start out, which is the right loud failure.
          enabled = false;
          log.error('systemd-notify not found; install the systemd package or use Type=simple', { command });
        } else {
          failures++;
          // First failure and then every 10th: a broken socket must not flood the journal.
          if (failures === 1 || failures % 10 === 0) {
            log.warn('systemd-notify failed', { args: args.join(' '), failures, error: stderr.trim() || err.message });
          }
        }
        resolve(false);
      });
    });

  const pump = (): void => {
    if (running) return;
    const next = queue.shift();
    if (!next) return;
    running = true;
    const finish = (ok: boolean): void => {
      running = false;
      for (const w of next.waiters) w(ok);
      pump();
    };
    if (!enabled) finish(false);
    else run(next.args).then(finish, () => finish(false));
  };

  const enqueue = (kind: Pending['kind'], args: string[]): Promise<boolean> => {
    if (!enabled) return Promise.resolve(false);
    return new Promise((resolve) => {
      // A watchdog ping or status already waiting says the same thing: coalesce, do not pile up
      // processes when the system is slow.
      if (kind !== 'other') {
        const waiting = queue.find((p) => p.kind === kind);
        if (waiting) {
          waiting.args = args;
          waiting.waiters.push(resolve);
          return;
        }
      }
      if (queue.length >= MAX_QUEUE) {
        log.warn('systemd-notify queue full, dropping', { args: args.join(' ') });
        resolve(false);
        return;
      }
      queue.push({ kind, args, waiters: [resolve] });
      pump();
    });
  };

  return {
    get enabled() {
      return enabled;
    },
    ready: (status) => enqueue('other', status === undefined ? ['READY=1'] : ['READY=1', `STATUS=${oneLine(status)}`]),
    status: (text) => enqueue('status', [`STATUS=${oneLine(text)}`]),
    watchdog: () => enqueue('watchdog', ['WATCHDOG=1']),
    stopping: (status) => enqueue('other', status === undefined ? ['STOPPING=1'] : ['STOPPING=1', `STATUS=${oneLine(status)}`]),
    send: (assignments) => enqueue('other', assignments.map(oneLine)),
  };
}

/**
 * The watchdog interval systemd expects, in ms, or null when the watchdog is off or meant for
 * another process (sd_watchdog_enabled semantics: WATCHDOG_PID, when set, must be ours).
 */
export function readWatchdogUsec(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | null {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^\d+$/.test(usecText)) return null;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== pid) return null;
  return usec / 1000;
}

export interface WatchdogOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  pid?: number;
}

/**
 * Pings WATCHDOG=1 at half of WATCHDOG_USEC from a timer on the event loop. The point is that the
 * timer only fires when the loop turns: a loop stuck in a busy routine stops pinging and systemd
 * restarts the service (WatchdogSec= in the unit).
 */
export class Watchdog {
  /** Ping period in ms, or null when systemd asked for no watchdog. */
  readonly intervalMs: number | null;
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly notifier: Notifier,
    options: WatchdogOptions = {},
  ) {
    this.log = (options.logger ?? quietLogger).child('watchdog');
    const timeoutMs = readWatchdogUsec(options.env ?? process.env, options.pid ?? process.pid);
    // Half the interval, as sd_watchdog_enabled(3) recommends; at least 50 ms so a tiny value in
    // a test cannot spin the loop.
    this.intervalMs = timeoutMs === null ? null : Math.max(50, Math.floor(timeoutMs / 2));
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** Returns false (and does nothing) when there is no watchdog or no notify socket. */
  start(): boolean {
    if (this.timer || this.intervalMs === null || !this.notifier.enabled) return this.timer !== null;
    void this.notifier.watchdog();
    this.timer = setInterval(() => void this.notifier.watchdog(), this.intervalMs);
    // The watchdog must never be the thing keeping the process alive at shutdown.
    this.timer.unref();
    this.log.info('watchdog started', { ping_ms: this.intervalMs });
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

export function startWatchdog(notifier: Notifier, options: WatchdogOptions = {}): Watchdog {
  const watchdog = new Watchdog(notifier, options);
  watchdog.start();
  return watchdog;
}
