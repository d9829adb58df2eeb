// A frame-mode serial port: the device on it is a real WAMP peer. Wraps SerialLink (framing,
// hot-plug) and attaches every Peer it yields to the router with the identity the port config
// names, so the device joins without authentication and only on that realm. No routing here.

import type { Peer } from '../../protocol/peer';
import type { LocalIdentity } from '../../gateway-part';
import { SerialLink, type SerialLinkCounters, type SerialLinkState } from '../../transports/serial/serial-link';
import { quietLogger, type Logger } from '../../util/logger';
import type { SerialFrameSettings } from './config';

/** What FramePort needs of the router: attach a transport peer with a preset identity. */
export interface FramePortDeps {
  router: { attach(peer: Peer, identity?: LocalIdentity): { readonly id: number; readonly established: boolean } };
  logger?: Logger;
}

export interface FramePortStatus {
  /** Which mode of serial bridge reports this (part.ts maps it into the part seam's PartStatus). */
  kind: 'serial-frame';
  name: string;
  path: string;
  mode: 'frame';
  state: SerialLinkState;
  /** Epoch ms when the port state began. */
  since: number;
  realm: string;
  authid: string;
  authrole: string;
  /** The device's current session id, once it has joined. */
  session?: number;
  lastError?: string;
  nextRetryMs?: number;
  counters: SerialLinkCounters;
}

export class FramePort {
  readonly name: string;
  private readonly link: SerialLink;
  private readonly log: Logger;
  /** The router's session of the current Peer (joined or still in its handshake). */
  private current: { readonly id: number; readonly established: boolean } | undefined;
  private currentPeer: Peer | undefined;

  constructor(
    private readonly config: SerialFrameSettings,
    private readonly deps: FramePortDeps,
  ) {
    this.name = config.name;
    this.log = (deps.logger ?? quietLogger).child(`serial.${config.name}`);
    const identity: LocalIdentity = { authid: config.authid, authrole: config.authrole, realm: config.realm };
    this.link = new SerialLink({
      path: config.path,
      name: `serial:${config.name}`,
      baudRate: config.baudRate,
      dataBits: config.dataBits,
      parity: config.parity,
      stopBits: config.stopBits,
      maxPayload: config.maxFrameBytes,
      leadingDelimiter: config.leadingDelimiter,
      reopenMinMs: config.reopen.minMs,
      reopenMaxMs: config.reopen.maxMs,
      logger: this.log,
      onPeer: (peer) => {
        this.currentPeer = peer;
        this.current = this.deps.router.attach(peer, identity);
      },
    });
  }

  start(): void {
    this.link.start();
  }

  async stop(): Promise<void> {
    await this.link.close();
    this.current = undefined;
    this.currentPeer = undefined;
  }

  status(): FramePortStatus {
    const s = this.link.status();
    const out: FramePortStatus = {
      kind: 'serial-frame',
      name: this.name,
      path: s.path,
      mode: 'frame',
      state: s.state,
      since: s.since,
      realm: this.config.realm,
      authid: this.config.authid,
      authrole: this.config.authrole,
      counters: s.counters,
    };
    if (this.current && this.currentPeer && !this.currentPeer.closed && this.current.established) out.session = this.current.id;
    if (s.lastError !== undefined) out.lastError = s.lastError;
    if (s.nextRetryMs !== undefined) out.nextRetryMs = s.nextRetryMs;
    return out;
  }
}
