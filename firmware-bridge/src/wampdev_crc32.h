/* CRC-32 as in IEEE 802.3 / zlib (reflected polynomial 0xEDB88320, init and final xor
 * 0xFFFFFFFF); wampdev_crc32(0, "123456789", 9) == 0xCBF43926. Only the checksum; its place in
 * a frame is wampdev.c's business. */
#ifndef WAMPDEV_CRC32_H
#define WAMPDEV_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pass 0 to start; pass a previous result to continue over several chunks. */
uint32_t wampdev_crc32(uint32_t crc, const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
