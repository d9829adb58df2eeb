// ESP32 sensor over Wi-Fi (Arduino core for ESP32): the board-independent sensor app
// (examples/sensor/sensor.c, the same code the simulated Uno and Cortex-M3 run) joins a wampgate
// RawSocket listener over WiFiClient as a ticket principal. This file is only the board glue:
// Wi-Fi, (re)connecting, and the sensor's platform hooks. `make esp32-sketch` assembles the
// sketch folder (this file + src/sensor.c, src/sensor.h); `make arduino-lib` the library.
//
// Readings: <SENSOR_PREFIX>.reading [millivolts on SENSOR_PIN, seq] every second; procedures
// <SENSOR_PREFIX>.add and <SENSOR_PREFIX>.stats; calls app.scale once per session.

#include <WiFi.h>

extern "C" {
#include "src/sensor.h"
}

// ---- your network (or put these in a header you keep out of version control) ----------------
#ifndef WIFI_SSID
#define WIFI_SSID "your-ssid"
#define WIFI_PASSWORD "your-password"
#endif
#ifndef GATEWAY_HOST
#define GATEWAY_HOST "192.168.1.10" // the gateway's RawSocket listener ("devices" in the docs)
#define GATEWAY_PORT 8081
#endif
#ifndef DEVICE_AUTHID
#define DEVICE_AUTHID "esp32-kitchen" // a ticket principal of that listener
#define DEVICE_TICKET "the-ticket"
#endif
#ifndef SENSOR_PIN
#define SENSOR_PIN 0 // an ADC1 pin (GPIO0 on an ESP32-C3, use e.g. 34 on an ESP32)
#endif
// Stack of the Arduino loop task (the core's default, CONFIG_ARDUINO_LOOP_STACK_SIZE).
#ifndef LOOP_STACK_BYTES
#define LOOP_STACK_BYTES 8192
#endif

static WiFiClient tcp;
static bool linkUp = false;         // sensor_connected() called for the current connection
static uint32_t nextConnectMs = 0;  // back-off between connection attempts
static bool authFailed = false;     // a wrong ticket stays wrong: retry slowly

// ---- the sensor's platform hooks (examples/sensor/sensor.h) ---------------------------------

extern "C" void plat_write(const uint8_t *data, size_t len)
{
    // WiFiClient::write blocks until lwIP took the bytes; a broken connection shows as
    // !connected() in loop().
    while (len > 0) {
        size_t n = tcp.write(data, len);
        if (n == 0) return;
        data += n;
        len -= n;
    }
}

extern "C" size_t plat_read(uint8_t *buf, size_t cap)
{
    int avail = tcp.available();
    if (avail <= 0) return 0;
    int n = tcp.read(buf, (size_t)avail < cap ? (size_t)avail : cap);
    return n > 0 ? (size_t)n : 0;
}

extern "C" uint32_t plat_millis(void) { return millis(); }
extern "C" int32_t plat_reading(void) { return (int32_t)analogReadMilliVolts(SENSOR_PIN); }
// FreeRTOS reports the loop task's stack high-water mark as the bytes never used.
extern "C" uint16_t plat_stack_free(void) { return (uint16_t)uxTaskGetStackHighWaterMark(NULL); }
extern "C" uint16_t plat_stack_used(void) { return (uint16_t)(LOOP_STACK_BYTES - plat_stack_free()); }
extern "C" void plat_idle(void) { delay(1); } // lets the Wi-Fi and idle tasks run

extern "C" void plat_session(uint64_t session, const char *reason)
{
    // Serial is free for logs here: the WAMP link is the TCP connection.
    if (session) {
        Serial.printf("joined, session %llu\n", (unsigned long long)session);
    } else {
        Serial.printf("session ended: %s\n", reason ? reason : "");
        if (reason && strcmp(reason, "wamp.error.authentication_failed") == 0) authFailed = true;
    }
}

// ---- Arduino ----------------------------------------------------------------------------------

void setup()
{
    Serial.begin(115200);
    WiFi.mode(WIFI_STA);
    WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
    static const sensor_link_t link = {1, DEVICE_AUTHID, DEVICE_TICKET};
    sensor_setup(&link);
}

static void linkDown()
{
    tcp.stop();
    linkUp = false;
    sensor_disconnected(); // ends the session at once; HELLO follows the next handshake
    nextConnectMs = millis() + (authFailed ? 30000u : 1000u);
}

void loop()
{
    if (linkUp && (!tcp.connected() || WiFi.status() != WL_CONNECTED)) linkDown();
    if (!linkUp && WiFi.status() == WL_CONNECTED && (int32_t)(millis() - nextConnectMs) >= 0) {
        if (tcp.connect(GATEWAY_HOST, GATEWAY_PORT)) {
            tcp.setNoDelay(true); // small WAMP messages: don't wait for Nagle
            linkUp = true;
            authFailed = false;
            sensor_connected(); // sends the RawSocket handshake
        } else {
            nextConnectMs = millis() + 1000u;
        }
    }
    sensor_loop(); // reads, publishes, answers calls and PINGs, calls plat_idle
}
