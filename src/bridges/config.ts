// Validates the `bridges` section: `{ "mqtt": [ … ], "serial": [ … ] }`, each list checked by its
// bridge's own validator, every problem reported with its path.

import type { ConfigProblem } from '../config/problem';
import { validateMqttBridge } from './mqtt/config';
import { validateSerialBridges } from './serial/config';

type ListValidator = (value: unknown, path: string, realms?: readonly string[]) => ConfigProblem[];

const kinds: Record<string, ListValidator> = {
  mqtt: (value, path) => {
    if (!Array.isArray(value)) return [{ path, message: 'must be a list of MQTT bridges' }];
    const problems = value.flatMap((entry, i) => validateMqttBridge(entry, `${path}[${i}]`));
    const names = value.map((e) => (e && typeof e === 'object' ? (e as { name?: unknown }).name : undefined));
    names.forEach((n, i) => {
      if (typeof n === 'string' && names.indexOf(n) !== i) problems.push({ path: `${path}[${i}].name`, message: `duplicate bridge name "${n}"` });
    });
    return problems;
  },
  serial: (value, path, realms) => validateSerialBridges(value, path, realms),
};

/** Lets a bridge kind add its validator (serial registers here). */
export function registerBridgeKind(kind: string, validate: ListValidator): void {
  kinds[kind] = validate;
}

export function validateBridges(value: unknown, path: string, realms?: readonly string[]): ConfigProblem[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [{ path, message: `must be an object with ${Object.keys(kinds).join(' and/or ')} lists` }];
  const problems: ConfigProblem[] = [];
  for (const [kind, list] of Object.entries(value)) {
    const validate = kinds[kind];
    if (!validate) problems.push({ path: `${path}.${kind}`, message: `unknown bridge kind (known: ${Object.keys(kinds).join(', ')})` });
    else problems.push(...validate(list, `${path}.${kind}`, realms));
    // Every bridge joins a realm; one the config does not define would only fail at start.
    if (realms && Array.isArray(list)) {
      list.forEach((entry, i) => {
        const realm = entry && typeof entry === 'object' ? (entry as { realm?: unknown }).realm : undefined;
        const at = `${path}.${kind}[${i}].realm`;
        if (typeof realm === 'string' && !realms.includes(realm) && !problems.some((q) => q.path === at)) {
          problems.push({ path: at, message: `no realm "${realm}" in this config (realms: ${realms.join(', ')})` });
        }
      });
    }
  }
  return problems;
}
