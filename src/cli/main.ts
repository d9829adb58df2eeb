// The command line: start, init, check, version. Parses arguments, loads config, and turns
// failures into one clear message and a non-zero exit code; the work is done elsewhere.

import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultConfig } from '../config/defaults';
import { loadConfigFile } from '../config/load';
import { ConfigError } from '../config/problem';
import type { GatewayConfig } from '../config/types';
import { describeAddress, Gateway } from '../gateway';
import { AGENT } from '../core/router';
import { createLogger, type LogLevel } from '../util/logger';
import { sectionValidators, gatewayOptions } from './wiring';
import { starterConfig } from './starter-config';

const usage = `Usage: wampgate <command> [options]

Commands:
  start [--config FILE] [--log-level LEVEL]   run the router (built-in default config without --config)
  init [FILE] [--force]                       write a commented starter config (default ./wampgate.json)
  check --config FILE                         validate a config file; lists every problem with its path
  version                                     print the version

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 78 config error.`;

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
      else if (['config', 'log-level'].includes(a.slice(2)) && argv[i + 1] !== undefined) flags.set(a.slice(2), argv[++i] as string);
      else flags.set(a.slice(2), true);
    } else positional.push(a);
  }
  return { command: positional.shift(), positional, flags };
}

function fail(message: string, code: number): never {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(code);
}

function loadOrExit(path: string): GatewayConfig {
  try {
    return loadConfigFile(resolve(path), sectionValidators);
  } catch (err) {
    if (err instanceof ConfigError) {
      const lines = err.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
      fail(`${path}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}:\n${lines}`, 78);
    }
    throw err;
  }
}

async function start(args: Parsed): Promise<void> {
  const configPath = args.flags.get('config');
  if (configPath === true) fail('--config needs a file path', 2);
  const config = configPath ? loadOrExit(configPath) : defaultConfig();
  const level = args.flags.get('log-level');
  if (level !== undefined) {
    if (level !== 'debug' && level !== 'info' && level !== 'warn' && level !== 'error') fail('--log-level must be debug, info, warn or error', 2);
    config.log.level = level as LogLevel;
  }
  const logger = createLogger({ level: config.log.level });
  const log = logger.child('main');
  log.info(`${AGENT} starting`, { config: configPath ? resolve(configPath) : 'built-in default', node: process.version, pid: process.pid });
  process.on('unhandledRejection', (reason) => {
    // A bug, never expected input: log it loudly and keep serving the other sessions.
    log.error('unhandled promise rejection', { error: reason instanceof Error ? reason.stack : String(reason) });
  });
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, gatewayOptions(logger));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EADDRINUSE' ? ' (another process uses that port: stop it or change the listener port)' : e.code === 'EACCES' ? ' (permission denied: ports below 1024 need privileges)' : '';
    log.error(`failed to start: ${e.message}${hint}`);
    process.exit(1);
  }
  const urls = gateway.listeners.map((l) => describeAddress(l.config, l.address)).join(', ');
  log.info('ready', { realms: config.realms.map((r) => r.name).join(','), listeners: urls, startupMs: Math.round(process.uptime() * 1000) });
  let signals = 0;
  const shutdown = (signal: string): void => {
    if (++signals > 1) {
      log.warn(`second ${signal}: exiting at once`);
      process.exit(1);
    }
    log.info(`${signal} received, stopping`);
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('error while stopping', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function init(args: Parsed): void {
  const file = resolve(args.positional[0] ?? 'wampgate.json');
  if (existsSync(file) && args.flags.get('force') !== true) fail(`${file} exists; use --force to overwrite it`, 1);
  writeFileSync(file, starterConfig, { mode: 0o600 });
  process.stdout.write(`wrote ${file}\ncheck it:  wampgate check --config ${file}\nrun it:    wampgate start --config ${file}\n`);
}

function check(args: Parsed): void {
  const configPath = args.flags.get('config') ?? args.positional[0];
  if (typeof configPath !== 'string') fail('usage: wampgate check --config FILE', 2);
  const config = loadOrExit(configPath);
  process.stdout.write(`${configPath}: OK (${config.realms.length} realm${config.realms.length === 1 ? '' : 's'}, ${config.listeners.length} listener${config.listeners.length === 1 ? '' : 's'})\n`);
}

export function main(argv: string[]): void {
  const args = parse(argv);
  switch (args.command) {
    case 'start':
      start(args).catch((err: unknown) => fail(`wampgate: ${(err as Error).stack ?? String(err)}`, 1));
      return;
    case 'init':
      return init(args);
    case 'check':
      return check(args);
    case 'version':
    case '--version':
      process.stdout.write(`${AGENT.replace('wampgate-', 'wampgate ')}\n`);
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
