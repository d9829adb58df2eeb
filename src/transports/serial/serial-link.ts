// A UART-attached device as a WAMP peer (serial frame mode, docs/serial-frame-protocol.md):
// owns framing on the port and hands each session a Peer built from SerializedPeer + CBOR; the
// port itself (open, hot-plug reopen with backoff, write backlog) is a ReopeningPort. It does
// not know realms, authids or routing: the onPeer callback attaches each new Peer to the router.

import type { Peer, TransportInfo } from '../../protocol/peer';
import { cborSerializer } from '../../serializers/cbor';
import { SerializedPeer, type FrameChannel } from '../serialized-peer';
import { quietLogger, type Logger } from '../../util/logger';
import { sniffMessageType } from '../message-sniff';
import { DEFAULT_MAX_PAYLOAD, FrameDecoder, encodeFrame, type FrameStats } from './frame-codec';
import { ReopeningPort, type ReopeningPortState, type SerialParity } from './reopening-port';

export type SerialLinkState = ReopeningPortState;
export type { SerialParity };

export interface SerialLinkOptions {
  /** Device path; prefer the stable /dev/serial/by-id/… names over /dev/ttyUSBn. */
  path: string;
  /** Default 115200. */
  baudRate?: number;
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 'none'. */
  parity?: SerialParity;
  /** Default 1. */
  stopBits?: 1 | 1.5 | 2;
  /** Listener name reported in TransportInfo (the port's name in config). Default 'serial'. */
  name?: string;
  /** Largest CBOR message either way, CRC excluded. Default 1024; match the device's buffers. */
  maxPayload?: number;
  /** Write a 0x00 before every frame so a device that booted mid-frame resyncs. Default true. */
  leadingDelimiter?: boolean;
  /** First reopen delay after the port is lost; doubles up to reopenMaxMs. Default 500. */
  reopenMinMs?: number;
  /** Default 10000. */
  reopenMaxMs?: number;
  /** Called with a new Peer each time a session can start: at every (re)open, and on the first
   *  frame after the router closed the previous Peer (the device is rejoining). */
  onPeer(peer: Peer): void;
  onStateChange?(state: SerialLinkState): void;
  logger?: Logger;
}

export interface SerialLinkCounters extends FrameStats {
  bytesIn: number;
  bytesOut: number;
  framesOut: number;
  /** Outbound messages larger than maxPayload: not sent (the device could not take them). */
  oversizedOut: number;
  /** Successful opens, the first one included. */
  opens: number;
  /** Peers handed to onPeer. */
  peers: number;
  /** HELLOs identical to the one that started the current session, with nothing else from the
   *  device in between: a retry that crossed a slow or lost WELCOME. Not passed to the router;
   *  the WELCOME is sent again if it was already out. */
  repeatedHellos: number;
}

export interface SerialLinkStatus {
  path: string;
  state: SerialLinkState;
  /** Epoch ms when the current state began. */
  since: number;
  /** A Peer is currently attached (a session exists or is starting). */
  peerActive: boolean;
  /** Bytes written to the port and not yet drained by the OS. */
  bufferedBytes: number;
  /** Why the port was last lost or failed to open. */
  lastError?: string;
  /** Delay before the next reopen attempt while unplugged. */
  nextRetryMs?: number;
  counters: SerialLinkCounters;
}

const zeroFrameStats = (): FrameStats => ({ frames: 0, crcErrors: 0, cobsErrors: 0, oversized: 0, droppedBytes: 0 });

function addFrameStats(a: FrameStats, b: FrameStats): FrameStats {
  return {
    frames: a.frames + b.frames,
    crcErrors: a.crcErrors + b.crcErrors,
    cobsErrors: a.cobsErrors + b.cobsErrors,
    oversized: a.oversized + b.oversized,
    droppedBytes: a.droppedBytes + b.droppedBytes,
  };
}

export class SerialLink {
  private readonly name: string;
  private readonly maxPayload: number;
  private readonly leadingDelimiter: boolean;
  private readonly log: Logger;
  private readonly port: ReopeningPort;
  private decoder: FrameDecoder | undefined;
  /** Frame stats of decoders of earlier opens, so counters survive reopen. */
  private pastFrameStats: FrameStats = zeroFrameStats();
  private peer: SerializedPeer | undefined;
  private readonly io = { bytesIn: 0, bytesOut: 0, framesOut: 0, oversizedOut: 0, peers: 0, repeatedHellos: 0 };
  /** Frames the current peer has been given. */
  private peerFrames = 0;
  /** The HELLO that started the current peer's session, kept while it is the only frame the
   *  device sent: an identical one then is the device's retry, not a new session. */
  private helloFrame: Buffer | undefined;
  /** The router's WELCOME to that HELLO, once sent: a retry may mean the device lost it. */
  private welcomeFrame: Buffer | undefined;
  /** A repeated HELLO is logged once per session. */
  private repeatLogged = false;

  constructor(private readonly options: SerialLinkOptions) {
    this.name = options.name ?? 'serial';
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.leadingDelimiter = options.leadingDelimiter ?? true;
    this.log = (options.logger ?? quietLogger).child('serial');
    this.port = new ReopeningPort({
      path: options.path,
      baudRate: options.baudRate,
      dataBits: options.dataBits,
      parity: options.parity,
      stopBits: options.stopBits,
      reopenMinMs: options.reopenMinMs,
      reopenMaxMs: options.reopenMaxMs,
      logger: this.log,
      onOpen: () => this.portOpened(),
      onData: (chunk) => this.onData(chunk),
      onLost: (reason) => this.portLost(reason),
      onStateChange: (state) => this.options.onStateChange?.(state),
    });
  }

  /** Opens the port (retrying with backoff while it is absent). Idempotent. */
  start(): void {
    this.port.start();
  }

  status(): SerialLinkStatus {
    const f = addFrameStats(this.pastFrameStats, this.decoder?.stats ?? zeroFrameStats());
    const s: SerialLinkStatus = {
      path: this.options.path,
      state: this.port.state,
      since: this.port.since,
      peerActive: this.peer !== undefined,
      bufferedBytes: this.port.bufferedBytes,
      counters: { ...f, ...this.io, opens: this.port.opens },
    };
    const lastError = this.port.lastError;
    if (lastError !== undefined) s.lastError = lastError;
    const next = this.port.nextRetryMs;
    if (next !== undefined) s.nextRetryMs = next;
    return s;
  }

  /** Stops reopening, closes the port and the current Peer. Resolves when the port is closed. */
  async close(): Promise<void> {
    const closing = this.port.close();
    this.foldDecoder();
    this.dropPeer('serial link closed');
    await closing;
  }

  private portOpened(): void {
    this.decoder = new FrameDecoder({ maxPayload: this.maxPayload });
    this.newPeer();
  }

  private portLost(reason: string): void {
    this.foldDecoder();
    this.dropPeer(`serial port lost: ${reason}`);
  }

  /** Keeps the stats of the decoder of a port that is gone. */
  private foldDecoder(): void {
    if (!this.decoder) return;
    this.pastFrameStats = addFrameStats(this.pastFrameStats, this.decoder.stats);
    this.decoder = undefined;
  }

  private onData(chunk: Buffer): void {
    if (!this.decoder) return;
    this.io.bytesIn += chunk.length;
    const before = this.decoder.stats;
    const frames = this.decoder.push(chunk);
    const after = this.decoder.stats;
    if (after.crcErrors + after.cobsErrors + after.oversized > before.crcErrors + before.cobsErrors + before.oversized) {
      this.log.debug('bad serial frame dropped', {
        path: this.options.path,
        crcErrors: after.crcErrors,
        cobsErrors: after.cobsErrors,
        oversized: after.oversized,
      });
    }
    for (const frame of frames) {
      if (this.peer && this.helloFrame?.equals(frame)) {
        this.repeatedHello();
        continue;
      }
      // The router closed the last session (GOODBYE, ABORT, timeout): the device speaking again
      // starts a new one. A non-HELLO first message then gets an ABORT, which tells a device
      // that missed the close to rejoin.
      const peer = this.peer ?? this.newPeer();
      this.helloFrame = this.peerFrames++ === 0 && sniffMessageType('cbor', frame) === 'HELLO' ? Buffer.from(frame) : undefined;
      this.welcomeFrame = undefined;
      peer.receiveFrame(frame);
    }
  }

  /**
   * A device resends HELLO when no WELCOME came within its retry time (frames get lost on a
   * UART). On a loaded gateway the WELCOME may merely be slow: the retry then reaches the router
   * on an established session, where a second HELLO is a protocol violation, and the device
   * would lose the session it just got. Such a retry is identical to the HELLO being answered
   * and comes before anything else, so it is answered here: with the same WELCOME again if it
   * was sent (the device may have lost it; a joined wampdev ignores a second one), else not at
   * all (the WELCOME is on its way). Anything else from the device ends this window.
   */
  private repeatedHello(): void {
    this.io.repeatedHellos++;
    if (!this.repeatLogged) {
      this.repeatLogged = true;
      this.log.warn('repeated HELLO from the device not passed to the router (a retry of the HELLO being answered)', {
        path: this.options.path,
        welcomeSentAgain: this.welcomeFrame !== undefined,
      });
    }
    if (this.welcomeFrame) this.write(this.welcomeFrame);
  }

  private newPeer(): SerializedPeer {
    const transport: TransportInfo = {
      type: 'serial',
      serializer: 'cbor',
      peer: `serial:${this.options.path}`,
      loopback: true,
      listener: this.name,
    };
    let peer: SerializedPeer | undefined = undefined;
    const channel: FrameChannel = {
      writeFrame: (payload) => {
        if (peer !== this.peer) return true;
        const sent = this.write(payload);
        if (sent && this.helloFrame && !this.welcomeFrame && sniffMessageType('cbor', payload) === 'WELCOME') this.welcomeFrame = Buffer.from(payload);
        return sent;
      },
      close: () => {
        // The router ends this session; the port stays open for the device's next HELLO.
        if (peer === this.peer) this.forgetPeer();
      },
      bufferedBytes: () => (peer === this.peer ? this.port.bufferedBytes : 0),
    };
    peer = new SerializedPeer(transport, cborSerializer, channel);
    this.forgetPeer();
    this.peer = peer;
    this.io.peers++;
    try {
      this.options.onPeer(peer);
    } catch (err) {
      this.log.error('onPeer threw', { path: this.options.path, err });
    }
    return peer;
  }

  private forgetPeer(): void {
    this.peer = undefined;
    this.peerFrames = 0;
    this.helloFrame = undefined;
    this.welcomeFrame = undefined;
    this.repeatLogged = false;
  }

  private dropPeer(reason: string): void {
    const peer = this.peer;
    this.forgetPeer();
    peer?.transportClosed(reason);
  }

  private write(payload: Buffer): boolean {
    if (this.port.state !== 'open') return true;
    if (payload.length > this.maxPayload) {
      this.io.oversizedOut++;
      this.log.warn('outbound message larger than the serial frame limit, not sent', {
        path: this.options.path,
        bytes: payload.length,
        maxPayload: this.maxPayload,
      });
      return false;
    }
    const frame = encodeFrame(payload, { leadingDelimiter: this.leadingDelimiter });
    if (!this.port.write(frame)) return true;
    this.io.bytesOut += frame.length;
    this.io.framesOut++;
    return true;
  }
}
