// Just enough of the Arduino core to compile-check the WampDevice wrapper on a host.
#ifndef ARDUINO_STUB_H
#define ARDUINO_STUB_H
#include <stddef.h>
#include <stdint.h>

unsigned long millis();

class Stream {
public:
    virtual ~Stream() {}
    virtual int available() = 0;
    virtual int read() = 0;
    virtual size_t write(const uint8_t *buf, size_t len) = 0;
};
#endif
