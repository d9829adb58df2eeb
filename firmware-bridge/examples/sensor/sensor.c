/* The sensor example, the same on every board: joins SENSOR_REALM over the UART (serial frame
 * mode) or over TCP (RawSocket, ticket authentication), publishes SENSOR_PREFIX.reading [value, seq] every SENSOR_PERIOD_MS, registers
 * SENSOR_PREFIX.add (adds two integers) and SENSOR_PREFIX.stats (link counters, stack figures),
 * and once per session calls SENSOR_CALL [value] (a procedure a WAMP client registered),
 * publishing its result to SENSOR_PREFIX.called. Board glue lives in targets/<board>. */
#include "sensor.h"

#include "wampdev.h"

#ifndef SENSOR_REALM
#define SENSOR_REALM "iot"
#endif
#ifndef SENSOR_PREFIX
#define SENSOR_PREFIX "sensor.uno"
#endif
#ifndef SENSOR_CALL
#define SENSOR_CALL "app.scale"
#endif
#ifndef SENSOR_PERIOD_MS
#define SENSOR_PERIOD_MS 1000
#endif
/* Largest CBOR message either way. A longer WELCOME is joined by its head (wampdev accepts an
 * overflowing WELCOME by its session ID). On RawSocket the device announces the largest
 * 2^(9+L) its rx buffer holds, at least 512 (the protocol's minimum). */
#ifndef SENSOR_MSG
#define SENSOR_MSG 128
#endif

static uint8_t rx[WAMPDEV_RX_BUF_SIZE(SENSOR_MSG)];
static uint8_t tx[WAMPDEV_TX_BUF_SIZE(SENSOR_MSG)];
static wampdev_t dev;
static uint32_t last_publish, last_call, seq, joins;
static uint8_t registered, call_done, call_pending;

static void uart_write(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    plat_write(data, len);
}

static void on_add(wampdev_t *d, void *ctx, uint64_t request, const wampdev_cbor_t *details, const wampdev_cbor_t *args,
                   const wampdev_cbor_t *kwargs)
{
    wampdev_cbor_t a, b;
    int64_t x, y;
    wampdev_cbor_writer_t *w;
    (void)ctx;
    (void)details;
    (void)kwargs;
    if (!args || wampdev_cbor_array_at(args, 0, &a) || wampdev_cbor_array_at(args, 1, &b) || wampdev_cbor_get_int(&a, &x) ||
        wampdev_cbor_get_int(&b, &y)) {
        if (wampdev_error_begin(d, WAMPDEV_MSG_INVOCATION, request, "wamp.error.invalid_argument", 0)) wampdev_send(d);
        return;
    }
    w = wampdev_yield_begin(d, request, 1);
    if (!w) return;
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_int(w, x + y);
    wampdev_send(d);
}

/* key: a WAMPDEV_P literal (kept in flash on AVR). */
static void put_kv(wampdev_cbor_writer_t *w, const char *key, uint32_t v)
{
    wampdev_cbor_put_text_P(w, key);
    wampdev_cbor_put_uint(w, v);
}

/* What the device itself saw: its link counters and how deep its stack has ever been. */
static void on_stats(wampdev_t *d, void *ctx, uint64_t request, const wampdev_cbor_t *details, const wampdev_cbor_t *args,
                     const wampdev_cbor_t *kwargs)
{
    const wampdev_stats_t *s = wampdev_stats(d);
    wampdev_cbor_writer_t *w = wampdev_yield_begin(d, request, 2);
    (void)ctx;
    (void)details;
    (void)args;
    (void)kwargs;
    if (!w) return;
    wampdev_cbor_put_array(w, 0);
    wampdev_cbor_put_map(w, 10);
    put_kv(w, WAMPDEV_P("stack_used"), plat_stack_used());
    put_kv(w, WAMPDEV_P("stack_free"), plat_stack_free());
    put_kv(w, WAMPDEV_P("frames_in"), s->frames_in);
    put_kv(w, WAMPDEV_P("frames_out"), s->frames_out);
    put_kv(w, WAMPDEV_P("crc_errors"), s->crc_errors);
    put_kv(w, WAMPDEV_P("cobs_errors"), s->cobs_errors);
    put_kv(w, WAMPDEV_P("oversized"), s->oversized);
    put_kv(w, WAMPDEV_P("bad_messages"), s->bad_messages);
    put_kv(w, WAMPDEV_P("pings"), s->pings);
    put_kv(w, WAMPDEV_P("joins"), joins);
    wampdev_send(d);
}

static void on_registered(wampdev_t *d, void *ctx, uint64_t request, uint64_t registration)
{
    (void)d;
    (void)ctx;
    (void)request;
    (void)registration;
    registered++;
}

static void on_result(wampdev_t *d, void *ctx, uint64_t request, const char *error, const wampdev_cbor_t *args,
                      const wampdev_cbor_t *kwargs)
{
    wampdev_cbor_t v;
    int64_t result;
    wampdev_cbor_writer_t *w;
    (void)ctx;
    (void)request;
    (void)kwargs;
    call_pending = 0;
    /* An error (e.g. not registered yet): try again later. */
    if (error || !args || wampdev_cbor_array_at(args, 0, &v) || wampdev_cbor_get_int(&v, &result)) return;
    call_done = 1;
    w = wampdev_publish_begin(d, SENSOR_PREFIX ".called", 0, 1);
    if (!w) return;
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_int(w, result);
    wampdev_send(d);
}

static void on_join(wampdev_t *d, void *ctx, uint64_t session)
{
    (void)ctx;
    plat_session(session, 0);
    joins++;
    registered = 0;
    call_done = 0;
    call_pending = 0;
    /* Registrations do not survive a session: make them on every join. */
    wampdev_register(d, SENSOR_PREFIX ".add", on_add, 0);
    wampdev_register(d, SENSOR_PREFIX ".stats", on_stats, 0);
}

static void on_leave(wampdev_t *d, void *ctx, const char *reason)
{
    (void)d;
    (void)ctx;
    plat_session(0, reason);
}

void sensor_setup(const sensor_link_t *link)
{
    wampdev_config_t cfg = {0};
    cfg.write = uart_write;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.on_join = on_join;
    cfg.on_registered = on_registered;
    cfg.on_leave = on_leave;
    if (link && link->rawsocket) {
        cfg.framing = WAMPDEV_FRAMING_RAWSOCKET;
        cfg.authid = link->authid;
        cfg.ticket = link->ticket;
    }
    /* A HELLO retry that overtakes a slow WELCOME costs a whole new session: not too eager. */
    cfg.hello_retry_ms = 3000;
    cfg.rejoin_ms = 1000;
    wampdev_init(&dev, &cfg);
    wampdev_tick(&dev, plat_millis());
    wampdev_join(&dev, SENSOR_REALM);
}

void sensor_connected(void) { wampdev_connected(&dev); }
void sensor_disconnected(void) { wampdev_disconnected(&dev); }
const wampdev_t *sensor_device(void) { return &dev; }

void sensor_loop(void)
{
    uint8_t buf[16];
    size_t n;
    uint32_t now;
    wampdev_cbor_writer_t *w;
    while ((n = plat_read(buf, sizeof buf)) > 0) wampdev_feed(&dev, buf, n);
    now = plat_millis();
    wampdev_tick(&dev, now);
    if (wampdev_state(&dev) != WAMPDEV_STATE_JOINED) {
        plat_idle();
        return;
    }
    if (now - last_publish >= SENSOR_PERIOD_MS) {
        last_publish = now;
        w = wampdev_publish_begin(&dev, SENSOR_PREFIX ".reading", 0, 1);
        if (w) {
            wampdev_cbor_put_array(w, 2);
            wampdev_cbor_put_int(w, plat_reading());
            wampdev_cbor_put_uint(w, ++seq);
            wampdev_send(&dev);
        }
    }
    if (registered >= 2 && !call_done && !call_pending && now - last_call >= SENSOR_PERIOD_MS) {
        last_call = now;
        w = wampdev_call_begin(&dev, SENSOR_CALL, on_result, 0, 1);
        if (w) {
            wampdev_cbor_put_array(w, 1);
            wampdev_cbor_put_int(w, plat_reading());
            if (wampdev_send(&dev)) call_pending = 1;
        }
    }
    plat_idle();
}
