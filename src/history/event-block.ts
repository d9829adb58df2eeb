// The event history's block format: the events of one topic written by one flush, packed into
// one SQLite row (one insert per topic per flush instead of one per event, which is what made
// history cost a third more router CPU). Owns the byte layout and the accounting of event bytes.

/** Per event beyond its payload and strings: its share of the block's fixed fields and of
 * SQLite's record and page overhead, so maxBytes tracks the file's size
 * (`node dist/bench/history.js` prints the growth per 100k events). */
export const ROW_OVERHEAD_BYTES = 64;

import type { HistoryRule } from './history-config';

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

/** One publication as the writer hands it over, payload already in bytes. */
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

/** The bytes an event is accounted with (the same formula as history files of schema 1). */
export function accountedBytes(e: EventFields): number {
  return e.payload.length + (e.authid?.length ?? 0) + (e.authrole?.length ?? 0) + (e.extra?.length ?? 0) + ROW_OVERHEAD_BYTES;
}

// Layout per event, little-endian: f64 seq, f64 time_us, f64 publication, f64 session (NaN =
// none), u32 count, u32 payload length, u32 serializer / authid / authrole / extra lengths (NONE
// = null, SAME = as the event before: a block's events mostly share publisher and serializer);
// then those strings (UTF-8) and the payload.
const HEADER = 8 * 4 + 4 * 6;
const NONE = 0xffffffff;
const SAME = 0xfffffffe;

/** Writes a string field, or SAME when it repeats the previous event's. */
class StringField {
  private last: string | null | undefined = undefined;
  private lastLength = 0;
  /** Bytes the field's text takes in the block (0 for null or a repeat). */
  size(s: string | null): number {
    if (s === null || s === this.last) return 0;
    this.last = s;
    this.lastLength = Buffer.byteLength(s);
    return this.lastLength;
  }
  reset(): void {
    this.last = undefined;
  }
  /** Writes the length at `lengthAt` and the text at `o`; returns the new offset. */
  write(data: Buffer, s: string | null, lengthAt: number, o: number): number {
    if (s === null) {
      data.writeUInt32LE(NONE, lengthAt);
      return o;
    }
    if (s === this.last) {
      data.writeUInt32LE(SAME, lengthAt);
      return o;
    }
    this.last = s;
    const n = data.write(s, o, 'utf8');
    data.writeUInt32LE(n, lengthAt);
    return o + n;
  }
}

/** Packs events (in seq order, `seqs[i]` for `events[i]`) into one block. */
export function encodeBlock(events: readonly EventFields[], seqs: readonly number[]): BlockSummary {
  const fields = [new StringField(), new StringField(), new StringField()] as const;
  const [names, ids, roles] = fields;
  let size = 0;
  let bytes = 0;
  let timeMinUs = Infinity;
  let timeMaxUs = -Infinity;
  for (const e of events) {
    size +=
      HEADER + names.size(e.serializer) + ids.size(e.authid) + roles.size(e.authrole) + (e.extra === null ? 0 : Buffer.byteLength(e.extra)) + e.payload.length;
    bytes += accountedBytes(e);
    if (e.timeUs < timeMinUs) timeMinUs = e.timeUs;
    if (e.timeUs > timeMaxUs) timeMaxUs = e.timeUs;
  }
  for (const f of fields) f.reset();
  const data = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as EventFields;
    const at = o;
    data.writeDoubleLE(seqs[i] as number, at);
    data.writeDoubleLE(e.timeUs, at + 8);
    data.writeDoubleLE(e.publication, at + 16);
    data.writeDoubleLE(e.session ?? NaN, at + 24);
    data.writeUInt32LE(e.count, at + 32);
    data.writeUInt32LE(e.payload.length, at + 36);
    o = names.write(data, e.serializer, at + 40, at + HEADER);
    o = ids.write(data, e.authid, at + 44, o);
    o = roles.write(data, e.authrole, at + 48, o);
    if (e.extra === null) data.writeUInt32LE(NONE, at + 52);
    else {
      const n = data.write(e.extra, o, 'utf8');
      data.writeUInt32LE(n, at + 52);
      o += n;
    }
    o += e.payload.copy(data, o);
  }
  return { firstSeq: seqs[0] ?? 0, lastSeq: seqs[seqs.length - 1] ?? 0, events: events.length, timeMinUs, timeMaxUs, bytes, data };
}

/** The events of a block, in seq order; payloads are views of `data`. */
export function decodeBlock(data: Buffer): BlockEvent[] {
  const out: BlockEvent[] = [];
  let o = 0;
  // The last text each field had (a null in between does not change it, as in encodeBlock).
  const last: [string | null, string | null, string | null] = [null, null, null];
  const text = (length: number, field: 0 | 1 | 2 | null): string | null => {
    if (length === NONE) return null;
    if (length === SAME) return field === null ? null : last[field];
    const s = data.toString('utf8', o, o + length);
    o += length;
    if (field !== null) last[field] = s;
    return s;
  };
  while (o < data.length) {
    if (o + HEADER > data.length) throw new Error(`event history block truncated at byte ${o} of ${data.length}`);
    const seq = data.readDoubleLE(o);
    const timeUs = data.readDoubleLE(o + 8);
    const publication = data.readDoubleLE(o + 16);
    const session = data.readDoubleLE(o + 24);
    const count = data.readUInt32LE(o + 32);
    const payloadLength = data.readUInt32LE(o + 36);
    const lengths = [data.readUInt32LE(o + 40), data.readUInt32LE(o + 44), data.readUInt32LE(o + 48), data.readUInt32LE(o + 52)] as const;
    o += HEADER;
    const serializer = text(lengths[0], 0) ?? '';
    const authid = text(lengths[1], 1);
    const authrole = text(lengths[2], 2);
    const extra = text(lengths[3], null);
    if (o + payloadLength > data.length) throw new Error(`event history block truncated in the payload of event ${seq}`);
    const payload = data.subarray(o, o + payloadLength);
    o += payloadLength;
    out.push({ seq, timeUs, publication, session: Number.isNaN(session) ? null : session, authid, authrole, serializer, count, payload, extra });
  }
  return out;
}
