/* Runs every C unit test group; exit status 0 only if all checks passed. */
#include <string.h>

#include "harness.h"

int harness_passed, harness_failed;

size_t hex(const char *s, unsigned char *buf, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1) break;
        buf[n++] = (unsigned char)v;
        s += 2;
    }
    return n;
}

int main(void)
{
    test_cobs();
    test_crc32();
    test_cbor();
    test_wampdev();
    test_transport();
    printf("%d passed, %d failed\n", harness_passed, harness_failed);
    return harness_failed == 0 ? 0 : 1;
}
