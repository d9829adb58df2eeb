/* Nibble-table CRC-32: a 64-byte table instead of 1 KB, because a frame of a few hundred bytes
 * per second does not need the speed. On AVR, where constants land in RAM, the table is read
 * from flash. */
#include "wampdev_crc32.h"

#ifdef __AVR__
#include <avr/pgmspace.h>
#define NIBBLE(i) pgm_read_dword(&nibble_table[i])
#define TABLE_ATTR PROGMEM
#else
#define NIBBLE(i) nibble_table[i]
#define TABLE_ATTR
#endif

static const uint32_t nibble_table[16] TABLE_ATTR = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t wampdev_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    size_t i;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ NIBBLE(crc & 0x0Fu);
        crc = (crc >> 4) ^ NIBBLE(crc & 0x0Fu);
    }
    return ~crc;
}
