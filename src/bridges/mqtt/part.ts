// The MQTT bridges as gateway parts: one part per entry of `bridges.mqtt` in the config. Each
// is an MqttBridge (a WAMP session of its own); this file only adapts it to the part seam.

import type { GatewayPart, PartFactory } from '../../gateway-part';
import type { MqttBridgeConfig } from './config';
import type { MqttBridge } from './mqtt-bridge';

export const mqttPartFactory: PartFactory = (config) => {
  const entries = (config.bridges?.mqtt ?? []) as MqttBridgeConfig[];
  return entries.map((entry): GatewayPart => {
    let bridge: MqttBridge | undefined;
    return {
      name: `mqtt:${entry.name}`,
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
        return bridge ? { kind: 'mqtt', ...bridge.status() } : { kind: 'mqtt', name: entry.name, state: 'stopped' };
      },
    };
  });
};
