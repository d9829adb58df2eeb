// The MQTT bridges as gateway parts: one part per entry of `bridges.mqtt` in the config. Each
// is an MqttBridge (a WAMP session of its own); this file only adapts it to the part seam and
// maps the bridge's link states into the parts' one vocabulary.

import { sectionOf } from '../../config/section';
import type { GatewayPart, PartFactory, PartState, PartStatus } from '../../gateway-part';
import { fingerprint } from '../../util/fingerprint';
import { bridgesSection } from '../config';
import type { MqttBridge, MqttBridgeStatus } from './mqtt-bridge';
import { redactUrl } from '../../util/redact-url';

const STATE: Record<MqttBridgeStatus['state'], PartState> = {
  connecting: 'connecting',
  reconnecting: 'connecting',
  connected: 'connected',
  stopped: 'stopped',
};

/** Traffic from the broker into WAMP, and from WAMP to the broker. */
const TRAFFIC = { in: ['received'], out: ['published'] } as const;

export function mqttPartStatus(s: MqttBridgeStatus): PartStatus {
  return {
    kind: 'mqtt',
    role: 'bridge',
    name: s.name,
    state: STATE[s.state],
    since: Date.parse(s.since),
    lastError: s.lastError ?? null,
    counters: { ...s.counters },
    traffic: TRAFFIC,
    target: s.broker,
    detail: s,
  };
}

export const mqttPartFactory: PartFactory = (config) => {
  const entries = sectionOf(config, bridgesSection)?.mqtt ?? [];
  return entries.map((entry): GatewayPart => {
    let bridge: MqttBridge | undefined;
    return {
      name: `mqtt:${entry.name}`,
      configKey: fingerprint(entry),
      async start(ctx) {
        // Loaded only when a bridge is configured: the mqtt package costs memory and start-up time.
        const { MqttBridge } = require('./mqtt-bridge') as typeof import('./mqtt-bridge');
        bridge = new MqttBridge(entry, { router: ctx.sessions, logger: ctx.logger });
        await bridge.start();
      },
      async stop() {
        await bridge?.stop();
      },
      status() {
        if (bridge) return mqttPartStatus(bridge.status());
        const stopped: PartStatus = {
          kind: 'mqtt',
          role: 'bridge',
          name: entry.name,
          state: 'stopped',
          since: null,
          lastError: null,
          counters: {},
          traffic: TRAFFIC,
        };
        stopped.target = redactUrl(entry.broker.url);
        return stopped;
      },
    };
  });
};
