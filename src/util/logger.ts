// One-line-per-event logging with levels, readable by a person and by journald (which adds its
// own timestamp, so none is printed when stdout is the journal, and reads the level from a
// sd-daemon(3) "<N>" prefix). Every module gets a child logger named after itself.

import { fstatSync } from 'node:fs';

/** Per 10 s window: the first 3 lines of one kind and 30 in all, then one count of what was held
 * back. A flood of one problem (a device spamming garbage) stays readable and cannot fill the
 * journal on a small SD card, while distinct problems still each show. */
export const RATE_LIMIT_DEFAULTS = { intervalMs: 10_000, perKey: 3, total: 30 } as const;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface LogSink {
  (level: LogLevel, component: string, msg: string, fields?: Record<string, unknown>): void;
}

/** Longest text of one field in a log line; longer values are cut and their length noted.
 * Fields can carry what a client sent (an authid, an agent string): a 1 MB authid must not
 * become 1 MB of journal on an SD card. */
export const MAX_FIELD_CHARS = 128;
/** Our own error texts (stack traces) may be longer; they are still bounded. */
const MAX_ERROR_CHARS = 2048;

/** Cuts `text` to `max` characters, noting the full length: `abc…(1048576 chars)`. */
export function truncate(text: string, max = MAX_FIELD_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

/**
 * JSON-like text of any value that never throws and stays short: BigInt as digits with `n`,
 * cycles as "[cycle]", nesting below `depth` as "[…]", long arrays and objects cut. Client values
 * reach error messages and log lines through this, never through JSON.stringify, which throws on
 * a BigInt or a cycle and costs O(size) on a huge value.
 */
export function describeValue(v: unknown, max = MAX_FIELD_CHARS): string {
  const out: string[] = [];
  let length = 0;
  const seen = new Set<object>();
  const push = (s: string): boolean => {
    out.push(s);
    length += s.length;
    return length <= max;
  };
  const walk = (x: unknown, depth: number): boolean => {
    switch (typeof x) {
      case 'string':
        return push(JSON.stringify(x.length > max ? x.slice(0, max) : x));
      case 'number':
      case 'boolean':
        return push(String(x));
      case 'bigint':
        return push(`${x}n`);
      case 'undefined':
        return push('undefined');
      case 'symbol':
      case 'function':
        return push(`[${typeof x}]`);
      case 'object':
        break;
    }
    if (x === null) return push('null');
    const obj = x as object;
    if (seen.has(obj)) return push('"[cycle]"');
    if (depth >= 4) return push(Array.isArray(obj) ? '[…]' : '{…}');
    if (Buffer.isBuffer(obj) || obj instanceof Uint8Array) return push(`<${(obj as Uint8Array).length} bytes>`);
    if (obj instanceof Error) return push(JSON.stringify(obj.message.slice(0, max)));
    seen.add(obj);
    try {
      if (Array.isArray(obj)) {
        if (!push('[')) return false;
        for (let i = 0; i < obj.length; i++) {
          if ((i > 0 && !push(',')) || !walk(obj[i] as unknown, depth + 1)) return false;
        }
        return push(']');
      }
      if (!push('{')) return false;
      let first = true;
      for (const key in obj) {
        if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
        if ((!first && !push(',')) || !push(`${JSON.stringify(key.slice(0, max))}:`)) return false;
        first = false;
        let value: unknown;
        try {
          value = (obj as Record<string, unknown>)[key];
        } catch {
          value = '[getter threw]';
        }
        if (!walk(value, depth + 1)) return false;
      }
      return push('}');
    } finally {
      seen.delete(obj);
    }
  };
  let complete: boolean;
  try {
    complete = walk(v, 0);
  } catch {
    // A Proxy or an exotic object: describe it by its kind, never fail the caller.
    return `[${typeof v}]`;
  }
  const text = out.join('');
  if (complete && text.length <= max) return text;
  return `${text.slice(0, max)}…(cut)`;
}

/** Strings that need no quoting are printed bare; everything else is quoted and escaped, so a
 * value can never break the line (no raw newlines or control characters reach the journal). */
function formatValue(v: unknown, key: string): string {
  const max = key === 'error' || key === 'stack' ? MAX_ERROR_CHARS : MAX_FIELD_CHARS;
  if (typeof v === 'string') {
    const text = truncate(v, max);
    return /^[\w.:/@+-]*$/.test(text) && text.length > 0 ? text : JSON.stringify(text);
  }
  if (v instanceof Error) return JSON.stringify(truncate(v.message, max));
  return describeValue(v, max);
}

export function formatLine(level: LogLevel, component: string, msg: string, fields?: Record<string, unknown>, time = true): string {
  let line = `${time ? new Date().toISOString() + ' ' : ''}${level.toUpperCase().padEnd(5)} [${component}] ${msg}`;
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${formatValue(v, k)}`;
  return line;
}

/** syslog priorities (sd-daemon(3)): journald strips "<N>" and files the line at that priority. */
export const JOURNAL_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * Prefixes every line of `text` with the level's "<N>": a multi-line message (a stack trace)
 * reaches journald as several entries, and each must keep the level so `journalctl -p err` shows
 * the whole trace.
 */
export function withJournalPriority(level: LogLevel, text: string): string {
  const prefix = `<${JOURNAL_PRIORITY[level]}>`;
  return prefix + text.replace(/\n(?!$)/g, `\n${prefix}`);
}

/**
 * Whether our stdout or stderr is the journal. systemd sets JOURNAL_STREAM=<dev>:<inode> of the
 * stream it connected; a child that inherited the variable but writes elsewhere (a pipe, a file)
 * must not print "<6>" garbage, so the descriptor is compared as sd_journal_stream_fd's users do.
 */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fds: readonly number[] = [1, 2]): boolean {
  const v = env.JOURNAL_STREAM;
  if (v === undefined || v === '') return false;
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) return false;
  for (const fd of fds) {
    try {
      const st = fstatSync(fd, { bigint: true });
      if (String(st.dev) === m[1] && String(st.ino) === m[2]) return true;
    } catch {
      // A closed descriptor is simply not the journal.
    }
  }
  return false;
}

export interface LoggerOptions {
  level?: LogLevel;
  sink?: LogSink;
  component?: string;
  /** Write for journald (no timestamp, "<N>" priority prefix); default: detected with isJournalStream(). */
  journal?: boolean;
  /** Where the default sink writes; tests pass their own. */
  write?: (level: LogLevel, text: string) => void;
}

const writeStd = (level: LogLevel, text: string): void => {
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(text);
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = order[options.level ?? 'info'];
  const journal = options.journal ?? (options.sink ? false : isJournalStream());
  const write = options.write ?? writeStd;
  const sink: LogSink =
    options.sink ??
    ((level, component, msg, fields) => {
      const line = formatLine(level, component, msg, fields, !journal) + '\n';
      write(level, journal ? withJournalPriority(level, line) : line);
    });
  const make = (component: string): Logger => {
    const at = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
      if (order[level] >= min) sink(level, component, msg, fields);
    };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (c) => make(`${component}.${c}`.replace(/^\./, '')) };
  };
  return make(options.component ?? 'wampgate');
}

/** For tests and embedding: drops everything below `error`. */
export const quietLogger: Logger = createLogger({ level: 'error' });

export interface RateLimitedLogOptions {
  /** Length of one counting window. Default 10 s. */
  intervalMs?: number;
  /** Lines per key per window. Default 3. */
  perKey?: number;
  /** Lines per window across all keys, so many keys cannot flood either. Default 30. */
  total?: number;
  now?: () => number;
}

/**
 * A logger for events an outsider can trigger at will (refused connections, oversized frames,
 * failed logins): at most `perKey` lines per key and `total` lines per window. The first line
 * written after lines were suppressed carries `suppressed=N`, so the journal still tells how many
 * events happened. Keys name the kind of event (a reason), never an attacker-chosen value.
 */
export class RateLimitedLog {
  private readonly intervalMs: number;
  private readonly perKey: number;
  private readonly total: number;
  private readonly now: () => number;
  private windowStart = -Infinity;
  private written = 0;
  /** key -> lines written in this window; cleared every window, so its size is bounded by
   * the distinct keys of one window (reasons, a short fixed list). */
  private readonly counts = new Map<string, number>();
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    options: RateLimitedLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? RATE_LIMIT_DEFAULTS.intervalMs;
    this.perKey = options.perKey ?? RATE_LIMIT_DEFAULTS.perKey;
    this.total = options.total ?? RATE_LIMIT_DEFAULTS.total;
    this.now = options.now ?? Date.now;
  }

  /** Lines suppressed since the last line written. */
  get pendingSuppressed(): number {
    return this.suppressed;
  }

  debug(key: string, msg: string, fields?: Record<string, unknown>): boolean {
    return this.log('debug', key, msg, fields);
  }
  info(key: string, msg: string, fields?: Record<string, unknown>): boolean {
    return this.log('info', key, msg, fields);
  }
  warn(key: string, msg: string, fields?: Record<string, unknown>): boolean {
    return this.log('warn', key, msg, fields);
  }
  error(key: string, msg: string, fields?: Record<string, unknown>): boolean {
    return this.log('error', key, msg, fields);
  }

  /** Returns whether the line was written. */
  log(level: LogLevel, key: string, msg: string, fields?: Record<string, unknown>): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.intervalMs) {
      this.windowStart = t;
      this.written = 0;
      this.counts.clear();
    }
    const n = this.counts.get(key) ?? 0;
    if (n >= this.perKey || this.written >= this.total) {
      this.suppressed++;
      return false;
    }
    this.counts.set(key, n + 1);
    this.written++;
    const out = this.suppressed > 0 ? { ...fields, suppressed: this.suppressed } : fields;
    this.suppressed = 0;
    this.logger[level](msg, out);
    return true;
  }
}
