// CRC-32 as in IEEE 802.3 / zlib / PNG (reflected polynomial 0xEDB88320, init and final xor
// 0xFFFFFFFF). Owns only the checksum; where it sits in a frame is frame-codec.ts's business.
// CRC-32("123456789") = 0xCBF43926. The firmware computes the same (firmware-bridge/).

import * as zlib from 'node:zlib';

const table = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  table[n] = c >>> 0;
}

/** The table version: for Node 20 before 20.15, which has no zlib.crc32 (engines says >= 20). */
export function crc32Table(data: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** zlib's own (Node >= 20.15 / 22.2): the same numbers, about 4x faster here, nothing to install. */
const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data`; pass a previous result as `crc` to continue over several chunks. */
export const crc32: (data: Uint8Array, crc?: number) => number = native ? (data, crc = 0) => native(data, crc) : crc32Table;
