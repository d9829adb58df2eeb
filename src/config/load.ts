// Reads a config file (JSON with comments), validates it and returns the completed config, or
// throws ConfigError with every problem found.

import { readFileSync } from 'node:fs';
import { parseJsonc } from './jsonc';
import { ConfigError } from './problem';
import { validateConfig, type SectionValidators } from './schema';
import type { GatewayConfig } from './types';

export function loadConfigFile(path: string, validators?: SectionValidators): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = parseJsonc(text);
  } catch (err) {
    throw new ConfigError([{ path: '(syntax)', message: `${path}: ${(err as Error).message}` }]);
  }
  const { config, problems } = validateConfig(raw, validators);
  if (!config) throw new ConfigError(problems);
  return config;
}
