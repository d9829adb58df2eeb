// Names the WAMP message type from the first bytes of a frame the router refuses to read whole
// (over the size limit), for the log line that reports it. Reads only the array header and the
// first element; never decodes a payload. Returns undefined when the bytes do not say.

import { MessageType } from '../protocol/message-types';

const names = new Map<number, string>(Object.entries(MessageType).map(([name, code]) => [code, name]));

function firstElement(serializer: string, head: Buffer): number | undefined {
  if (serializer === 'json') {
    const m = /^\s*\[\s*(\d{1,2})\s*[,\]]/.exec(head.toString('latin1'));
    return m?.[1] !== undefined ? Number(m[1]) : undefined;
  }
  const b0 = head[0];
  if (b0 === undefined) return undefined;
  let i: number;
  if (serializer === 'msgpack') {
    // fixarray, array 16, array 32; then a positive fixint or uint 8.
    if (b0 >= 0x90 && b0 <= 0x9f) i = 1;
    else if (b0 === 0xdc) i = 3;
    else if (b0 === 0xdd) i = 5;
    else return undefined;
    const t = head[i];
    if (t === undefined) return undefined;
    if (t < 0x80) return t;
    return t === 0xcc ? head[i + 1] : undefined;
  }
  if (serializer === 'cbor') {
    // array with length 0..23, 1/2/4-byte length, or indefinite; then an unsigned int.
    if (b0 >= 0x80 && b0 <= 0x97) i = 1;
    else if (b0 === 0x98) i = 2;
    else if (b0 === 0x99) i = 3;
    else if (b0 === 0x9a) i = 5;
    else if (b0 === 0x9f) i = 1;
    else return undefined;
    const t = head[i];
    if (t === undefined) return undefined;
    if (t <= 0x17) return t;
    return t === 0x18 ? head[i + 1] : undefined;
  }
  return undefined;
}

/** "PUBLISH", "CALL"…, or undefined. */
export function sniffMessageType(serializer: string, head: Buffer): string | undefined {
  const code = firstElement(serializer, head);
  return code === undefined ? undefined : names.get(code);
}
