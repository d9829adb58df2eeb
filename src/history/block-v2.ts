// The block layout of history files of schema 2 (fixed-width fields), kept only so such files
// can be converted to schema 3 at open (history-schema.ts). Nothing writes this layout any more.

import type { BlockEvent } from './event-block';

// Per event, little-endian: f64 seq, f64 time_us, f64 publication, f64 session (NaN = none),
// u32 count, u32 payload length, u32 serializer / authid / authrole / extra lengths (NONE = null,
// SAME = as the event before), then those strings (UTF-8) and the payload.
const HEADER = 8 * 4 + 4 * 6;
const NONE = 0xffffffff;
const SAME = 0xfffffffe;

/** The events of a schema 2 block, in seq order; payloads are views of `data`. */
export function decodeBlockV2(data: Buffer): BlockEvent[] {
  const out: BlockEvent[] = [];
  let o = 0;
  // The last text each field had (a null in between does not change it).
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
