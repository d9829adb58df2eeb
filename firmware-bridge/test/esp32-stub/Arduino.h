// Just enough of the Arduino core for ESP32 (2.x/3.x signatures) to compile-check the ESP32
// sketch (examples/esp32) with a RISC-V gcc for the ESP32-C3's rv32imc. Declarations only: no
// behaviour is stubbed, nothing here is linked or run.
#ifndef ESP32_ARDUINO_STUB_H
#define ESP32_ARDUINO_STUB_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

unsigned long millis();
void delay(uint32_t ms);
uint32_t analogReadMilliVolts(uint8_t pin);

// FreeRTOS (ESP-IDF): the high-water mark is in bytes there.
typedef void *TaskHandle_t;
typedef unsigned int UBaseType_t;
UBaseType_t uxTaskGetStackHighWaterMark(TaskHandle_t task);

class Print {
public:
    virtual ~Print() {}
    virtual size_t write(uint8_t c) = 0;
    virtual size_t write(const uint8_t *buf, size_t len) = 0;
    size_t printf(const char *format, ...) __attribute__((format(printf, 2, 3)));
};

class Stream : public Print {
public:
    virtual int available() = 0;
    virtual int read() = 0;
};

class HardwareSerial : public Stream {
public:
    void begin(unsigned long baud);
    size_t write(uint8_t c) override;
    size_t write(const uint8_t *buf, size_t len) override;
    int available() override;
    int read() override;
};
extern HardwareSerial Serial;
#endif
