/* COBS: the published examples, the 254-byte block edge, invalid input, and a pseudo-random
 * round trip (including in-place decoding, which the client relies on). */
#include <string.h>

#include "harness.h"
#include "wampdev_cobs.h"

static int roundtrip(const uint8_t *src, size_t n)
{
    static uint8_t enc[2048], dec[2048];
    size_t e = wampdev_cobs_encode(src, n, enc, sizeof enc), d = 0, i;
    if (e == 0 || e > WAMPDEV_COBS_MAX_ENCODED(n)) return 0;
    for (i = 0; i < e; i++)
        if (enc[i] == 0) return 0;
    if (wampdev_cobs_decode(enc, e, dec, sizeof dec, &d) != 0 || d != n || memcmp(dec, src, n) != 0) return 0;
    /* in place */
    if (wampdev_cobs_decode(enc, e, enc, sizeof enc, &d) != 0 || d != n || memcmp(enc, src, n) != 0) return 0;
    return 1;
}

void test_cobs(void)
{
    uint8_t buf[600], out[600];
    size_t n, i, d;
    uint32_t seed = 12345;
    int iter;

    n = wampdev_cobs_encode((const uint8_t *)"", 0, out, sizeof out);
    CHECK(n == 1 && out[0] == 1);
    {
        const uint8_t src[] = {0x11, 0x22, 0x00, 0x33};
        const uint8_t want[] = {0x03, 0x11, 0x22, 0x02, 0x33};
        n = wampdev_cobs_encode(src, 4, out, sizeof out);
        CHECK(n == 5 && memcmp(out, want, 5) == 0);
    }
    {
        const uint8_t src[] = {0x11, 0x00, 0x00, 0x00};
        const uint8_t want[] = {0x02, 0x11, 0x01, 0x01, 0x01};
        n = wampdev_cobs_encode(src, 4, out, sizeof out);
        CHECK(n == 5 && memcmp(out, want, 5) == 0);
    }
    {
        /* docs/serial-frame-protocol.md example: [33,1,5] + CRC 36 AB 37 F5 */
        const uint8_t raw[] = {0x83, 0x18, 0x21, 0x01, 0x05, 0x36, 0xAB, 0x37, 0xF5};
        const uint8_t want[] = {0x0A, 0x83, 0x18, 0x21, 0x01, 0x05, 0x36, 0xAB, 0x37, 0xF5};
        n = wampdev_cobs_encode(raw, sizeof raw, out, sizeof out);
        CHECK(n == sizeof want && memcmp(out, want, n) == 0);
    }
    for (i = 0; i < 254; i++) buf[i] = (uint8_t)(i + 1);
    n = wampdev_cobs_encode(buf, 254, out, sizeof out);
    CHECK(n == 256 && out[0] == 0xFF && out[255] == 0x01);
    /* the variant without the trailing empty block decodes the same */
    CHECK(wampdev_cobs_decode(out, 255, buf + 300, 300, &d) == 0 && d == 254 && memcmp(buf + 300, buf, 254) == 0);
    CHECK(wampdev_cobs_encode(buf, 254, out, 255) == 0); /* too small */

    {
        const uint8_t past[] = {0x05, 0x11, 0x22};
        const uint8_t zero[] = {0x03, 0x11, 0x00};
        CHECK(wampdev_cobs_decode(past, 3, out, sizeof out, &d) == -1);
        CHECK(wampdev_cobs_decode(zero, 3, out, sizeof out, &d) == -1);
        CHECK(wampdev_cobs_decode(past, 0, out, sizeof out, &d) == -1);
    }

    for (iter = 0; iter < 300; iter++) {
        int ok = 1;
        seed = seed * 1103515245u + 12345u;
        n = (seed >> 8) % 600;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* Every third input is zero-heavy, to hit short blocks. */
            buf[i] = (uint8_t)((iter % 3 == 0 && (seed >> 16) % 4 == 0) ? 0 : (seed >> 16));
        }
        ok = roundtrip(buf, n);
        if (!ok) {
            CHECK(ok);
            break;
        }
    }
    CHECK(iter == 300);
}
