/* The client over a fake link: the test plays the router, reading the frames the device
 * writes and feeding frames back (some cbor-x encoded, some corrupted or oversized). */
#include <string.h>

#include "harness.h"
#include "wampdev.h"
#include "wampdev_cobs.h"
#include "wampdev_crc32.h"

static uint8_t wire[8192]; /* what the device wrote */
static size_t wire_len, wire_read;
static uint8_t rx_buf[WAMPDEV_RX_BUF_SIZE(256)], tx_buf[WAMPDEV_TX_BUF_SIZE(256)];
static uint8_t frame_buf[1024];

static void capture(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (len <= sizeof wire - wire_len) {
        memcpy(wire + wire_len, data, len);
        wire_len += len;
    }
}

/* Next non-empty frame the device wrote, checked and parsed; 0 or -1 if none/bad. */
static int next_frame(wampdev_cbor_t *msg)
{
    while (wire_read < wire_len) {
        size_t start = wire_read, end = start, n;
        uint32_t crc;
        while (end < wire_len && wire[end] != 0) end++;
        if (end == wire_len) return -1;
        wire_read = end + 1;
        if (end == start) continue; /* leading delimiter */
        if (wampdev_cobs_decode(wire + start, end - start, frame_buf, sizeof frame_buf, &n) != 0 || n < 5) return -1;
        n -= 4;
        crc = (uint32_t)frame_buf[n] | ((uint32_t)frame_buf[n + 1] << 8) | ((uint32_t)frame_buf[n + 2] << 16) |
              ((uint32_t)frame_buf[n + 3] << 24);
        if (crc != wampdev_crc32(0, frame_buf, n)) return -1;
        return wampdev_cbor_parse(frame_buf, n, 8, msg);
    }
    return -1;
}

static uint64_t field_uint(const wampdev_cbor_t *msg, size_t i)
{
    wampdev_cbor_t v;
    uint64_t u = 0xDEAD;
    if (wampdev_cbor_array_at(msg, i, &v) == 0) (void)wampdev_cbor_get_uint(&v, &u);
    return u;
}

static int field_text(const wampdev_cbor_t *msg, size_t i, const char *want)
{
    wampdev_cbor_t v;
    return wampdev_cbor_array_at(msg, i, &v) == 0 && wampdev_cbor_text_equals(&v, want);
}

/* Frames `cbor` like the router does ([0x00] COBS(cbor ‖ crc) 0x00) into out; returns length. */
static size_t make_frame(const uint8_t *cbor, size_t n, uint8_t *out)
{
    uint8_t raw[600];
    uint32_t crc = wampdev_crc32(0, cbor, n);
    size_t e;
    memcpy(raw, cbor, n);
    raw[n] = (uint8_t)crc;
    raw[n + 1] = (uint8_t)(crc >> 8);
    raw[n + 2] = (uint8_t)(crc >> 16);
    raw[n + 3] = (uint8_t)(crc >> 24);
    out[0] = 0;
    e = wampdev_cobs_encode(raw, n + 4, out + 1, 700);
    out[1 + e] = 0;
    return e + 2;
}

/* Feeds a hex-encoded CBOR message as a frame, byte by byte (the UART's way). */
static void router_sends_hex(wampdev_t *dev, const char *cbor_hex)
{
    uint8_t cbor[512], frame[700];
    size_t n = hex(cbor_hex, cbor, sizeof cbor), f = make_frame(cbor, n, frame), i;
    for (i = 0; i < f; i++) wampdev_feed(dev, frame + i, 1);
}

static void router_sends(wampdev_t *dev, const wampdev_cbor_writer_t *w)
{
    uint8_t frame[700];
    size_t f = make_frame(w->buf, w->len, frame);
    wampdev_feed(dev, frame, f);
}

/* ---- callbacks recording what happened -------------------------------------------------- */

static uint64_t joined_session, last_pub, subscribed_id, registered_id;
static int joins, leaves, events, invocations, results, errors;
static char last_reason[96], last_error[96];
static double last_event_value;
static int64_t last_result;

static void on_join(wampdev_t *dev, void *ctx, uint64_t session)
{
    (void)dev; (void)ctx;
    joins++;
    joined_session = session;
}
static void on_leave(wampdev_t *dev, void *ctx, const char *reason)
{
    (void)dev; (void)ctx;
    leaves++;
    strncpy(last_reason, reason, sizeof last_reason - 1);
}
static void on_error(wampdev_t *dev, void *ctx, int type, uint64_t req, const char *error)
{
    (void)dev; (void)ctx; (void)type; (void)req;
    errors++;
    strncpy(last_error, error, sizeof last_error - 1);
}
static void on_published(wampdev_t *dev, void *ctx, uint64_t req, uint64_t pub) { (void)dev; (void)ctx; (void)req; last_pub = pub; }
static void on_subscribed(wampdev_t *dev, void *ctx, uint64_t req, uint64_t id) { (void)dev; (void)ctx; (void)req; subscribed_id = id; }
static void on_registered(wampdev_t *dev, void *ctx, uint64_t req, uint64_t id) { (void)dev; (void)ctx; (void)req; registered_id = id; }

static void on_event(wampdev_t *dev, void *ctx, uint64_t sub, const wampdev_cbor_t *details, const wampdev_cbor_t *args,
                     const wampdev_cbor_t *kwargs)
{
    wampdev_cbor_t v;
    (void)dev; (void)sub; (void)details; (void)kwargs;
    CHECK(ctx == (void *)&events);
    events++;
    if (args && wampdev_cbor_array_at(args, 0, &v) == 0) (void)wampdev_cbor_get_double(&v, &last_event_value);
}

static void on_add(wampdev_t *dev, void *ctx, uint64_t request, const wampdev_cbor_t *details, const wampdev_cbor_t *args,
                   const wampdev_cbor_t *kwargs)
{
    wampdev_cbor_t a, b;
    int64_t x, y;
    wampdev_cbor_writer_t *w;
    (void)ctx; (void)details; (void)kwargs;
    invocations++;
    if (!args || wampdev_cbor_array_at(args, 0, &a) != 0 || wampdev_cbor_array_at(args, 1, &b) != 0 ||
        wampdev_cbor_get_int(&a, &x) != 0 || wampdev_cbor_get_int(&b, &y) != 0) {
        w = wampdev_error_begin(dev, WAMPDEV_MSG_INVOCATION, request, "wamp.error.invalid_argument", 0);
        if (w) (void)wampdev_send(dev);
        return;
    }
    w = wampdev_yield_begin(dev, request, 1);
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_int(w, x + y);
    (void)wampdev_send(dev);
}

static void on_result(wampdev_t *dev, void *ctx, uint64_t request, const char *error, const wampdev_cbor_t *args,
                      const wampdev_cbor_t *kwargs)
{
    wampdev_cbor_t v;
    (void)dev; (void)ctx; (void)request; (void)kwargs;
    results++;
    last_error[0] = 0;
    if (error) strncpy(last_error, error, sizeof last_error - 1);
    if (args && wampdev_cbor_array_at(args, 0, &v) == 0) (void)wampdev_cbor_get_int(&v, &last_result);
}

/* ---- the scenario ----------------------------------------------------------------------- */

void test_wampdev(void)
{
    static wampdev_t dev;
    wampdev_config_t cfg;
    wampdev_cbor_t msg, v;
    wampdev_cbor_writer_t rw, *w;
    uint8_t rbuf[512];
    uint64_t req, sub_req, reg_req, call_req;

    memset(&cfg, 0, sizeof cfg);
    cfg.write = capture;
    cfg.rx_buf = rx_buf;
    cfg.rx_cap = sizeof rx_buf;
    cfg.tx_buf = tx_buf;
    cfg.tx_cap = sizeof tx_buf;
    cfg.authid = "sensor-1";
    cfg.on_join = on_join;
    cfg.on_leave = on_leave;
    cfg.on_error = on_error;
    cfg.on_published = on_published;
    cfg.on_subscribed = on_subscribed;
    cfg.on_registered = on_registered;
    CHECK(wampdev_init(&dev, &cfg) == 0);
    cfg.tx_cap = 10;
    CHECK(wampdev_init(&dev, &cfg) == -1);
    cfg.tx_cap = sizeof tx_buf;
    CHECK(wampdev_init(&dev, &cfg) == 0);
    wampdev_tick(&dev, 1000);

    /* HELLO */
    CHECK(wampdev_subscribe(&dev, "x", on_event, NULL) == 0); /* not joined yet */
    CHECK(wampdev_join(&dev, "realm1") == 0);
    CHECK(wire[0] == 0); /* leading delimiter */
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 1 && field_text(&msg, 1, "realm1"));
    {
        wampdev_cbor_t details, roles;
        CHECK(wampdev_cbor_array_at(&msg, 2, &details) == 0 && wampdev_cbor_map_get(&details, "roles", &roles) == 0);
        CHECK(wampdev_cbor_map_get(&roles, "publisher", &v) == 0 && wampdev_cbor_map_get(&roles, "subscriber", &v) == 0 &&
              wampdev_cbor_map_get(&roles, "caller", &v) == 0 && wampdev_cbor_map_get(&roles, "callee", &v) == 0);
        CHECK(wampdev_cbor_map_get(&details, "authid", &v) == 0 && wampdev_cbor_text_equals(&v, "sensor-1"));
    }
    CHECK(wampdev_state(&dev) == WAMPDEV_STATE_JOINING);

    /* No WELCOME yet: HELLO is resent after hello_retry_ms */
    wampdev_tick(&dev, 2500);
    CHECK(next_frame(&msg) == -1);
    wampdev_tick(&dev, 3000);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 1);

    /* WELCOME exactly as cbor-x encodes it (session ID as float64) */
    router_sends_hex(&dev, "8302fb4330000000000001b9000165726f6c6573b900026662726f6b6572b90000666465616c6572b90000");
    CHECK(joins == 1 && joined_session == 4503599627370497ull && wampdev_session(&dev) == joined_session);
    CHECK(wampdev_state(&dev) == WAMPDEV_STATE_JOINED);

    /* SUBSCRIBE / SUBSCRIBED / EVENT */
    sub_req = wampdev_subscribe(&dev, "sensor.cmd", on_event, &events);
    CHECK(sub_req == 1);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 32 && field_uint(&msg, 1) == sub_req && field_text(&msg, 3, "sensor.cmd"));
    wampdev_cbor_writer_init(&rw, rbuf, sizeof rbuf);
    wampdev_cbor_put_array(&rw, 3);
    wampdev_cbor_put_uint(&rw, 33);
    wampdev_cbor_put_uint(&rw, sub_req);
    wampdev_cbor_put_uint(&rw, 5);
    router_sends(&dev, &rw);
    CHECK(subscribed_id == 5);
    /* EVENT [36,5,6,{},[21.5,-3,"x",true,null,h'010203'],{k:1.5}] from cbor-x */
    router_sends_hex(&dev, "8618240506b9000086fb4035800000000000226178f5f643010203b90001616bfb3ff8000000000000");
    CHECK(events == 1 && last_event_value == 21.5);
    /* an EVENT for an unknown subscription is ignored */
    router_sends_hex(&dev, "8418240906a0");
    CHECK(events == 1);

    /* REGISTER / REGISTERED / INVOCATION / YIELD */
    reg_req = wampdev_register(&dev, "dev.add", on_add, NULL);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 64 && field_uint(&msg, 1) == reg_req && field_text(&msg, 3, "dev.add"));
    wampdev_cbor_writer_init(&rw, rbuf, sizeof rbuf);
    wampdev_cbor_put_array(&rw, 3);
    wampdev_cbor_put_uint(&rw, 65);
    wampdev_cbor_put_uint(&rw, reg_req);
    wampdev_cbor_put_uint(&rw, 2);
    router_sends(&dev, &rw);
    CHECK(registered_id == 2);
    router_sends_hex(&dev, "8518440102b90000820203"); /* cbor-x: [68,1,2,{},[2,3]] */
    CHECK(invocations == 1);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 70 && field_uint(&msg, 1) == 1);
    CHECK(wampdev_cbor_array_at(&msg, 3, &v) == 0 && wampdev_cbor_count(&v) == 1);
    {
        wampdev_cbor_t r;
        int64_t sum = 0;
        CHECK(wampdev_cbor_array_at(&v, 0, &r) == 0 && wampdev_cbor_get_int(&r, &sum) == 0 && sum == 5);
    }
    router_sends_hex(&dev, "8518440202a082016178"); /* [68,2,2,{},[1,"x"]] */
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 8 && field_uint(&msg, 1) == 68 && field_uint(&msg, 2) == 2 &&
          field_text(&msg, 4, "wamp.error.invalid_argument"));
    router_sends_hex(&dev, "841844031863b90000"); /* INVOCATION for an unknown registration 99 */
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 8 && field_uint(&msg, 2) == 3 &&
          field_text(&msg, 4, "wamp.error.no_such_registration"));

    /* PUBLISH with acknowledge */
    w = wampdev_publish_begin(&dev, "sensor.temp", 1, 2);
    CHECK(w != NULL);
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_double(w, 21.5);
    wampdev_cbor_put_map(w, 1);
    wampdev_cbor_put_text(w, "unit");
    wampdev_cbor_put_text(w, "C");
    req = wampdev_send(&dev);
    CHECK(req != 0);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 16 && field_uint(&msg, 1) == req && field_text(&msg, 3, "sensor.temp"));
    CHECK(wampdev_cbor_array_at(&msg, 2, &v) == 0 && wampdev_cbor_map_get(&v, "acknowledge", &v) == 0);
    CHECK(wampdev_cbor_count(&msg) == 6);
    wampdev_cbor_writer_init(&rw, rbuf, sizeof rbuf);
    wampdev_cbor_put_array(&rw, 3);
    wampdev_cbor_put_uint(&rw, 17);
    wampdev_cbor_put_uint(&rw, req);
    wampdev_cbor_put_uint(&rw, 777);
    router_sends(&dev, &rw);
    CHECK(last_pub == 777);

    /* CALL / RESULT, CALL / ERROR */
    w = wampdev_call_begin(&dev, "math.mul", on_result, NULL, 1);
    wampdev_cbor_put_array(w, 2);
    wampdev_cbor_put_int(w, 6);
    wampdev_cbor_put_int(w, -7);
    call_req = wampdev_send(&dev);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 48 && field_uint(&msg, 1) == call_req && field_text(&msg, 3, "math.mul"));
    wampdev_cbor_writer_init(&rw, rbuf, sizeof rbuf);
    wampdev_cbor_put_array(&rw, 4);
    wampdev_cbor_put_uint(&rw, 50);
    wampdev_cbor_put_uint(&rw, call_req);
    wampdev_cbor_put_map(&rw, 0);
    wampdev_cbor_put_array(&rw, 1);
    wampdev_cbor_put_int(&rw, -42);
    router_sends(&dev, &rw);
    CHECK(results == 1 && last_result == -42 && last_error[0] == 0);
    w = wampdev_call_begin(&dev, "nope", on_result, NULL, 0);
    call_req = wampdev_send(&dev);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 48 && wampdev_cbor_count(&msg) == 4);
    wampdev_cbor_writer_init(&rw, rbuf, sizeof rbuf);
    wampdev_cbor_put_array(&rw, 5);
    wampdev_cbor_put_uint(&rw, 8);
    wampdev_cbor_put_uint(&rw, 48);
    wampdev_cbor_put_uint(&rw, call_req);
    wampdev_cbor_put_map(&rw, 0);
    wampdev_cbor_put_text(&rw, "wamp.error.no_such_procedure");
    router_sends(&dev, &rw);
    CHECK(results == 2 && strcmp(last_error, "wamp.error.no_such_procedure") == 0);

    /* A message too big for tx_buf is not sent and is counted */
    w = wampdev_publish_begin(&dev, "big", 0, 1);
    wampdev_cbor_put_array(w, 1);
    {
        uint8_t big[300];
        memset(big, 1, sizeof big);
        wampdev_cbor_put_bytes(w, big, sizeof big);
    }
    CHECK(wampdev_send(&dev) == 0 && wampdev_stats(&dev)->tx_overflow == 1);
    CHECK(next_frame(&msg) == -1);

    /* Corrupt, non-COBS and oversized frames are dropped and counted; the next one works */
    {
        uint8_t cbor[16], frame[64], junk[400];
        size_t n = hex("8518440302a0820a14", cbor, sizeof cbor), f = make_frame(cbor, n, frame); /* [68,3,2,{},[10,20]] */
        frame[3] ^= 0x10;
        wampdev_feed(&dev, frame, f);
        CHECK(wampdev_stats(&dev)->crc_errors == 1);
        {
            const uint8_t notcobs[] = {0x09, 0x01, 0x02, 0x00};
            wampdev_feed(&dev, notcobs, sizeof notcobs);
            CHECK(wampdev_stats(&dev)->cobs_errors == 1);
        }
        memset(junk, 0x41, sizeof junk);
        junk[sizeof junk - 1] = 0;
        wampdev_feed(&dev, junk, sizeof junk);
        CHECK(wampdev_stats(&dev)->oversized == 1);
        CHECK(next_frame(&msg) == -1 && invocations == 2);
        router_sends_hex(&dev, "8518440402a0820a14");
        CHECK(invocations == 3);
        CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 70 && field_uint(&msg, 1) == 4);
    }

    /* GOODBYE from the router: the device answers, forgets its tables, and rejoins later */
    router_sends_hex(&dev, "8306b90000781a77616d702e636c6f73652e73797374656d5f73687574646f776e");
    CHECK(leaves == 1 && strcmp(last_reason, "wamp.close.system_shutdown") == 0);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 6 && field_text(&msg, 2, "wamp.close.goodbye_and_out"));
    CHECK(wampdev_state(&dev) == WAMPDEV_STATE_IDLE);
    CHECK(wampdev_publish_begin(&dev, "t", 0, 0) == NULL);
    wampdev_tick(&dev, 4000);
    CHECK(next_frame(&msg) == -1);
    wampdev_tick(&dev, 6001);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 1);

    /* ABORT while joining: on_leave, then another rejoin */
    router_sends_hex(&dev, "8303a07077616d702e6572726f722e7465737478"); /* [3,{},"wamp.error.testx"] */
    CHECK(leaves == 2 && strcmp(last_reason, "wamp.error.testx") == 0);
    router_sends_hex(&dev, "830207a0"); /* a late WELCOME when not joining is ignored */
    CHECK(joins == 1);
    wampdev_tick(&dev, 9001);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 1);
    router_sends_hex(&dev, "830207a0");
    CHECK(joins == 2 && wampdev_session(&dev) == 7);
    /* subscriptions were forgotten with the old session */
    router_sends_hex(&dev, "8418240506a0");
    CHECK(events == 1);

    /* leave: GOODBYE out, GOODBYE back, no rejoin */
    CHECK(wampdev_leave(&dev, NULL) == 0);
    CHECK(next_frame(&msg) == 0 && field_uint(&msg, 0) == 6 && field_text(&msg, 2, "wamp.close.close_realm"));
    router_sends_hex(&dev, "8306b90000781a77616d702e636c6f73652e676f6f646279655f616e645f6f7574");
    CHECK(leaves == 3 && wampdev_state(&dev) == WAMPDEV_STATE_IDLE);
    wampdev_tick(&dev, 60000);
    CHECK(next_frame(&msg) == -1);
    CHECK(wampdev_stats(&dev)->bad_messages == 0);
    CHECK(errors == 0);
}
