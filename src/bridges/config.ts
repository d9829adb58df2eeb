// The `bridges` section: `{ "mqtt": [ … ], "serial": [ … ] }`, each list checked by its bridge's
// own reader, every problem reported with its path, and the typed lists the bridge parts get
// (MQTT bridges and serial ports with every default resolved).

import type { ConfigProblem } from '../config/problem';
import type { ConfigSection } from '../config/section';
import { Check, isObject } from '../config/validate';
import { readMqttBridge, type MqttBridgeSettings } from './mqtt/config';
import { readSerialBridges, type SerialPortSettings } from './serial/config';

export interface BridgesSettings {
  mqtt: MqttBridgeSettings[];
  serial: SerialPortSettings[];
}

type ListReader<T> = (c: Check, value: unknown, path: string, realms?: readonly string[]) => T[];
const KINDS = ['mqtt', 'serial'] as const;

const readMqttList: ListReader<MqttBridgeSettings> = (c, value, path) => {
  if (!Array.isArray(value)) {
    c.add(path, 'must be a list of MQTT bridges');
    return [];
  }
  const out = value.map((entry, i) => readMqttBridge(entry, `${path}[${i}]`, c));
  const names = value.map((e) => (isObject(e) ? e.name : undefined));
  names.forEach((n, i) => {
    if (typeof n === 'string' && names.indexOf(n) !== i) c.add(`${path}[${i}].name`, `duplicate bridge name "${n}"`);
  });
  return out.filter((s): s is MqttBridgeSettings => s !== undefined);
};

function readBridges(c: Check, value: unknown, path: string, realms?: readonly string[]): BridgesSettings | undefined {
  if (!isObject(value)) {
    c.add(path, `must be an object with ${KINDS.join(' and/or ')} lists`);
    return undefined;
  }
  const out: BridgesSettings = { mqtt: [], serial: [] };
  for (const [kind, list] of Object.entries(value)) {
    if (kind === 'mqtt') out.mqtt = readMqttList(c, list, `${path}.${kind}`);
    else if (kind === 'serial') out.serial = readSerialBridges(c, list, `${path}.${kind}`, realms);
    else c.add(`${path}.${kind}`, `unknown bridge kind (known: ${KINDS.join(', ')})`);
    // Every bridge joins a realm; one the config does not define would only fail at start.
    if (realms && Array.isArray(list)) {
      list.forEach((entry, i) => {
        const realm = isObject(entry) ? entry.realm : undefined;
        const at = `${path}.${kind}[${i}].realm`;
        if (typeof realm === 'string' && !realms.includes(realm) && !c.problems.some((q) => q.path === at)) {
          c.add(at, `no realm "${realm}" in this config (realms: ${realms.join(', ')})`);
        }
      });
    }
  }
  return out;
}

/** Every problem of a `bridges` section, each with its path. */
export function validateBridges(value: unknown, path: string, realms?: readonly string[]): ConfigProblem[] {
  const c = new Check();
  readBridges(c, value, path, realms);
  return c.problems;
}

/** The `bridges` section: absent = no bridges. */
export const bridgesSection: ConfigSection<BridgesSettings> = {
  key: 'bridges',
  read(raw, path, c, ctx) {
    if (raw === undefined) return undefined;
    return readBridges(c, raw, path, ctx.realms);
  },
};
