// The Stream/millis glue for wampdev; see WampDevice.h.
#include "WampDevice.h"

#include <string.h>

WampDevice::WampDevice(Stream &io, uint8_t *rx, size_t rxCap, uint8_t *tx, size_t txCap)
    : io_(io), onJoin_(0), onLeave_(0)
{
    memset(&dev_, 0, sizeof dev_);
    memset(&cfg_, 0, sizeof cfg_);
    cfg_.write = writeThunk;
    cfg_.write_ctx = this;
    cfg_.rx_buf = rx;
    cfg_.rx_cap = rxCap;
    cfg_.tx_buf = tx;
    cfg_.tx_cap = txCap;
    cfg_.cb_ctx = this;
    cfg_.on_join = joinThunk;
    cfg_.on_leave = leaveThunk;
}

bool WampDevice::begin(const char *realm, const char *authid)
{
    cfg_.authid = authid;
    if (wampdev_init(&dev_, &cfg_) != 0) return false;
    wampdev_tick(&dev_, (uint32_t)millis());
    return wampdev_join(&dev_, realm) == 0;
}

void WampDevice::loop()
{
    // Small chunks: the Stream's own buffer is the real one.
    uint8_t buf[32];
    int avail;
    while ((avail = io_.available()) > 0) {
        size_t n = 0;
        while (n < sizeof buf && avail-- > 0) {
            int c = io_.read();
            if (c < 0) break;
            buf[n++] = (uint8_t)c;
        }
        if (n == 0) break;
        wampdev_feed(&dev_, buf, n);
    }
    wampdev_tick(&dev_, (uint32_t)millis());
}

void WampDevice::leave() { wampdev_leave(&dev_, "wamp.close.close_realm"); }

uint64_t WampDevice::publish(const char *topic, double value)
{
    wampdev_cbor_writer_t *w = wampdev_publish_begin(&dev_, topic, 0, 1);
    if (!w) return 0;
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_double(w, value);
    return wampdev_send(&dev_);
}

uint64_t WampDevice::publish(const char *topic, int32_t value)
{
    wampdev_cbor_writer_t *w = wampdev_publish_begin(&dev_, topic, 0, 1);
    if (!w) return 0;
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_int(w, value);
    return wampdev_send(&dev_);
}

void WampDevice::writeThunk(void *ctx, const uint8_t *data, size_t len)
{
    static_cast<WampDevice *>(ctx)->io_.write(data, len);
}

void WampDevice::joinThunk(wampdev_t *, void *ctx, uint64_t session)
{
    WampDevice *self = static_cast<WampDevice *>(ctx);
    if (self->onJoin_) self->onJoin_(*self, session);
}

void WampDevice::leaveThunk(wampdev_t *, void *ctx, const char *reason)
{
    WampDevice *self = static_cast<WampDevice *>(ctx);
    if (self->onLeave_) self->onLeave_(*self, reason);
}
