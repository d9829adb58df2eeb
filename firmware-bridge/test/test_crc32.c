/* CRC-32 against the standard check value and zlib's results. */
#include <string.h>

#include "harness.h"
#include "wampdev_crc32.h"

void test_crc32(void)
{
    const uint8_t *digits = (const uint8_t *)"123456789";
    const char *fox = "The quick brown fox jumps over the lazy dog";
    CHECK(wampdev_crc32(0, digits, 9) == 0xCBF43926u);
    CHECK(wampdev_crc32(0, digits, 0) == 0);
    CHECK(wampdev_crc32(wampdev_crc32(0, digits, 4), digits + 4, 5) == 0xCBF43926u);
    CHECK(wampdev_crc32(0, (const uint8_t *)fox, strlen(fox)) == 0x414FA339u);
    {
        /* The example frame of docs/serial-frame-protocol.md: [33,1,5] */
        const uint8_t msg[] = {0x83, 0x18, 0x21, 0x01, 0x05};
        CHECK(wampdev_crc32(0, msg, sizeof msg) == 0xF537AB36u);
    }
}
