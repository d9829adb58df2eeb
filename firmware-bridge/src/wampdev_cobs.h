/* COBS (Consistent Overhead Byte Stuffing) for wampdev serial frames: removes every 0x00 so
 * that 0x00 can delimit frames. Only the byte transform; framing and CRC live in wampdev.c.
 * Identical output to wampgate's src/transports/serial/cobs.ts. */
#ifndef WAMPDEV_COBS_H
#define WAMPDEV_COBS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Worst-case encoded size of n bytes (no delimiter). */
#define WAMPDEV_COBS_MAX_ENCODED(n) ((n) + (n) / 254u + 1u)

/* Encodes src[0..len) into dst. Returns the encoded length, or 0 if dst_cap is too small. */
size_t wampdev_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap);

/* Decodes src[0..len) (no delimiter) into dst. dst may equal src: decoding in place is safe
 * because output never runs ahead of input. Returns 0 and sets *out_len, or -1 if the input is
 * not valid COBS (empty, a zero byte inside, or a code byte pointing past the end) or dst_cap
 * is too small. */
int wampdev_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
