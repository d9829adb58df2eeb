/* Framing edge cases beyond test_wampdev.c: a device whose rx buffer is smaller than the router's
 * WELCOME (serial and RawSocket), and the RawSocket transport with ticket authentication: the
 * handshake and its max-length negotiation, length-prefixed frames, PING/PONG, CHALLENGE. */
#include <string.h>

#include "harness.h"
#include "wampdev.h"
#include "wampdev_cobs.h"
#include "wampdev_crc32.h"

static uint8_t out[4096];
static size_t out_len;
static int t_joins, t_leaves;
static uint64_t t_session;
static char t_reason[64];

static void capture(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    if (len <= sizeof out - out_len) {
        memcpy(out + out_len, data, len);
        out_len += len;
    }
}
static void on_join(wampdev_t *dev, void *ctx, uint64_t session)
{
    (void)dev; (void)ctx;
    t_joins++;
    t_session = session;
}
static void on_leave(wampdev_t *dev, void *ctx, const char *reason)
{
    (void)dev; (void)ctx;
    t_leaves++;
    strncpy(t_reason, reason, sizeof t_reason - 1);
}

/* A WELCOME like a router's: [2, session, {"roles": {...}, "x": "<pad bytes>"}], as CBOR. */
static size_t big_welcome(uint8_t *buf, size_t cap, uint64_t session, size_t pad, int session_as_float)
{
    wampdev_cbor_writer_t w;
    char padding[600];
    memset(padding, 'r', pad);
    padding[pad] = 0;
    wampdev_cbor_writer_init(&w, buf, cap);
    wampdev_cbor_put_array(&w, 3);
    wampdev_cbor_put_uint(&w, 2);
    if (session_as_float) wampdev_cbor_put_double(&w, (double)session); /* as cbor-x sends IDs >= 2^32 */
    else wampdev_cbor_put_uint(&w, session);
    wampdev_cbor_put_map(&w, 1);
    wampdev_cbor_put_text(&w, "x");
    wampdev_cbor_put_text(&w, padding);
    return w.overflow ? 0 : w.len;
}

static size_t serial_frame(const uint8_t *cbor, size_t n, uint8_t *frame)
{
    uint8_t raw[700];
    uint32_t crc = wampdev_crc32(0, cbor, n);
    size_t e;
    memcpy(raw, cbor, n);
    raw[n] = (uint8_t)crc;
    raw[n + 1] = (uint8_t)(crc >> 8);
    raw[n + 2] = (uint8_t)(crc >> 16);
    raw[n + 3] = (uint8_t)(crc >> 24);
    frame[0] = 0;
    e = wampdev_cobs_encode(raw, n + 4, frame + 1, 800);
    frame[1 + e] = 0;
    return e + 2;
}

static void small_rx_serial(void)
{
    static uint8_t rx[WAMPDEV_RX_BUF_SIZE(48)], tx[WAMPDEV_TX_BUF_SIZE(64)];
    static wampdev_t dev;
    wampdev_config_t cfg;
    uint8_t cbor[700], frame[800];
    size_t n, f, i;
    int as_float;
    for (as_float = 0; as_float < 2; as_float++) {
        memset(&cfg, 0, sizeof cfg);
        cfg.write = capture;
        cfg.rx_buf = rx;
        cfg.rx_cap = sizeof rx;
        cfg.tx_buf = tx;
        cfg.tx_cap = sizeof tx;
        cfg.on_join = on_join;
        CHECK(wampdev_init(&dev, &cfg) == 0);
        CHECK(wampdev_join(&dev, "iot") == 0);
        t_joins = 0;

        /* A 560-byte WELCOME with a corrupted CRC: oversized, not joined. */
        n = big_welcome(cbor, sizeof cbor, 4503599627370497ull, 540, as_float);
        CHECK(n > 500);
        f = serial_frame(cbor, n, frame);
        frame[f - 3] ^= 0x01; /* a CRC byte */
        wampdev_feed(&dev, frame, f);
        CHECK(t_joins == 0 && wampdev_stats(&dev)->oversized == 1 && wampdev_state(&dev) == WAMPDEV_STATE_JOINING);

        /* An intact one, byte by byte: joined by its head, details dropped. */
        f = serial_frame(cbor, n, frame);
        for (i = 0; i < f; i++) wampdev_feed(&dev, frame + i, 1);
        CHECK(t_joins == 1 && t_session == 4503599627370497ull && wampdev_state(&dev) == WAMPDEV_STATE_JOINED);
        CHECK(wampdev_stats(&dev)->oversized == 1 && wampdev_stats(&dev)->frames_in == 1);

        /* Once joined, an oversized message is dropped and counted; a small one still works. */
        wampdev_feed(&dev, frame, f);
        CHECK(t_joins == 1 && wampdev_stats(&dev)->oversized == 2);
        n = hex("8306a07077616d702e6572726f722e7465737478", cbor, sizeof cbor); /* GOODBYE */
        f = serial_frame(cbor, n, frame);
        wampdev_feed(&dev, frame, f);
        CHECK(wampdev_state(&dev) == WAMPDEV_STATE_IDLE && wampdev_stats(&dev)->frames_in == 2);
    }
}

/* ---- RawSocket ---------------------------------------------------------------------------- */

static void rs_frame(wampdev_t *dev, uint8_t type, const uint8_t *payload, size_t n)
{
    uint8_t h[4];
    h[0] = type;
    h[1] = (uint8_t)(n >> 16);
    h[2] = (uint8_t)(n >> 8);
    h[3] = (uint8_t)n;
    wampdev_feed(dev, h, 4);
    wampdev_feed(dev, payload, n);
}

static void rs_frame_hex(wampdev_t *dev, const char *cbor_hex)
{
    uint8_t cbor[512];
    size_t n = hex(cbor_hex, cbor, sizeof cbor), i;
    uint8_t h[4] = {0, 0, 0, 0};
    h[3] = (uint8_t)n;
    for (i = 0; i < 4; i++) wampdev_feed(dev, h + i, 1); /* TCP may split anywhere */
    for (i = 0; i < n; i++) wampdev_feed(dev, cbor + i, 1);
}

/* Parses the next RawSocket frame the device wrote at out[*pos]; returns its type or -1. */
static int rs_next(size_t *pos, wampdev_cbor_t *msg, const uint8_t **payload, size_t *len)
{
    size_t n;
    if (*pos + 4 > out_len) return -1;
    n = ((size_t)out[*pos + 1] << 16) | ((size_t)out[*pos + 2] << 8) | out[*pos + 3];
    if (*pos + 4 + n > out_len) return -1;
    *payload = out + *pos + 4;
    *len = n;
    if (out[*pos] == 0 && wampdev_cbor_parse(out + *pos + 4, n, 8, msg) != 0) return -1;
    {
        int type = out[*pos];
        *pos += 4 + n;
        return type;
    }
}

static int field_is_text(const wampdev_cbor_t *msg, size_t i, const char *want)
{
    wampdev_cbor_t v;
    return wampdev_cbor_array_at(msg, i, &v) == 0 && wampdev_cbor_text_equals(&v, want);
}

static uint64_t field_u(const wampdev_cbor_t *msg, size_t i)
{
    wampdev_cbor_t v;
    uint64_t u = 0xDEAD;
    if (wampdev_cbor_array_at(msg, i, &v) == 0) (void)wampdev_cbor_get_uint(&v, &u);
    return u;
}

static void rawsocket(void)
{
    static uint8_t rx[1100], tx[WAMPDEV_TX_BUF_SIZE(256)];
    static wampdev_t dev;
    wampdev_config_t cfg;
    wampdev_cbor_t msg, v, m2;
    const uint8_t *p;
    size_t pos = 0, len;
    uint8_t cbor[700];
    wampdev_cbor_writer_t *w;
    const uint8_t reply_ok[4] = {0x7F, 0x93, 0, 0}; /* router: up to 2^(9+9) bytes, CBOR */

    memset(&cfg, 0, sizeof cfg);
    cfg.write = capture;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.on_join = on_join;
    cfg.on_leave = on_leave;
    cfg.framing = WAMPDEV_FRAMING_RAWSOCKET;
    cfg.authid = "esp32-kitchen";
    cfg.ticket = "s3cret";
    out_len = 0;
    t_joins = t_leaves = 0;
    CHECK(wampdev_init(&dev, &cfg) == 0);

    /* join() before the connection: nothing is written until wampdev_connected. */
    CHECK(wampdev_join(&dev, "iot") == 0);
    CHECK(out_len == 0 && wampdev_state(&dev) == WAMPDEV_STATE_JOINING);
    wampdev_tick(&dev, 10000);
    CHECK(out_len == 0);

    /* Handshake: 7F, L=1 (1100 bytes hold 2^10, not 2^11) and CBOR, 00 00. */
    wampdev_connected(&dev);
    CHECK(out_len == 4 && out[0] == 0x7F && out[1] == 0x13 && out[2] == 0 && out[3] == 0);
    pos = 4;
    /* The router's reply, split: then HELLO with the ticket method and the authid. */
    wampdev_feed(&dev, reply_ok, 1);
    CHECK(out_len == 4);
    wampdev_feed(&dev, reply_ok + 1, 3);
    CHECK(rs_next(&pos, &msg, &p, &len) == 0 && field_u(&msg, 0) == 1 && field_is_text(&msg, 1, "iot"));
    CHECK(wampdev_cbor_array_at(&msg, 2, &v) == 0 && wampdev_cbor_map_get(&v, "authid", &m2) == 0 &&
          wampdev_cbor_text_equals(&m2, "esp32-kitchen"));
    CHECK(wampdev_cbor_map_get(&v, "authmethods", &m2) == 0 && wampdev_cbor_array_at(&m2, 0, &m2) == 0 &&
          wampdev_cbor_text_equals(&m2, "ticket"));
    /* No HELLO retry over TCP (a second HELLO would be a protocol violation). */
    wampdev_tick(&dev, 20000);
    CHECK(pos == out_len);

    /* CHALLENGE "ticket" -> AUTHENTICATE with the ticket. */
    rs_frame_hex(&dev, "8304667469636b6574a0"); /* [4, "ticket", {}] */
    CHECK(rs_next(&pos, &msg, &p, &len) == 0 && field_u(&msg, 0) == 5 && field_is_text(&msg, 1, "s3cret"));
    /* A PING before the WELCOME: PONG with the same payload. */
    rs_frame(&dev, 1, (const uint8_t *)"ping-1234", 9);
    CHECK(rs_next(&pos, &msg, &p, &len) == 2 && len == 9 && memcmp(p, "ping-1234", 9) == 0);
    CHECK(wampdev_stats(&dev)->pings == 1);
    /* An empty PING too. */
    rs_frame(&dev, 1, (const uint8_t *)"", 0);
    CHECK(rs_next(&pos, &msg, &p, &len) == 2 && len == 0);
    /* WELCOME (longer than nothing, shorter than rx): joined. */
    len = big_welcome(cbor, sizeof cbor, 77, 500, 0);
    rs_frame(&dev, 0, cbor, len);
    CHECK(t_joins == 1 && t_session == 77 && wampdev_stats(&dev)->oversized == 0);

    /* PUBLISH goes out with a 4-byte length header, no CRC. */
    w = wampdev_publish_begin(&dev, "sensor.kitchen.temperature", 0, 1);
    wampdev_cbor_put_array(w, 1);
    wampdev_cbor_put_int(w, 21);
    CHECK(wampdev_send(&dev) == 1);
    CHECK(rs_next(&pos, &msg, &p, &len) == 0 && field_u(&msg, 0) == 16 && field_is_text(&msg, 3, "sensor.kitchen.temperature"));
    CHECK(pos == out_len);

    /* A PONG and an unknown frame type are skipped by length; the stream stays in step. */
    rs_frame(&dev, 2, (const uint8_t *)"xy", 2);
    rs_frame(&dev, 7, (const uint8_t *)"abc", 3);
    CHECK(wampdev_stats(&dev)->bad_messages == 1 && pos == out_len);
    /* An oversized message (more than rx holds) is skipped and counted; the next one works. */
    {
        static uint8_t big[1200];
        memset(big, 0x41, sizeof big);
        rs_frame(&dev, 0, big, sizeof big);
        CHECK(wampdev_stats(&dev)->oversized == 1 && wampdev_state(&dev) == WAMPDEV_STATE_JOINED);
    }
    rs_frame_hex(&dev, "8306a07077616d702e6572726f722e7465737478"); /* GOODBYE from the router */
    CHECK(t_leaves == 1 && rs_next(&pos, &msg, &p, &len) == 0 && field_u(&msg, 0) == 6);

    /* The connection drops; a new one: handshake again, then HELLO. */
    wampdev_disconnected(&dev);
    wampdev_tick(&dev, 60000);
    CHECK(pos == out_len); /* no HELLO without a connection */
    wampdev_connected(&dev);
    CHECK(out_len == pos + 4 && out[pos] == 0x7F);
    pos += 4;
    /* A router that refuses (serializer 0, error 1): on_leave, nothing more is sent. */
    {
        const uint8_t refuse[4] = {0x7F, 0x10, 0, 0};
        wampdev_feed(&dev, refuse, 4);
        CHECK(t_leaves == 2 && strcmp(t_reason, "wampdev.rawsocket.refused") == 0 && pos == out_len);
    }
    /* A new connection, a router accepting only 512-byte messages: a bigger one is not sent. */
    wampdev_connected(&dev);
    pos += 4;
    {
        const uint8_t small[4] = {0x7F, 0x03, 0, 0};
        wampdev_feed(&dev, small, 4);
    }
    CHECK(rs_next(&pos, &msg, &p, &len) == 0 && field_u(&msg, 0) == 1);
    rs_frame_hex(&dev, "830218c8a0"); /* WELCOME session 200 */
    CHECK(t_joins == 2 && t_session == 200);
    {
        static uint8_t blob[230];
        w = wampdev_publish_begin(&dev, "t", 0, 1);
        wampdev_cbor_put_array(w, 1);
        wampdev_cbor_put_bytes(w, blob, sizeof blob);
        CHECK(wampdev_send(&dev) != 0); /* 230 < 512 */
        CHECK(rs_next(&pos, &msg, &p, &len) == 0);
    }

    /* Without a ticket configured, a CHALLENGE is refused with ABORT as before. */
    cfg.ticket = NULL;
    out_len = 0;
    CHECK(wampdev_init(&dev, &cfg) == 0);
    wampdev_join(&dev, "iot");
    wampdev_connected(&dev);
    wampdev_feed(&dev, reply_ok, 4);
    pos = 4;
    CHECK(rs_next(&pos, &msg, &p, &len) == 0 && wampdev_cbor_array_at(&msg, 2, &v) == 0 &&
          wampdev_cbor_map_get(&v, "authmethods", &m2) != 0);
    rs_frame_hex(&dev, "8304667469636b6574a0");
    CHECK(rs_next(&pos, &msg, &p, &len) == 0 && field_u(&msg, 0) == 3 && field_is_text(&msg, 2, "wamp.error.no_auth_method"));
}

void test_transport(void)
{
    small_rx_serial();
    rawsocket();
}
