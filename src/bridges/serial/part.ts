// The serial bridge as gateway parts: one part per entry of `bridges.serial`, a LineBridge or a
// FramePort by mode. Owns start/stop plumbing and mapping the port's states into the parts' one
// vocabulary; the port's settings come validated and resolved from the bridges section
// (readSerialBridges) and what each mode does lives in line-bridge.ts / frame-port.ts.

import { sectionOf } from '../../config/section';
import type { GatewayPart, PartContext, PartFactory, PartState, PartStatus } from '../../gateway-part';
import type { ReopeningPortState } from '../../transports/serial/reopening-port';
import { fingerprint } from '../../util/fingerprint';
import { bridgesSection } from '../config';
import type { SerialPortSettings } from './config';
import type { FramePort, FramePortStatus } from './frame-port';
import type { LineBridge, LineBridgeStatus } from './line-bridge';

export type SerialPartStatus = LineBridgeStatus | FramePortStatus;

const STATE: Record<ReopeningPortState, PartState> = {
  opening: 'connecting',
  open: 'connected',
  unplugged: 'disconnected',
  // Only after stop() (or before start): not a fault.
  closed: 'stopped',
};

/** Traffic from the device into WAMP and back, per mode. */
const TRAFFIC = {
  line: { in: ['lines'], out: ['writes'] },
  frame: { in: ['frames'], out: ['framesOut'] },
} as const;

export class SerialPart implements GatewayPart {
  readonly name: string;
  private running: LineBridge | FramePort | undefined;

  readonly configKey: string;

  constructor(readonly config: SerialPortSettings) {
    this.name = `serial:${config.name}`;
    this.configKey = fingerprint(config);
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

  status(): PartStatus {
    const mode = this.config.mode === 'frame' ? 'frame' : 'line';
    const s: SerialPartStatus | undefined = this.running?.status();
    const out: PartStatus = {
      kind: `serial-${mode}`,
      role: 'bridge',
      name: this.config.name,
      state: STATE[s?.state ?? 'closed'],
      since: s ? s.since : null,
      lastError: s?.lastError ?? null,
      counters: s ? { ...s.counters } : {},
      traffic: TRAFFIC[mode],
      target: this.config.path,
      realm: this.config.realm,
    };
    if (s) out.detail = s;
    return out;
  }

  /** The running bridge's own report (tests and embedding); undefined before start. */
  portStatus(): SerialPartStatus | undefined {
    return this.running?.status();
  }
}

/** One part per configured serial port (`bridges.serial`). */
export const serialPartFactory: PartFactory = (config) => (sectionOf(config, bridgesSection)?.serial ?? []).map((entry) => new SerialPart(entry));
