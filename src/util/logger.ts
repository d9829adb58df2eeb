// One-line-per-event logging with levels, readable by a person and by journald (which adds its
// own timestamp, so none is printed when stdout is the journal). Every module gets a child
// logger named after itself.

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

export function createLogger(options: { level?: LogLevel; sink?: LogSink; component?: string } = {}): Logger {
  const min = order[options.level ?? 'info'];
  const journal = process.env.JOURNAL_STREAM !== undefined;
  const sink: LogSink =
    options.sink ??
    ((level, component, msg, fields) => {
      const line = formatLine(level, component, msg, fields, !journal) + '\n';
      (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line);
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
