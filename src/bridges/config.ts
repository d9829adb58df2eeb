// The `bridges` section: `{ "mqtt": [ … ], "serial": [ … ] }`, each list checked by its bridge's
// own validator, every problem reported with its path, and the typed lists the bridge parts get.

import type { ConfigProblem } from '../config/problem';
import type { ConfigSection } from '../config/section';
import { isObject } from '../config/validate';
import { validateMqttBridge, type MqttBridgeConfig } from './mqtt/config';
import { validateSerialBridges, type SerialBridgeConfig } from './serial/config';

export interface BridgesSettings {
  mqtt: MqttBridgeConfig[];
  serial: SerialBridgeConfig[];
}

type ListValidator = (value: unknown, path: string, realms?: readonly string[]) => ConfigProblem[];

const kinds: Record<keyof BridgesSettings, ListValidator> = {
  mqtt: (value, path) => {
    if (!Array.isArray(value)) return [{ path, message: 'must be a list of MQTT bridges' }];
    const problems = value.flatMap((entry, i) => validateMqttBridge(entry, `${path}[${i}]`));
    const names = value.map((e) => (isObject(e) ? e.name : undefined));
    names.forEach((n, i) => {
      if (typeof n === 'string' && names.indexOf(n) !== i) problems.push({ path: `${path}[${i}].name`, message: `duplicate bridge name "${n}"` });
    });
    return problems;
  },
  serial: (value, path, realms) => validateSerialBridges(value, path, realms),
};

export function validateBridges(value: unknown, path: string, realms?: readonly string[]): ConfigProblem[] {
  if (!isObject(value)) return [{ path, message: `must be an object with ${Object.keys(kinds).join(' and/or ')} lists` }];
  const problems: ConfigProblem[] = [];
  for (const [kind, list] of Object.entries(value)) {
    const validate = kinds[kind as keyof BridgesSettings] as ListValidator | undefined;
    if (!validate) problems.push({ path: `${path}.${kind}`, message: `unknown bridge kind (known: ${Object.keys(kinds).join(', ')})` });
    else problems.push(...validate(list, `${path}.${kind}`, realms));
    // Every bridge joins a realm; one the config does not define would only fail at start.
    if (realms && Array.isArray(list)) {
      list.forEach((entry, i) => {
        const realm = isObject(entry) ? entry.realm : undefined;
        const at = `${path}.${kind}[${i}].realm`;
        if (typeof realm === 'string' && !realms.includes(realm) && !problems.some((q) => q.path === at)) {
          problems.push({ path: at, message: `no realm "${realm}" in this config (realms: ${realms.join(', ')})` });
        }
      });
    }
  }
  return problems;
}

/** The `bridges` section: absent = no bridges. */
export const bridgesSection: ConfigSection<BridgesSettings> = {
  key: 'bridges',
  read(raw, path, c, ctx) {
    if (raw === undefined) return undefined;
    const problems = validateBridges(raw, path, ctx.realms);
    c.addAll(problems);
    if (problems.length > 0 || !isObject(raw)) return undefined;
    return { mqtt: (raw.mqtt ?? []) as MqttBridgeConfig[], serial: (raw.serial ?? []) as SerialBridgeConfig[] };
  },
};
