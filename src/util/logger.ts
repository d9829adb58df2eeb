// One-line-per-event logging with levels, readable by a person and by journald (which adds its
// own timestamp, so none is printed when stdout is the journal, and reads the level from a
// sd-daemon(3) "<N>" prefix). Every module gets a child logger named after itself.

import { fstatSync } from 'node:fs';

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

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]*$/.test(v) && v.length > 0 ? v : JSON.stringify(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? 'undefined';
}

export function formatLine(level: LogLevel, component: string, msg: string, fields?: Record<string, unknown>, time = true): string {
  let line = `${time ? new Date().toISOString() + ' ' : ''}${level.toUpperCase().padEnd(5)} [${component}] ${msg}`;
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
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
