// Opens the event history a config asks for (the composition root calls it before the router
// exists, so each realm's broker gets its port at construction; a reload may open it later).
// No rules anywhere: no file.

import { mkdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { GatewayConfig } from '../config/types';
import type { Logger } from '../util/logger';
import { EventHistoryService } from './event-history';
import { sectionOf } from '../config/section';
import { historySection, resolveRules, type HistoryRule, type HistorySettings } from './history-config';

/** realm name -> its history rules, for realms that have any. */
export function historyRules(config: GatewayConfig): Map<string, HistoryRule[]> {
  const rules = new Map<string, HistoryRule[]>();
  for (const r of config.realms) {
    const list = resolveRules(r.history);
    if (list.length > 0) rules.set(r.name, list);
  }
  return rules;
}

export function historySettings(config: GatewayConfig): HistorySettings {
  return sectionOf(config, historySection) as HistorySettings;
}

export function openEventHistory(config: GatewayConfig, logger: Logger): EventHistoryService | undefined {
  const rules = historyRules(config);
  if (rules.size === 0) return undefined;
  const dataDir = resolvePath(config.dataDir ?? 'data');
  mkdirSync(dataDir, { recursive: true });
  return new EventHistoryService({ dataDir, settings: historySettings(config), rules, logger });
}
