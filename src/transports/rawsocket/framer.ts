// RawSocket framing (spec: "RawSocket Transport", Framing): a state machine fed arbitrary byte
// chunks that yields complete frames, and the encoder for the 4-octet frame prefix. Pure: it
// neither reads sockets nor decodes WAMP messages.

export const FrameKind = { regular: 0, ping: 1, pong: 2 } as const;
export type FrameKindName = keyof typeof FrameKind;

export const FRAME_HEADER_BYTES = 4;
/** The spec's ceiling: 24 length bits plus the X bit for exactly 2^24. */
export const MAX_FRAME_PAYLOAD = 2 ** 24;

const kindByCode: readonly FrameKindName[] = ['regular', 'ping', 'pong'];

export interface Frame {
  kind: FrameKindName;
  /** May share memory with the chunk it came from; consumers must not keep it mutable. */
  payload: Buffer;
}

export type FramerErrorCode = 'oversized' | 'reserved-bits' | 'reserved-type';

export interface FramerError {
  code: FramerErrorCode;
  message: string;
  /** `oversized`: the length the header announced, and the limit it broke. */
  length?: number;
  limit?: number;
  /** `oversized`: the first payload bytes that came with the header (up to 16), so the log
   * can name the message type without the router ever buffering the frame. */
  head?: Buffer;
}

export interface FeedResult {
  /** Frames completed by this chunk, in order, including any before an error. */
  frames: Frame[];
  /** Set once the stream is unusable; the connection must be failed. */
  error?: FramerError;
}

export function encodeFrameHeader(kind: FrameKindName, length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME_PAYLOAD) {
    throw new RangeError(`RawSocket frame length ${length} out of range`);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  if (length === MAX_FRAME_PAYLOAD) {
    header.writeUInt32BE(0, 0);
    header[0] = 0x08 | FrameKind[kind];
  } else {
    header.writeUInt32BE(length, 0);
    header[0] = FrameKind[kind];
  }
  return header;
}

/** Header and payload in one buffer; the socket writers send the two parts without copying. */
export function encodeFrame(kind: FrameKindName, payload: Buffer): Buffer {
  return Buffer.concat([encodeFrameHeader(kind, payload.length), payload], FRAME_HEADER_BYTES + payload.length);
}

/**
 * Whether a slice may be kept by reference: a slice keeps its whole ArrayBuffer alive, so a small
 * piece of a large buffer (a 10-byte tail of a 64 KiB read, or of a pooled slab) is copied and the
 * bytes held stay within twice the bytes counted. A slice that is most of its buffer is kept as
 * is: copying it would only make a second buffer of the same size while the first awaits GC.
 */
export function retainable(slice: Buffer): boolean {
  return slice.length * 2 >= slice.buffer.byteLength;
}

/** A copy in a buffer of its own: Buffer.from would put a small one in the shared 8 KiB pool,
 * whose slab the copy would then keep alive. */
function copyOut(slice: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(slice.length);
  slice.copy(copy);
  return copy;
}

export interface FramerOptions {
  /** Inbound limit: a header announcing more fails before any payload is buffered. */
  maxLength: number;
}

export class RawSocketFramer {
  private maxLength: number;
  // Header octets may straddle chunks; 4 bytes are cheap to copy, payloads are not.
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** Set while a payload is being collected: its kind and announced length. */
  private current: { kind: FrameKindName; length: number } | undefined;
  /** Slices of the current payload, kept by reference until it completes. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private failed: FramerError | undefined;

  constructor(options: FramerOptions) {
    this.maxLength = Math.min(options.maxLength, MAX_FRAME_PAYLOAD);
  }

  /** Changes the inbound limit for frames whose header is still to come (a connection gets the
   * full limit once authenticated). */
  setMaxLength(maxLength: number): void {
    this.maxLength = Math.min(maxLength, MAX_FRAME_PAYLOAD);
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.headerFill + this.partsBytes;
  }

  push(chunk: Buffer): FeedResult {
    const frames: Frame[] = [];
    if (this.failed) return { frames, error: this.failed };
    let offset = 0;
    while (offset < chunk.length || (this.current && this.current.length === 0)) {
      if (!this.current) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        this.headerFill = 0;
        const error = this.startFrame();
        if (error) {
          if (error.code === 'oversized') error.head = Buffer.from(chunk.subarray(offset, offset + 16));
          this.failed = error;
          return { frames, error };
        }
        continue;
      }
      const { kind, length } = this.current;
      const need = length - this.partsBytes;
      const available = chunk.length - offset;
      if (this.partsBytes === 0 && available >= need) {
        // The common case: the whole payload is inside this chunk, so no copy at all.
        frames.push({ kind, payload: chunk.subarray(offset, offset + need) });
        offset += need;
        this.current = undefined;
        continue;
      }
      const take = Math.min(need, available);
      const part = chunk.subarray(offset, offset + take);
      this.parts.push(retainable(part) ? part : copyOut(part));
      this.partsBytes += take;
      offset += take;
      if (this.partsBytes === length) {
        frames.push({ kind, payload: Buffer.concat(this.parts, length) });
        this.parts = [];
        this.partsBytes = 0;
        this.current = undefined;
      }
    }
    return { frames };
  }

  private startFrame(): FramerError | undefined {
    const first = this.header[0] ?? 0;
    if (first & 0xf0) return { code: 'reserved-bits', message: 'frame prefix uses reserved bits' };
    const type = first & 0x07;
    const kind = kindByCode[type];
    if (kind === undefined) return { code: 'reserved-type', message: `reserved frame type ${type}` };
    const low24 = this.header.readUIntBE(1, 3);
    let length: number;
    if (first & 0x08) {
      // X is only legal for exactly 2^24 with the 24 length bits clear.
      if (low24 !== 0) return { code: 'reserved-bits', message: 'frame length X bit set with nonzero length' };
      length = MAX_FRAME_PAYLOAD;
    } else {
      length = low24;
    }
    if (length > this.maxLength) {
      return { code: 'oversized', message: `frame of ${length} bytes exceeds the limit of ${this.maxLength}`, length, limit: this.maxLength };
    }
    this.current = { kind, length };
    return undefined;
  }
}
