// Reads a config file (JSON with comments), validates it and returns the completed config, or
// throws ConfigError with every problem found.

import { readFileSync } from 'node:fs';
import { parseJsonc } from './jsonc';
import { ConfigError } from './problem';
import { validateConfig, type ConfigPlugins } from './schema';
import type { GatewayConfig } from './types';

/** The file's text; a ConfigError naming the file when it cannot be read. */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
}

/** JSON with comments to a value; a ConfigError naming the file and the position on a syntax error. */
export function parseConfigText(path: string, text: string): unknown {
  try {
    return parseJsonc(text);
  } catch (err) {
    throw new ConfigError([{ path: '(syntax)', message: `${path}: ${(err as Error).message}` }]);
  }
}

export function loadConfigFile(path: string, plugins?: ConfigPlugins): GatewayConfig {
  const { config, problems } = validateConfig(parseConfigText(path, readConfigText(path)), plugins);
  if (!config) throw new ConfigError(problems);
  return config;
}
