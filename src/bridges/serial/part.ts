// The serial bridge as gateway parts: one part per entry of `bridges.serial`, a LineBridge or a
// FramePort by mode. Owns start/stop/status plumbing only; the config was validated before
// (validateSerialBridges) and what each mode does lives in line-bridge.ts / frame-port.ts.

import type { GatewayPart, PartContext, PartFactory } from '../../gateway-part';
import type { SerialBridgeConfig } from './config';
import type { FramePort, FramePortStatus } from './frame-port';
import type { LineBridge, LineBridgeStatus } from './line-bridge';

export type SerialPartStatus = LineBridgeStatus | FramePortStatus;

export class SerialPart implements GatewayPart {
  readonly name: string;
  private running: LineBridge | FramePort | undefined;

  constructor(readonly config: SerialBridgeConfig) {
    this.name = `serial:${config.name}`;
  }

  async start(ctx: PartContext): Promise<void> {
    // The section validator sees only its own section; the realm list is checked here so a
    // typo fails the start with a clear message instead of a device that never joins.
    if (!ctx.realms.includes(this.config.realm)) throw new Error(`serial port "${this.config.name}": no realm "${this.config.realm}" is configured`);
    const deps = { router: ctx.sessions, logger: ctx.logger };
    if (this.config.mode === 'frame') {
      // Loaded only when a port is configured: serialport's native binding costs memory.
      const { FramePort } = require('./frame-port') as typeof import('./frame-port');
      const port = new FramePort(this.config, deps);
      this.running = port;
      port.start();
    } else {
      const { LineBridge } = require('./line-bridge') as typeof import('./line-bridge');
      const bridge = new LineBridge(this.config, deps);
      this.running = bridge;
      await bridge.start();
    }
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.stop();
  }

  status(): SerialPartStatus | { kind: string; name: string; path: string; mode: string; state: 'closed'; since: number; counters: Record<string, number> } {
    return (
      this.running?.status() ?? {
        kind: `serial-${this.config.mode}`,
        name: this.config.name,
        path: this.config.path,
        mode: this.config.mode,
        state: 'closed',
        since: 0,
        counters: {},
      }
    );
  }
}

/** One part per configured serial port (`config.bridges.serial`, a validated list). */
export const serialPartFactory: PartFactory = (config) => {
  const list = config.bridges?.serial;
  if (!Array.isArray(list)) return [];
  return (list as SerialBridgeConfig[]).map((entry) => new SerialPart(entry));
};
