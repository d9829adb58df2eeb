// Consistent Overhead Byte Stuffing: removes every 0x00 from a byte string so that 0x00 can
// delimit frames on a serial line. Owns only the byte transform; framing, CRC and limits live
// in frame-codec.ts.

/** Worst-case encoded size of `n` bytes: one code byte per started 254-byte block. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * Encodes `src` (which may contain zeros) into a zero-free buffer. A run of 254 non-zero bytes
 * is closed with code 0xFF and a new block is started, even at the very end (so 254 bytes
 * encode as FF …254… 01): the simple variant, identical to firmware-bridge/src/wampdev_cobs.c.
 */
export function cobsEncode(src: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(cobsMaxEncodedLength(src.length));
  let codeIndex = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0) {
      out[codeIndex] = code;
      codeIndex = o++;
      code = 1;
    } else {
      out[o++] = b;
      code++;
      if (code === 0xff) {
        out[codeIndex] = code;
        codeIndex = o++;
        code = 1;
      }
    }
  }
  out[codeIndex] = code;
  return out.subarray(0, o);
}

/**
 * Decodes one COBS block sequence (without its 0x00 delimiter). Returns undefined when the
 * input is not valid COBS: a zero byte inside, or a code byte that points past the end.
 */
export function cobsDecode(src: Uint8Array): Buffer | undefined {
  if (src.length === 0) return undefined;
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  let i = 0;
  while (i < src.length) {
    const code = src[i++]!;
    if (code === 0) return undefined;
    const end = i + code - 1;
    if (end > src.length) return undefined;
    for (; i < end; i++) {
      const b = src[i]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    // The zero implied by a short block is real data, except after the final block.
    if (code !== 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
