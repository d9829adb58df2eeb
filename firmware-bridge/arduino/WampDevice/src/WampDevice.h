// Arduino wrapper over the wampdev C library: binds a Stream (Serial, Serial1, SoftwareSerial)
// and millis() to a wampdev_t. Owns nothing but that glue: buffers are the sketch's, protocol
// and state are the library's (raw() gives the whole C API).
#ifndef WAMPDEVICE_H
#define WAMPDEVICE_H

#include <Arduino.h>

#include "wampdev.h"

class WampDevice {
public:
    typedef void (*JoinFn)(WampDevice &device, uint64_t session);
    typedef void (*LeaveFn)(WampDevice &device, const char *reason);

    // rx: WAMPDEV_RX_BUF_SIZE(max message), tx: WAMPDEV_TX_BUF_SIZE(max message).
    WampDevice(Stream &io, uint8_t *rx, size_t rxCap, uint8_t *tx, size_t txCap);

    // Starts joining `realm` (the string must outlive the device). Rejoins by itself after a
    // session ends; subscribe and register again in onJoin.
    bool begin(const char *realm, const char *authid = 0);
    // Call from loop(): reads what the Stream has, drives retries and callbacks.
    void loop();
    void leave();

    bool joined() const { return wampdev_state(&dev_) == WAMPDEV_STATE_JOINED; }
    void onJoin(JoinFn fn) { onJoin_ = fn; }
    void onLeave(LeaveFn fn) { onLeave_ = fn; }

    // Publishes args [value]. Returns the request ID, 0 if not joined or it did not fit.
    uint64_t publish(const char *topic, double value);
    uint64_t publish(const char *topic, int32_t value);
    uint64_t subscribe(const char *topic, wampdev_event_fn fn, void *ctx = 0) { return wampdev_subscribe(&dev_, topic, fn, ctx); }
    uint64_t registerProcedure(const char *procedure, wampdev_invocation_fn fn, void *ctx = 0)
    {
        return wampdev_register(&dev_, procedure, fn, ctx);
    }

    wampdev_t *raw() { return &dev_; }

private:
    static void writeThunk(void *ctx, const uint8_t *data, size_t len);
    static void joinThunk(wampdev_t *dev, void *ctx, uint64_t session);
    static void leaveThunk(wampdev_t *dev, void *ctx, const char *reason);

    Stream &io_;
    wampdev_t dev_;
    wampdev_config_t cfg_;
    JoinFn onJoin_;
    LeaveFn onLeave_;
};

#endif
