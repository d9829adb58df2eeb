// Compile check: every public header is valid C++ (extern "C", no C-only constructs), so the
// Arduino wrapper and C++ firmware can include them.
#include "wampdev.h"
#include "wampdev_cbor.h"
#include "wampdev_cobs.h"
#include "wampdev_crc32.h"
#include "WampDevice.h"

int wampdev_cxx_check()
{
    wampdev_t dev;
    wampdev_cbor_writer_t w;
    uint8_t buf[8];
    wampdev_cbor_writer_init(&w, buf, sizeof buf);
    wampdev_cbor_put_uint(&w, 1);
    (void)dev;
    return static_cast<int>(w.len + wampdev_crc32(0, buf, 1) + WAMPDEV_COBS_MAX_ENCODED(1));
}
