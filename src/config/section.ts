// The contract of a config section owned by a part (bridges, uplink, ops, …): one object that
// validates the raw value with paths, resolves every default once and returns a typed value; and
// the store the gateway hands each part its typed section from, which also keeps each section as
// the file has it (configDocument: what config.get shows and reload compares). schema.ts calls
// the sections; what a value means is its owner's business.

import { resolve as resolvePath } from 'node:path';
import { defaultLimits } from './defaults';
import { ConfigError, type ConfigProblem } from './problem';
import type { GatewayConfig, LimitsConfig } from './types';
import { Check } from './validate';

/** What a section may know of the rest of the config when it resolves. */
export interface SectionContext {
  /** The configured realms' names, in config order. */
  realms: readonly string[];
  limits: LimitsConfig;
  /** Where parts keep state: config dataDir (absolute), else ./data. */
  dataDir: string;
  /** Another top-level section as the file has it (undefined when absent), for the few
   * cross-section rules (admin speaks through the uplink and takes its gateway id). Unchecked:
   * narrow it before use; its owner reports its problems. */
  rawSection(key: string): unknown;
}

export interface ConfigSection<T> {
  /** The top-level key in the config file. */
  readonly key: string;
  /**
   * Validates `raw` (undefined when the file has no such section) at `path`, every problem into
   * `check`, and returns the typed value with every default resolved, or undefined when the
   * section is absent and means "nothing to run". The value is used only if the whole config
   * has no problem, so it may be partial when `check` has problems.
   */
  read(raw: unknown, path: string, check: Check, ctx: SectionContext): T | undefined;
}

/** The resolved sections of one config; each part reads its own with a typed key. */
export class ConfigSections {
  /** section -> its resolved value: the section object is the key, so the value keeps its type. */
  private readonly values = new Map<ConfigSection<unknown>, unknown>();
  /** key -> the section as the file has it: what config.get shows and fingerprints compare. */
  private readonly raws = new Map<string, unknown>();

  set<T>(section: ConfigSection<T>, value: T | undefined, raw: unknown): void {
    if (value !== undefined) this.values.set(section as ConfigSection<unknown>, value);
    else this.values.delete(section as ConfigSection<unknown>);
    if (raw !== undefined) this.raws.set(section.key, raw);
    else this.raws.delete(section.key);
  }

  get<T>(section: ConfigSection<T>): T | undefined {
    return this.values.get(section as ConfigSection<unknown>) as T | undefined;
  }

  has(section: ConfigSection<unknown>): boolean {
    return this.values.has(section) || this.raws.has(section.key);
  }

  /** A section as the file has it, by key (undefined when the file has none). */
  raw(key: string): unknown {
    return this.raws.get(key);
  }

  /** Every section the file has, by key, as the file has it. */
  rawEntries(): Array<[string, unknown]> {
    return [...this.raws];
  }
}

type ContextSource = Pick<GatewayConfig, 'realms' | 'limits' | 'dataDir' | 'sections'>;

/** The context of a config's sections; other sections' raw values come from `raw` (the file
 * being validated) or else the config's own sections. */
export function sectionContext(config: ContextSource, raw?: Readonly<Record<string, unknown>>): SectionContext {
  return {
    realms: config.realms.map((r) => r.name),
    limits: config.limits,
    dataDir: resolvePath(config.dataDir ?? 'data'),
    rawSection: (key) => (raw ? raw[key] : config.sections?.raw(key)),
  };
}

/** Reads one raw section against a config; throws ConfigError with every problem. */
export function readSection<T>(section: ConfigSection<T>, raw: unknown, config: ContextSource): T | undefined {
  const check = new Check();
  const value = section.read(raw, section.key, check, sectionContext(config));
  if (!check.ok) throw new ConfigError(check.problems);
  return value;
}

/**
 * A part's typed section: as validated with the config, or, for a config built in code that
 * does not have it, the section's value when absent (its defaults).
 */
export function sectionOf<T>(config: GatewayConfig, section: ConfigSection<T>): T | undefined {
  if (config.sections?.has(section as ConfigSection<unknown>)) return config.sections.get(section);
  return readSection(section, undefined, config);
}

/** Sets a section of a config built in code from its raw form (tests, embedding); throws ConfigError. */
export function withSection<T>(config: GatewayConfig, section: ConfigSection<T>, raw: unknown): GatewayConfig {
  const value = readSection(section, raw, config);
  config.sections ??= new ConfigSections();
  config.sections.set(section, value, raw);
  return config;
}

/** The config as the file has it (core settings validated and defaulted, each part's section
 * as written): what config.get shows, secrets are looked for in, and parts without a configKey
 * are compared by. */
export function configDocument(config: GatewayConfig): Record<string, unknown> {
  const { sections, ...core } = config;
  return { ...core, ...Object.fromEntries(sections?.rawEntries() ?? []) };
}

/** A section's problems alone, as `(raw, path) => problems`, with a context of one realm "realm1" unless given. */
export function problemsOf(section: ConfigSection<unknown>, ctx?: Partial<SectionContext>): (raw: unknown, path?: string) => ConfigProblem[] {
  return (raw, path = section.key) => {
    const check = new Check();
    section.read(raw, path, check, { realms: ['realm1'], limits: defaultLimits, dataDir: resolvePath('data'), rawSection: () => undefined, ...ctx });
    return check.problems;
  };
}
