// A UART-attached device as a WAMP peer (serial frame mode, docs/serial-frame-protocol.md):
// owns the port (open, hot-plug reopen with backoff, writes and their backlog) and hands each
// session a Peer built from SerializedPeer + CBOR. It does not know realms, authids or routing:
// the gateway's onPeer callback attaches each new Peer to the router.

import { SerialPort } from 'serialport';
import type { Peer, TransportInfo } from '../../protocol/peer';
import { cborSerializer } from '../../serializers/cbor';
import { SerializedPeer, type FrameChannel } from '../serialized-peer';
import { quietLogger, type Logger } from '../../util/logger';
import { DEFAULT_MAX_PAYLOAD, FrameDecoder, encodeFrame, type FrameStats } from './frame-codec';

export type SerialLinkState = 'opening' | 'open' | 'unplugged' | 'closed';
export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

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

export class SerialLink {
  private readonly opts: Required<Omit<SerialLinkOptions, 'onStateChange' | 'logger' | 'onPeer'>>;
  private readonly log: Logger;
  private state: SerialLinkState = 'closed';
  private since = Date.now();
  private started = false;
  private port: SerialPort | undefined;
  private decoder: FrameDecoder | undefined;
  /** Frame stats of decoders of earlier opens, so counters survive reopen. */
  private pastFrameStats: FrameStats = zeroFrameStats();
  private peer: SerializedPeer | undefined;
  private buffered = 0;
  private retryDelay: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private readonly io = { bytesIn: 0, bytesOut: 0, framesOut: 0, oversizedOut: 0, opens: 0, peers: 0 };

  constructor(private readonly options: SerialLinkOptions) {
    this.opts = {
      path: options.path,
      baudRate: options.baudRate ?? 115200,
      dataBits: options.dataBits ?? 8,
      parity: options.parity ?? 'none',
      stopBits: options.stopBits ?? 1,
      name: options.name ?? 'serial',
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      leadingDelimiter: options.leadingDelimiter ?? true,
      reopenMinMs: options.reopenMinMs ?? 500,
      reopenMaxMs: options.reopenMaxMs ?? 10_000,
    };
    this.retryDelay = this.opts.reopenMinMs;
    this.log = (options.logger ?? quietLogger).child('serial');
  }

  /** Opens the port (retrying with backoff while it is absent). Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.openPort();
  }

  status(): SerialLinkStatus {
    const d = this.decoder?.stats ?? zeroFrameStats();
    const p = this.pastFrameStats;
    const s: SerialLinkStatus = {
      path: this.opts.path,
      state: this.state,
      since: this.since,
      peerActive: this.peer !== undefined,
      bufferedBytes: this.buffered,
      counters: {
        frames: p.frames + d.frames,
        crcErrors: p.crcErrors + d.crcErrors,
        cobsErrors: p.cobsErrors + d.cobsErrors,
        oversized: p.oversized + d.oversized,
        droppedBytes: p.droppedBytes + d.droppedBytes,
        ...this.io,
      },
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    if (this.state === 'unplugged' && this.retryTimer) s.nextRetryMs = this.retryDelay;
    return s;
  }

  /** Stops reopening, closes the port and the current Peer. Resolves when the port is closed. */
  async close(): Promise<void> {
    if (this.state === 'closed' && !this.started) return;
    this.started = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const port = this.port;
    this.detachPort();
    this.dropPeer('serial link closed');
    this.setState('closed');
    if (port?.isOpen) {
      await new Promise<void>((resolve) => {
        try {
          port.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
  }

  private setState(state: SerialLinkState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = Date.now();
    try {
      this.options.onStateChange?.(state);
    } catch (err) {
      this.log.error('onStateChange threw', { path: this.opts.path, err });
    }
  }

  private openPort(): void {
    if (!this.started) return;
    this.retryTimer = undefined;
    if (this.state !== 'unplugged') this.setState('opening');
    let port: SerialPort;
    try {
      port = new SerialPort({
        path: this.opts.path,
        baudRate: this.opts.baudRate,
        dataBits: this.opts.dataBits,
        parity: this.opts.parity,
        stopBits: this.opts.stopBits,
        autoOpen: false,
      });
    } catch (err) {
      // Bad settings throw synchronously; retrying cannot fix them but must not crash either.
      this.portFailed(undefined, err);
      return;
    }
    this.port = port;
    // Attached before open so that no port error is ever unhandled (an unhandled 'error' event
    // would take the whole gateway down).
    port.on('error', (err: Error) => this.portFailed(port, err));
    port.on('close', (err?: Error | null) => this.portFailed(port, err ?? new Error('port closed')));
    port.on('data', (chunk: Buffer) => this.onData(port, chunk));
    port.open((err) => {
      if (err) this.portFailed(port, err);
      else this.portOpened(port);
    });
  }

  private portOpened(port: SerialPort): void {
    if (port !== this.port || !this.started) {
      port.close(() => undefined);
      return;
    }
    this.io.opens++;
    this.retryDelay = this.opts.reopenMinMs;
    this.buffered = 0;
    this.decoder = new FrameDecoder({ maxPayload: this.opts.maxPayload });
    this.log.info('serial port open', { path: this.opts.path, baudRate: this.opts.baudRate });
    this.setState('open');
    this.newPeer();
  }

  private portFailed(port: SerialPort | undefined, err: unknown): void {
    if (port !== undefined && port !== this.port) return; // a stale port's late events
    if (!this.started) return;
    const message = err instanceof Error ? err.message : String(err);
    const wasOpen = this.state === 'open';
    this.lastError = message;
    this.detachPort();
    if (port?.isOpen) port.close(() => undefined);
    this.dropPeer(`serial port lost: ${message}`);
    if (wasOpen || this.state === 'opening') {
      this.log.warn('serial port unplugged', { path: this.opts.path, error: message });
    } else {
      this.log.debug('serial port still absent', { path: this.opts.path, error: message });
    }
    this.setState('unplugged');
    if (this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.reopenMaxMs);
    this.retryTimer = setTimeout(() => this.openPort(), delay);
  }

  /** Forgets the current port; its stats are kept for the counters. */
  private detachPort(): void {
    const port = this.port;
    this.port = undefined;
    if (port) {
      port.removeAllListeners('data');
      // Keep swallowing errors a dying port may still emit.
      port.removeAllListeners('error');
      port.on('error', () => undefined);
    }
    if (this.decoder) {
      const d = this.decoder.stats;
      const p = this.pastFrameStats;
      this.pastFrameStats = {
        frames: p.frames + d.frames,
        crcErrors: p.crcErrors + d.crcErrors,
        cobsErrors: p.cobsErrors + d.cobsErrors,
        oversized: p.oversized + d.oversized,
        droppedBytes: p.droppedBytes + d.droppedBytes,
      };
      this.decoder = undefined;
    }
    this.buffered = 0;
  }

  private onData(port: SerialPort, chunk: Buffer): void {
    if (port !== this.port || !this.decoder) return;
    this.io.bytesIn += chunk.length;
    const before = this.decoder.stats;
    const frames = this.decoder.push(chunk);
    const after = this.decoder.stats;
    if (after.crcErrors + after.cobsErrors + after.oversized > before.crcErrors + before.cobsErrors + before.oversized) {
      this.log.debug('bad serial frame dropped', { path: this.opts.path, crcErrors: after.crcErrors, cobsErrors: after.cobsErrors, oversized: after.oversized });
    }
    for (const frame of frames) {
      // The router closed the last session (GOODBYE, ABORT, timeout): the device speaking again
      // starts a new one. A non-HELLO first message then gets an ABORT, which tells a device
      // that missed the close to rejoin.
      const peer = this.peer ?? this.newPeer();
      peer.receiveFrame(frame);
    }
  }

  private newPeer(): SerializedPeer {
    const transport: TransportInfo = {
      type: 'serial',
      serializer: 'cbor',
      peer: `serial:${this.opts.path}`,
      loopback: true,
      listener: this.opts.name,
    };
    let peer: SerializedPeer | undefined = undefined;
    const channel: FrameChannel = {
      writeFrame: (payload) => {
        if (peer === this.peer) this.write(payload);
      },
      close: () => {
        // The router ends this session; the port stays open for the device's next HELLO.
        if (peer === this.peer) this.peer = undefined;
      },
      bufferedBytes: () => (peer === this.peer ? this.buffered : 0),
    };
    peer = new SerializedPeer(transport, cborSerializer, channel);
    this.peer = peer;
    this.io.peers++;
    try {
      this.options.onPeer(peer);
    } catch (err) {
      this.log.error('onPeer threw', { path: this.opts.path, err });
    }
    return peer;
  }

  private dropPeer(reason: string): void {
    const peer = this.peer;
    this.peer = undefined;
    peer?.transportClosed(reason);
  }

  private write(payload: Buffer): void {
    const port = this.port;
    if (!port || this.state !== 'open') return;
    if (payload.length > this.opts.maxPayload) {
      this.io.oversizedOut++;
      this.log.warn('outbound message larger than the serial frame limit, not sent', {
        path: this.opts.path,
        bytes: payload.length,
        maxPayload: this.opts.maxPayload,
      });
      return;
    }
    const frame = encodeFrame(payload, { leadingDelimiter: this.opts.leadingDelimiter });
    this.buffered += frame.length;
    this.io.bytesOut += frame.length;
    this.io.framesOut++;
    port.write(frame, (err) => {
      if (port !== this.port) return;
      this.buffered = Math.max(0, this.buffered - frame.length);
      if (err) this.portFailed(port, err);
    });
  }
}
