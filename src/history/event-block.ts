// The event history's block format: the events of one topic written by one flush, packed into
// one SQLite row (one insert per topic per flush instead of one per event). Owns the byte layout,
// the incremental builder the writer fills during publish steps, and the accounting of event bytes.

import type { HistoryRule } from './history-config';

/** Per event beyond its payload and strings: its share of the block's fields and of SQLite's
 * record and page overhead, so maxBytes tracks the file's size. Measured with
 * `node dist/bench/history.js`: 99.6 bytes per event in the file for a 91-byte payload; the rest
 * is margin for pages left part-empty by evictions. (Schema 2's fixed-width layout needed 64.) */
export const ROW_OVERHEAD_BYTES = 24;

/** What every stored event carries, in the writer's queue and inside a block alike. */
export interface EventFields {
  timeUs: number;
  publication: number;
  session: number | null;
  authid: string | null;
  authrole: string | null;
  serializer: string;
  count: number;
  payload: Buffer;
  /** JSON: audience filters and passthru options, when the publication had any. */
  extra: string | null;
}

/** One publication as a caller of HistoryStore.append hands it over, payload already in bytes. */
export interface NewHistoryEvent extends EventFields {
  realm: string;
  topic: string;
  rule: HistoryRule;
}

/** One event inside a block; seq is its place in the broker's publish order (all topics). */
export interface BlockEvent extends EventFields {
  seq: number;
}

/** What a block's row says about its events, besides the packed bytes. */
export interface BlockSummary {
  firstSeq: number;
  lastSeq: number;
  events: number;
  timeMinUs: number;
  timeMaxUs: number;
  /** Accounted bytes (accountedBytes summed), what maxBytes caps. */
  bytes: number;
  data: Buffer;
}

/** The bytes an event is accounted with (the same formula as history files of schema 1 and 2). */
export function accountedBytes(e: EventFields): number {
  return e.payload.length + (e.authid?.length ?? 0) + (e.authrole?.length ?? 0) + (e.extra?.length ?? 0) + ROW_OVERHEAD_BYTES;
}

// Layout per event (schema 3). Fixed-width fields cost 56 bytes per event in schema 2 — a third
// of a small event's bytes in the file, and SQLite's write cost is per byte — so numbers are
// varints (7 bits per byte, low first) and what repeats the event before is a flag:
//   u8 flags | varint seq - previous seq (the first: seq) | varint signed time_us delta
//   | f64 publication | [varint session] | varint count | varint payload length
//   | [varint length, UTF-8] for serializer, authid, authrole, extra as flagged | payload
// A block's events mostly share publisher and serializer, and seq and time grow in small steps,
// so a typical event takes 14 bytes besides its payload. Publication IDs are random 53-bit
// numbers, which a varint would also need 8 bytes for, so they are a double (faster to write).
const SESSION = 0b11; // bits 0-1: session
const SERIALIZER_SAME = 1 << 2;
const AUTHID_SHIFT = 3; // bits 3-4: authid
const AUTHROLE_SHIFT = 5; // bits 5-6: authrole
const HAS_EXTRA = 1 << 7;
/** A 2-bit field's states: the value follows, it repeats the previous event's, or it is null. */
const VALUE = 0;
const SAME = 1;
const NULL = 2;
/** Enough for the longest varint (8 bytes up to 2^53) and the flags. */
const MAX_FIXED = 1 + 8 * 6;
/** A new block starts small: a flush can hold a block for each of thousands of topics (up to
 * history.maxQueuedEvents), and each grows by doubling only as its events need. */
const INITIAL_CAPACITY = 256;
/** A reused builder keeps a buffer up to this size (a busy topic's block) between flushes. */
const KEPT_CAPACITY = 256 * 1024;

/** Encodes a non-negative integer (up to 2^53) at `o`; returns the new offset. */
function putVarint(data: Buffer, o: number, v: number): number {
  // Above 2^31 bit operators would truncate: divide instead.
  while (v >= 0x80) {
    data[o++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  data[o++] = v;
  return o;
}

/** A signed difference as a varint: even for ≥ 0, odd for < 0 (clocks can step back). */
function signed(d: number): number {
  return d >= 0 ? d * 2 : -d * 2 - 1;
}

/** The 2-bit state of a nullable field against the event before (undefined = none before). */
function stateOf<T>(v: T | null, last: T | null | undefined): number {
  return v === null ? NULL : v === last ? SAME : VALUE;
}

/** Packs one topic's events, in seq order, one at a time: the writer adds each publication as
 * it is accepted, so a flush only hands finished bytes to SQLite. Reusable after `take`. */
export class BlockBuilder {
  private data: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private length = 0;
  events = 0;
  /** Accounted bytes of the events so far. */
  bytes = 0;
  private firstSeq = 0;
  private lastSeq = 0;
  private timeMinUs = Infinity;
  private timeMaxUs = -Infinity;
  private lastTime = 0;
  private lastSession: number | null | undefined = undefined;
  private lastSerializer: string | undefined = undefined;
  private lastAuthid: string | null | undefined = undefined;
  private lastAuthrole: string | null | undefined = undefined;

  add(seq: number, e: EventFields): void {
    const strings = this.stringBytes(e);
    this.ensure(MAX_FIXED + strings + e.payload.length);
    const data = this.data;
    const sessionState = stateOf(e.session, this.lastSession);
    const idState = stateOf(e.authid, this.lastAuthid);
    const roleState = stateOf(e.authrole, this.lastAuthrole);
    const serializerSame = e.serializer === this.lastSerializer;
    const flags =
      sessionState | (serializerSame ? SERIALIZER_SAME : 0) | (idState << AUTHID_SHIFT) | (roleState << AUTHROLE_SHIFT) | (e.extra === null ? 0 : HAS_EXTRA);
    let o = this.length;
    data[o++] = flags;
    o = putVarint(data, o, seq - (this.events === 0 ? 0 : this.lastSeq));
    o = putVarint(data, o, signed(e.timeUs - this.lastTime));
    data.writeDoubleLE(e.publication, o);
    o += 8;
    if (sessionState === VALUE) o = putVarint(data, o, e.session as number);
    o = putVarint(data, o, e.count);
    o = putVarint(data, o, e.payload.length);
    if (!serializerSame) o = this.putString(o, e.serializer);
    if (idState === VALUE) o = this.putString(o, e.authid as string);
    if (roleState === VALUE) o = this.putString(o, e.authrole as string);
    if (e.extra !== null) o = this.putString(o, e.extra);
    o += e.payload.copy(data, o);
    this.length = o;
    if (this.events === 0) this.firstSeq = seq;
    this.lastSeq = seq;
    this.events++;
    this.bytes += accountedBytes(e);
    this.lastTime = e.timeUs;
    if (e.timeUs < this.timeMinUs) this.timeMinUs = e.timeUs;
    if (e.timeUs > this.timeMaxUs) this.timeMaxUs = e.timeUs;
    this.lastSession = e.session;
    this.lastSerializer = e.serializer;
    this.lastAuthid = e.authid;
    this.lastAuthrole = e.authrole;
  }

  /** The block built so far, its bytes copied out; the builder starts a new block. */
  take(): BlockSummary {
    const summary = this.peek();
    summary.data = Buffer.from(summary.data);
    this.reset();
    return summary;
  }

  /** The block built so far; its data is a view valid until `reset` (SQLite copies a bound blob,
   * so the writer inserts it without a copy of its own). */
  peek(): BlockSummary {
    return {
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      events: this.events,
      timeMinUs: this.timeMinUs,
      timeMaxUs: this.timeMaxUs,
      bytes: this.bytes,
      data: this.data.subarray(0, this.length),
    };
  }

  /** Starts a new block, keeping the buffer unless a burst made it large. */
  reset(): void {
    this.length = 0;
    this.events = 0;
    this.bytes = 0;
    this.timeMinUs = Infinity;
    this.timeMaxUs = -Infinity;
    this.lastTime = 0;
    this.lastSession = undefined;
    this.lastSerializer = undefined;
    this.lastAuthid = undefined;
    this.lastAuthrole = undefined;
    // A burst of large payloads should not pin its buffer for good.
    if (this.data.length > KEPT_CAPACITY) this.data = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  /** The most the strings can take (UTF-8 is at most 3 bytes per UTF-16 unit), with lengths. */
  private stringBytes(e: EventFields): number {
    let n = e.serializer.length * 3 + 8;
    if (e.authid !== null) n += e.authid.length * 3 + 8;
    if (e.authrole !== null) n += e.authrole.length * 3 + 8;
    if (e.extra !== null) n += e.extra.length * 3 + 8;
    return n;
  }

  private putString(o: number, s: string): number {
    // Write the text after room for its length's varint, then the length in front of it.
    const room = s.length * 3 < 0x80 ? 1 : s.length * 3 < 0x4000 ? 2 : 4;
    const n = this.data.write(s, o + room, 'utf8');
    const end = putVarint(this.data, o, n);
    if (end !== o + room) this.data.copy(this.data, end, o + room, o + room + n);
    return end + n;
  }

  private ensure(more: number): void {
    if (this.length + more <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + more) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.data.copy(grown, 0, 0, this.length);
    this.data = grown;
  }
}

/** Packs events (in seq order, `seqs[i]` for `events[i]`) into one block. */
export function encodeBlock(events: readonly EventFields[], seqs: readonly number[]): BlockSummary {
  const b = new BlockBuilder();
  for (let i = 0; i < events.length; i++) b.add(seqs[i] as number, events[i] as EventFields);
  return b.take();
}

/** Reads the varints and strings of one block. */
class Reader {
  o = 0;
  constructor(private readonly data: Buffer) {}
  varint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      if (this.o >= this.data.length) throw new Error(`event history block truncated at byte ${this.o} of ${this.data.length}`);
      const byte = this.data[this.o++] as number;
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new Error(`event history block has an over-long number at byte ${this.o}`);
    }
  }
  double(): number {
    if (this.o + 8 > this.data.length) throw new Error(`event history block truncated at byte ${this.o} of ${this.data.length}`);
    const v = this.data.readDoubleLE(this.o);
    this.o += 8;
    return v;
  }
  signed(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
  string(): string {
    const n = this.varint();
    if (this.o + n > this.data.length) throw new Error(`event history block truncated in a string at byte ${this.o}`);
    const s = this.data.toString('utf8', this.o, this.o + n);
    this.o += n;
    return s;
  }
}

/** The 2-bit state `state` of a field, resolved against the event before. */
function field<T>(state: number, read: () => T, last: T | null): T | null {
  if (state === NULL) return null;
  if (state === SAME) return last;
  if (state === VALUE) return read();
  throw new Error(`event history block has an unknown field state ${state}`);
}

/** The events of a block, in seq order; payloads are views of `data`. */
export function decodeBlock(data: Buffer): BlockEvent[] {
  const out: BlockEvent[] = [];
  const r = new Reader(data);
  let seq = 0;
  let timeUs = 0;
  let session: number | null = null;
  let serializer = '';
  let authid: string | null = null;
  let authrole: string | null = null;
  while (r.o < data.length) {
    const flags = data[r.o++] as number;
    seq += r.varint();
    timeUs += r.signed();
    const publication = r.double();
    session = field(flags & SESSION, () => r.varint(), session);
    const count = r.varint();
    const payloadLength = r.varint();
    if ((flags & SERIALIZER_SAME) === 0) serializer = r.string();
    authid = field((flags >> AUTHID_SHIFT) & 0b11, () => r.string(), authid);
    authrole = field((flags >> AUTHROLE_SHIFT) & 0b11, () => r.string(), authrole);
    const extra = flags & HAS_EXTRA ? r.string() : null;
    if (r.o + payloadLength > data.length) throw new Error(`event history block truncated in the payload of event ${seq}`);
    const payload = data.subarray(r.o, r.o + payloadLength);
    r.o += payloadLength;
    out.push({ seq, timeUs, publication, session, authid, authrole, serializer, count, payload, extra });
  }
  return out;
}
