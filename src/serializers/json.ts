// JSON with exact integers and the spec's binary convention ("Binary conversion of JSON
// Strings": a byte string travels as "\0" + base64), see exact-json.ts.

import { parseJson, stringifyJson } from './exact-json';
import type { Serializer } from './serializer';

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Skips one JSON value of a well-formed text starting at `i` (no leading space); returns the
 * index after it. Strings are skipped whole so brackets inside them do not count. */
function skipValue(b: Buffer, i: number): number {
  let depth = 0;
  for (;;) {
    const c = b[i];
    if (c === QUOTE) {
      i = skipString(b, i);
    } else if (c === OPEN || c === 0x7b) {
      depth++;
      i++;
    } else if (c === CLOSE || c === 0x7d) {
      depth--;
      i++;
    } else if (depth === 0 && (c === COMMA || isSpace(c))) {
      return i;
    } else {
      i++;
    }
    if (depth === 0 && (b[i] === COMMA || b[i] === CLOSE || isSpace(b[i]))) return i;
  }
}

function skipString(b: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, j);
    let k = q - 1;
    while (b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

function skipSpace(b: Buffer, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

export const jsonSerializer: Serializer = {
  name: 'json',
  subprotocol: 'wamp.2.json',
  rawSocketId: 1,
  binary: false,
  encode(value, plainFrom) {
    return Buffer.from(stringifyJson(value, plainFrom), 'utf8');
  },
  decode(data, facts) {
    return parseJson(data.toString('utf8'), facts);
  },
  tail(frame, index) {
    let i = skipSpace(frame, 0) + 1; // past "["
    for (let n = 0; n < index; n++) {
      i = skipValue(frame, skipSpace(frame, i));
      i = skipSpace(frame, i) + 1; // past ","
    }
    const start = skipSpace(frame, i);
    let end = frame.length - 1;
    while (frame[end] !== CLOSE) end--;
    return frame.subarray(start, end);
  },
  encodeWithTail(head, tail) {
    // One buffer, written in place: the head's text with its "]" turned into ",", the tail,
    // then "]" (three buffers and a concat cost more than the payload at 100 bytes).
    const text = stringifyJson(head);
    const comma = Buffer.byteLength(text) - 1;
    const frame = Buffer.allocUnsafe(comma + tail.length + 2);
    frame.write(text, 0, 'utf8');
    frame[comma] = COMMA;
    tail.copy(frame, comma + 1);
    frame[frame.length - 1] = CLOSE;
    return frame;
  },
};
