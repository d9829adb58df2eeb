// Splits the byte stream of a line-mode serial port into text lines with a length limit: a line
// longer than the limit is dropped and counted, and the splitter resumes at the next newline.
// Pure (fed chunks, returns lines); knows nothing of ports, rules or WAMP.

export type LineEncoding = 'utf8' | 'latin1';

export interface LineSplitterOptions {
  /** Largest line in bytes, the newline (and a CR before it) excluded. */
  maxLineBytes: number;
  /** Default 'utf8' (invalid bytes become U+FFFD); 'latin1' maps every byte to one character. */
  encoding?: LineEncoding;
}

export interface LineSplitterStats {
  /** Lines delivered (empty lines are skipped, not counted). */
  lines: number;
  /** Lines over maxLineBytes, dropped. */
  overLength: number;
  /** Bytes of those dropped lines. */
  overLengthBytes: number;
}

const NL = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private readonly max: number;
  private readonly encoding: LineEncoding;
  /** Pieces of the line so far; kept as pieces so a slow trickle is not copied per chunk. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside an over-length line: discard up to the next newline. */
  private skipping = false;
  readonly stats: LineSplitterStats = { lines: 0, overLength: 0, overLengthBytes: 0 };

  constructor(options: LineSplitterOptions) {
    if (!Number.isInteger(options.maxLineBytes) || options.maxLineBytes < 1) throw new RangeError('maxLineBytes must be a positive integer');
    this.max = options.maxLineBytes;
    this.encoding = options.encoding ?? 'utf8';
  }

  /** Feeds bytes in whatever pieces the port delivered; returns the complete lines. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      this.absorb(chunk, start, end);
      if (nl === -1) break;
      this.endOfLine(out);
      start = nl + 1;
    }
    return out;
  }

  /** Forgets a partial line (after the port was reopened). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }

  private absorb(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (this.skipping) {
      this.stats.overLengthBytes += n;
      return;
    }
    // +1 leaves room for a CR that the newline will strip.
    if (this.pendingBytes + n > this.max + 1) {
      this.stats.overLength++;
      this.stats.overLengthBytes += this.pendingBytes + n;
      this.skipping = true;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    this.pending.push(chunk.subarray(start, end));
    this.pendingBytes += n;
  }

  private endOfLine(out: string[]): void {
    const wasSkipping = this.skipping;
    const pieces = this.pending;
    let len = this.pendingBytes;
    this.reset();
    if (wasSkipping || len === 0) return;
    const buf = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, len);
    if (buf[len - 1] === CR) len--;
    if (len > this.max) {
      this.stats.overLength++;
      this.stats.overLengthBytes += len;
      return;
    }
    if (len === 0) return;
    this.stats.lines++;
    out.push(buf.toString(this.encoding, 0, len));
  }
}
