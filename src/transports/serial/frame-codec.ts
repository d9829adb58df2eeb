// Serial frame mode framing (docs/serial-frame-protocol.md): payload ‖ CRC-32 LE, COBS-encoded,
// 0x00-terminated. Owns encoding one frame and a decoder state machine fed arbitrary chunks
// that drops and counts bad frames. Knows nothing of CBOR, WAMP or serial ports.

import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs';
import { crc32 } from './crc32';

export const DEFAULT_MAX_PAYLOAD = 1024;
const CRC_BYTES = 4;

export interface FrameEncodeOptions {
  /** Send 0x00 before the frame too, so a receiver that joined mid-frame resyncs at once. */
  leadingDelimiter?: boolean;
}

/** One frame on the wire: [0x00] COBS(payload ‖ crc32le(payload)) 0x00. */
export function encodeFrame(payload: Uint8Array, options: FrameEncodeOptions = {}): Buffer {
  const raw = Buffer.allocUnsafe(payload.length + CRC_BYTES);
  raw.set(payload, 0);
  raw.writeUInt32LE(crc32(payload), payload.length);
  const body = cobsEncode(raw);
  const lead = options.leadingDelimiter ? 1 : 0;
  const out = Buffer.allocUnsafe(lead + body.length + 1);
  if (lead) out[0] = 0;
  body.copy(out, lead);
  out[out.length - 1] = 0;
  return out;
}

/** Encoded size (delimiters included) of a frame carrying `payloadLength` bytes. */
export function maxFrameLength(payloadLength: number, options: FrameEncodeOptions = {}): number {
  return cobsMaxEncodedLength(payloadLength + CRC_BYTES) + 1 + (options.leadingDelimiter ? 1 : 0);
}

export interface FrameStats {
  /** Good frames delivered. */
  frames: number;
  /** COBS valid but the CRC did not match (or the frame was too short to hold one). */
  crcErrors: number;
  /** Not valid COBS. */
  cobsErrors: number;
  /** Longer than the configured maximum payload; skipped up to the next delimiter. */
  oversized: number;
  /** Bytes thrown away before the first delimiter (the receiver started mid-frame). */
  droppedBytes: number;
}

export interface FrameDecoderOptions {
  /** Largest payload (CBOR bytes, CRC excluded) accepted. Default 1024. */
  maxPayload?: number;
  /**
   * Treat the first bytes as the start of a frame. Default false: a serial port opened while
   * the other side was mid-frame yields a partial frame, so everything up to the first 0x00
   * is dropped (counted in droppedBytes, not as an error).
   */
  startSynced?: boolean;
}

export class FrameDecoder {
  readonly maxPayload: number;
  private readonly maxEncoded: number;
  private readonly buf: Buffer;
  private len = 0;
  private synced: boolean;
  /** Set after an oversize frame until its delimiter: the rest of it is skipped. */
  private skipping = false;
  private readonly counters: FrameStats = { frames: 0, crcErrors: 0, cobsErrors: 0, oversized: 0, droppedBytes: 0 };

  constructor(options: FrameDecoderOptions = {}) {
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!Number.isInteger(this.maxPayload) || this.maxPayload < 1) throw new RangeError('maxPayload must be a positive integer');
    this.maxEncoded = cobsMaxEncodedLength(this.maxPayload + CRC_BYTES);
    this.buf = Buffer.allocUnsafe(this.maxEncoded);
    this.synced = options.startSynced ?? false;
  }

  get stats(): Readonly<FrameStats> {
    return { ...this.counters };
  }

  /** Feeds bytes in whatever pieces the port delivered; returns the good payloads completed. */
  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      const zero = chunk.indexOf(0, i);
      const end = zero === -1 ? chunk.length : zero;
      this.absorb(chunk, i, end);
      if (zero === -1) break;
      this.endOfFrame(out);
      i = zero + 1;
    }
    return out;
  }

  /** Forgets a partial frame and waits for the next delimiter, as after a reopen. */
  reset(): void {
    this.len = 0;
    this.skipping = false;
    this.synced = false;
  }

  private absorb(chunk: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (!this.synced) {
      this.counters.droppedBytes += n;
      return;
    }
    if (this.skipping) return;
    if (this.len + n > this.maxEncoded) {
      this.counters.oversized++;
      this.skipping = true;
      this.len = 0;
      return;
    }
    this.buf.set(chunk.subarray(start, end), this.len);
    this.len += n;
  }

  private endOfFrame(out: Buffer[]): void {
    const len = this.len;
    const wasSynced = this.synced;
    const wasSkipping = this.skipping;
    this.len = 0;
    this.skipping = false;
    this.synced = true;
    // Empty frames are the optional leading delimiters (and idle-line resync zeros): not errors.
    if (!wasSynced || wasSkipping || len === 0) return;
    const raw = cobsDecode(this.buf.subarray(0, len));
    if (raw === undefined) {
      this.counters.cobsErrors++;
      return;
    }
    if (raw.length < CRC_BYTES + 1) {
      this.counters.crcErrors++;
      return;
    }
    const payloadLength = raw.length - CRC_BYTES;
    if (payloadLength > this.maxPayload) {
      this.counters.oversized++;
      return;
    }
    const payload = raw.subarray(0, payloadLength);
    if (crc32(payload) !== raw.readUInt32LE(payloadLength)) {
      this.counters.crcErrors++;
      return;
    }
    this.counters.frames++;
    // Copy out: `raw` is fresh per frame but a subarray of a larger allocation.
    out.push(Buffer.from(payload));
  }
}
