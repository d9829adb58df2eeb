/* COBS encode/decode with no allocation. The encoder closes a full 254-byte run with code 0xFF
 * and always starts a new block, even at the end (the simple variant); the decoder accepts
 * both that and the variant without the trailing empty block. */
#include "wampdev_cobs.h"

size_t wampdev_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap)
{
    size_t code_at = 0, o = 1, i;
    uint8_t code = 1;
    if (dst_cap < WAMPDEV_COBS_MAX_ENCODED(len)) return 0;
    for (i = 0; i < len; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            dst[o++] = src[i];
            if (++code == 0xFF) {
                dst[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    dst[code_at] = code;
    return o;
}

int wampdev_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap, size_t *out_len)
{
    size_t i = 0, o = 0;
    if (len == 0) return -1;
    while (i < len) {
        uint8_t code = src[i++];
        size_t run;
        if (code == 0) return -1;
        run = (size_t)code - 1u;
        if (run > len - i) return -1;
        if (o + run > dst_cap) return -1;
        while (run--) {
            uint8_t b = src[i++];
            if (b == 0) return -1;
            dst[o++] = b;
        }
        /* A short block implies a zero, except at the very end. */
        if (code != 0xFF && i < len) {
            if (o >= dst_cap) return -1;
            dst[o++] = 0;
        }
    }
    *out_len = o;
    return 0;
}
