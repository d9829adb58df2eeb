// The Wi-Fi part of the Arduino core for ESP32 the sketch uses (WiFi, WiFiClient), as
// declarations with the core's signatures, for the compile check only.
#ifndef ESP32_WIFI_STUB_H
#define ESP32_WIFI_STUB_H
#include "Arduino.h"

typedef enum { WIFI_MODE_NULL = 0, WIFI_MODE_STA, WIFI_MODE_AP, WIFI_MODE_APSTA } wifi_mode_t;
#define WIFI_STA WIFI_MODE_STA
typedef enum { WL_IDLE_STATUS = 0, WL_NO_SSID_AVAIL = 1, WL_CONNECTED = 3, WL_CONNECT_FAILED = 4, WL_DISCONNECTED = 6 } wl_status_t;

class WiFiClass {
public:
    bool mode(wifi_mode_t m);
    wl_status_t begin(const char *ssid, const char *passphrase = NULL);
    wl_status_t status();
};
extern WiFiClass WiFi;

class Client : public Stream {
public:
    virtual int connect(const char *host, uint16_t port) = 0;
    virtual int read(uint8_t *buf, size_t size) = 0;
    virtual void stop() = 0;
    virtual uint8_t connected() = 0;
    using Stream::read;
};

class WiFiClient : public Client {
public:
    int connect(const char *host, uint16_t port) override;
    size_t write(uint8_t c) override;
    size_t write(const uint8_t *buf, size_t size) override;
    int available() override;
    int read() override;
    int read(uint8_t *buf, size_t size) override;
    void stop() override;
    uint8_t connected() override;
    int setNoDelay(bool nodelay);
};
#endif
