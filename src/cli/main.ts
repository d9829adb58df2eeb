// The command line: start, status, init, check, version. Parses arguments, loads config, and
// turns failures into one clear message and a non-zero exit code; the work is done elsewhere
// (the gateway, ops/ for systemd notifications and the status report).

import { resolve } from 'node:path';
import { defaultConfig } from '../config/defaults';
import { loadConfigFile } from '../config/load';
import { ConfigError } from '../config/problem';
import type { GatewayConfig } from '../config/types';
import { describeAddress, Gateway } from '../gateway';
import { AGENT, VERSION } from '../util/version';
import { createNotifier, startWatchdog } from '../ops/systemd-notify';
import { runStatusCommand } from '../ops/status-command';
import { createLogger, isJournalStream, withJournalPriority, type LogLevel } from '../util/logger';
import { configPlugins, partFactoriesWith } from './wiring';
import { ConfigControl } from './config-control';
import { LogRing } from '../util/log-ring';
import { initMessage, InitRefused, writeStarterFiles } from './init';
import { hashSecret } from '../auth/principals';

const usage = `Usage: wampgate <command> [options]

Commands:
  start [--config FILE] [--log-level LEVEL]   run the router (built-in default config without --config)
  status [--config FILE] [--url URL] [--json] show the running gateway's state (from its status listener)
  init [FILE] [--force]                       write a commented starter config (default ./wampgate.json)
                                              with authentication on, and a principals file
  hash-ticket TICKET                          print the salted hash of a ticket for a principals file
  check --config FILE                         validate a config file; lists every problem with its path
  version                                     print the version

Exit codes: 0 ok, 1 runtime failure (status: gateway not reachable), 2 usage error, 78 config error.`;

interface Parsed {
  command: string | undefined;
  positional: string[];
  flags: Map<string, string | true>;
}

function parse(argv: string[]): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (['config', 'log-level', 'url'].includes(a.slice(2)) && argv[i + 1] !== undefined) flags.set(a.slice(2), argv[++i] as string);
      else flags.set(a.slice(2), true);
    } else positional.push(a);
  }
  return { command: positional.shift(), positional, flags };
}

/** Writes a failure to stderr and exits. Under systemd stderr is the journal, which files a line
 * without a "<N>" prefix at info: the reason a start failed would be missing from
 * `journalctl -p err`, next to systemd's own "status=78/CONFIG". */
function fail(message: string, code: number): never {
  const text = message.endsWith('\n') ? message : message + '\n';
  process.stderr.write(isJournalStream() ? withJournalPriority('error', text) : text);
  process.exit(code);
}

function failConfig(path: string, err: ConfigError): never {
  const lines = err.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  fail(`${path}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}:\n${lines}`, 78);
}

function loadOrExit(path: string): GatewayConfig {
  try {
    return loadConfigFile(resolve(path), configPlugins);
  } catch (err) {
    if (err instanceof ConfigError) failConfig(path, err);
    throw err;
  }
}

/** CLOCK_MONOTONIC in µs, as sd_notify's RELOADING=1 wants it beside. */
function monotonicUsec(): string {
  return String(process.hrtime.bigint() / 1000n);
}

function sessionCount(gateway: Gateway): number {
  let n = 0;
  for (const s of gateway.router.sessions.values()) if (!s.hidden) n++;
  return n;
}

/** How often STATUS= is refreshed; sent only when the text changed (a notification forks a process). */
const STATUS_REFRESH_MS = 30_000;

async function start(args: Parsed): Promise<void> {
  const configPath = args.flags.get('config');
  if (configPath === true) fail('--config needs a file path', 2);
  const level = args.flags.get('log-level');
  if (level !== undefined && level !== 'debug' && level !== 'info' && level !== 'warn' && level !== 'error')
    fail('--log-level must be debug, info, warn or error', 2);
  // Read once up front for the log level and a config error's exit 78; the controller reads it
  // again (with what a remote apply left in the data dir) to start.
  const fileConfig = configPath ? loadOrExit(configPath) : defaultConfig();
  const logLevel = (level as LogLevel | undefined) ?? fileConfig.log.level;
  const logRing = new LogRing();
  const logger = createLogger({
    level: logLevel,
    write: (lvl, text) => {
      (lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout).write(text);
      logRing.push(text);
    },
  });
  const log = logger.child('main');
  log.info(`${AGENT} starting`, { config: configPath ? resolve(configPath) : 'built-in default', node: process.version, pid: process.pid });
  process.on('unhandledRejection', (reason) => {
    // A bug, never expected input: log it loudly and keep serving the other sessions.
    log.error('unhandled promise rejection', { error: reason instanceof Error ? reason.stack : String(reason) });
  });
  // Does nothing unless systemd started us with Type=notify (NOTIFY_SOCKET set).
  const notifier = createNotifier({ logger });
  const control = new ConfigControl({
    configPath: configPath ? resolve(configPath) : undefined,
    ...(level !== undefined ? { logLevel: level as LogLevel } : {}),
    logger,
    logRing,
    validators: configPlugins,
    parts: (host) => partFactoriesWith(host),
  });
  let gateway: Gateway;
  try {
    gateway = await control.start();
  } catch (err) {
    // A part can find a config problem only the whole config shows (e.g. health.realm): same
    // exit code as any config error, so systemd's RestartPreventExitStatus=78 does not retry it.
    if (err instanceof ConfigError) failConfig(configPath ?? '(built-in default config)', err);
    const e = err as NodeJS.ErrnoException;
    const hint =
      e.code === 'EADDRINUSE'
        ? ' (another process uses that port: stop it or change the listener port)'
        : e.code === 'EACCES'
          ? ' (permission denied: ports below 1024 need privileges)'
          : '';
    log.error(`failed to start: ${e.message}${hint}`);
    process.exit(1);
  }
  const listening = (): string => (control.running ?? gateway).listeners.map((l) => describeAddress(l.config, l.address)).join(', ');
  const urls = listening();
  log.info('ready', { realms: gateway.config.realms.map((r) => r.name).join(','), listeners: urls, startupMs: Math.round(process.uptime() * 1000) });
  // Gateway.start resolved: listeners accept connections and every part (bridges, the uplink and
  // its buffer database, the status listener) has started. Only now may systemd start units
  // ordered after us.
  const statusText = (): string => {
    const n = sessionCount(control.running ?? gateway);
    return `${n} session${n === 1 ? '' : 's'}; listening on ${listening()}`;
  };
  let lastStatus = statusText();
  void notifier.ready(lastStatus);
  // Pings come from a timer on this event loop: a blocked loop stops them and systemd restarts us.
  const watchdog = startWatchdog(notifier, { logger });
  let statusTimer: NodeJS.Timeout | undefined;
  if (notifier.enabled) {
    statusTimer = setInterval(() => {
      const text = statusText();
      if (text === lastStatus) return;
      lastStatus = text;
      void notifier.status(text);
    }, STATUS_REFRESH_MS);
    statusTimer.unref();
  }
  let signals = 0;
  const shutdown = (signal: string): void => {
    if (++signals > 1) {
      log.warn(`second ${signal}: exiting at once`);
      process.exit(1);
    }
    log.info(`${signal} received, stopping`);
    if (statusTimer) clearInterval(statusTimer);
    // Queued before the stop begins, so systemd shows "deactivating" for the whole GOODBYE wait.
    const said = notifier.stopping(`stopping (${signal})`);
    const exit = (code: number): void => {
      watchdog.stop();
      // Bounded: the notifier kills a hung systemd-notify after its own timeout.
      void said.finally(() => process.exit(code));
    };
    control.stop().then(
      () => exit(0),
      (err: unknown) => {
        log.error('error while stopping', { error: String(err) });
        exit(1);
      },
    );
  };
  // SIGHUP (`systemctl reload wampgate`): re-read the config and apply what changed, live.
  process.on('SIGHUP', () => {
    if (signals > 0) return;
    log.info('SIGHUP received, reloading the config');
    void notifier.send([`RELOADING=1`, `MONOTONIC_USEC=${monotonicUsec()}`]);
    control.reloadFromFile().then(
      () => void notifier.send(['READY=1', `STATUS=${statusText()}`]),
      (err: unknown) => {
        log.error('reload failed; the running config stays where it could', { error: (err as Error).stack ?? String(err) });
        void notifier.send(['READY=1']);
      },
    );
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function status(args: Parsed): Promise<void> {
  const configPath = args.flags.get('config');
  if (configPath === true) fail('--config needs a file path', 2);
  const url = args.flags.get('url');
  if (url === true) fail('--url needs a URL such as http://127.0.0.1:8089', 2);
  const code = await runStatusCommand({
    ...(configPath !== undefined ? { configPath: resolve(configPath) } : {}),
    ...(url !== undefined ? { url } : {}),
    json: args.flags.get('json') === true,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
  process.exitCode = code;
}

function init(args: Parsed): void {
  try {
    process.stdout.write(initMessage(writeStarterFiles(args.positional[0] ?? 'wampgate.json', { force: args.flags.get('force') === true })));
  } catch (err) {
    if (err instanceof InitRefused) fail(err.message, 1);
    throw err;
  }
}

function hashTicket(args: Parsed): void {
  const ticket = args.positional[0];
  if (ticket === undefined) fail('usage: wampgate hash-ticket <ticket>', 2);
  process.stdout.write(JSON.stringify(hashSecret(ticket)) + '\n');
}

function check(args: Parsed): void {
  const configPath = args.flags.get('config') ?? args.positional[0];
  if (typeof configPath !== 'string') fail('usage: wampgate check --config FILE', 2);
  const config = loadOrExit(configPath);
  process.stdout.write(
    `${configPath}: OK (${config.realms.length} realm${config.realms.length === 1 ? '' : 's'}, ${config.listeners.length} listener${config.listeners.length === 1 ? '' : 's'})\n`,
  );
}

export function main(argv: string[]): void {
  const args = parse(argv);
  switch (args.command) {
    case 'start':
      // Node's default report of an uncaught exception carries no priority: the journal would
      // file the stack trace at info. Same exit code (1) as Node's default.
      process.on('uncaughtException', (err) => fail(`wampgate: uncaught exception: ${err.stack ?? String(err)}`, 1));
      start(args).catch((err: unknown) => fail(`wampgate: ${(err as Error).stack ?? String(err)}`, 1));
      return;
    case 'status':
      status(args).catch((err: unknown) => fail(`wampgate status: ${(err as Error).stack ?? String(err)}`, 1));
      return;
    case 'init':
      return init(args);
    case 'hash-ticket':
      return hashTicket(args);
    case 'check':
      return check(args);
    case 'version':
    case '--version':
      process.stdout.write(`wampgate ${VERSION}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage + '\n');
      return;
    default:
      fail(`unknown command "${args.command}"\n\n${usage}`, 2);
  }
}
