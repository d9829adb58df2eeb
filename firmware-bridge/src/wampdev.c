/* The wampdev client: framing (serial: CRC-32 + COBS streamed out through the write callback so
 * no second tx buffer is needed; RawSocket: handshake and 4-byte headers), ticket
 * authentication, the session state machine and the request tables. Received frames are
 * decoded into rx_buf as bytes arrive and handed to callbacks as read-only CBOR views. */
#include "wampdev.h"

#include <string.h>

#include "wampdev_cobs.h"
#include "wampdev_crc32.h"

#ifndef WAMPDEV_MAX_URI
#define WAMPDEV_MAX_URI 96 /* error and close-reason URIs are copied this long (NUL included) */
#endif

#define MSG_HELLO 1
#define MSG_WELCOME 2
#define MSG_ABORT 3
#define MSG_CHALLENGE 4
#define MSG_AUTHENTICATE 5
#define MSG_GOODBYE 6
#define MSG_ERROR 8
#define MSG_PUBLISHED 17
#define MSG_SUBSCRIBED 33
#define MSG_UNSUBSCRIBED 35
#define MSG_EVENT 36
#define MSG_RESULT 50
#define MSG_REGISTERED 65
#define MSG_UNREGISTERED 67
#define MSG_YIELD 70

/* RawSocket transport states (rs_state). */
#define RS_CLOSED 0    /* no connection: wampdev_connected() not called yet, or it broke */
#define RS_HANDSHAKE 1 /* our 4 handshake bytes sent, waiting for the router's 4 */
#define RS_READY 2     /* frames */
#define RS_REFUSED 3   /* the router refused the handshake; wait for a new connection */

#define RS_SERIALIZER_CBOR 3
#define RS_FRAME_MESSAGE 0
#define RS_FRAME_PING 1
#define RS_FRAME_PONG 2

static int rawsocket(const wampdev_t *dev) { return dev->cfg.framing == WAMPDEV_FRAMING_RAWSOCKET; }

/* ---- output ---------------------------------------------------------------------------- */

static void write_rs_header(wampdev_t *dev, uint8_t type, uint32_t len)
{
    uint8_t h[4];
    h[0] = type;
    h[1] = (uint8_t)(len >> 16);
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    dev->cfg.write(dev->cfg.write_ctx, h, 4);
}

static const uint8_t zero_byte = 0;

/* Writes [0x00] COBS(buf[0..len)) 0x00, one run at a time straight from buf. Same bytes as
 * wampdev_cobs_encode (a full 254-byte run is always followed by a new block). */
static void write_frame(wampdev_t *dev, const uint8_t *buf, size_t len)
{
    size_t i = 0;
    dev->cfg.write(dev->cfg.write_ctx, &zero_byte, 1);
    for (;;) {
        size_t j = i;
        uint8_t code;
        while (j < len && buf[j] != 0 && j - i < 254) j++;
        code = (uint8_t)(j - i + 1);
        dev->cfg.write(dev->cfg.write_ctx, &code, 1);
        if (j > i) dev->cfg.write(dev->cfg.write_ctx, buf + i, j - i);
        if (j - i == 254) {
            i = j;
            continue;
        }
        if (j >= len) break;
        i = j + 1; /* the zero is implied by the code byte */
    }
    dev->cfg.write(dev->cfg.write_ctx, &zero_byte, 1);
}

static wampdev_cbor_writer_t *begin(wampdev_t *dev)
{
    /* The last 4 bytes of tx_buf are kept for the CRC. */
    wampdev_cbor_writer_init(&dev->w, dev->cfg.tx_buf, dev->cfg.tx_cap - 4);
    dev->building = 1;
    return &dev->w;
}

static int finish(wampdev_t *dev)
{
    uint32_t crc;
    size_t n = dev->w.len;
    dev->building = 0;
    if (dev->w.overflow) {
        dev->stats.tx_overflow++;
        return -1;
    }
    if (rawsocket(dev)) {
        /* No CRC or COBS: TCP delivers the bytes intact and in order. */
        if (dev->rs_state != RS_READY || (uint32_t)n > (1ul << (9 + dev->rs_max_exp))) {
            dev->stats.tx_overflow++;
            return -1;
        }
        write_rs_header(dev, RS_FRAME_MESSAGE, (uint32_t)n);
        dev->cfg.write(dev->cfg.write_ctx, dev->cfg.tx_buf, n);
        dev->stats.frames_out++;
        return 0;
    }
    crc = wampdev_crc32(0, dev->cfg.tx_buf, n);
    dev->cfg.tx_buf[n] = (uint8_t)crc;
    dev->cfg.tx_buf[n + 1] = (uint8_t)(crc >> 8);
    dev->cfg.tx_buf[n + 2] = (uint8_t)(crc >> 16);
    dev->cfg.tx_buf[n + 3] = (uint8_t)(crc >> 24);
    write_frame(dev, dev->cfg.tx_buf, n + 4);
    dev->stats.frames_out++;
    return 0;
}

static uint64_t next_request(wampdev_t *dev)
{
    /* Session scope IDs run 1, 2, ... (spec: "IDs"); wrap well before 2^53. */
    if (dev->next_request >= 9007199254740992ull) dev->next_request = 0;
    return ++dev->next_request;
}

static void empty_map(wampdev_cbor_writer_t *w) { wampdev_cbor_put_map(w, 0); }

static void send_hello(wampdev_t *dev)
{
    wampdev_cbor_writer_t *w = begin(dev);
    wampdev_cbor_put_array(w, 3);
    wampdev_cbor_put_uint(w, MSG_HELLO);
    wampdev_cbor_put_text(w, dev->realm);
    wampdev_cbor_put_map(w, 2u + (dev->cfg.authid ? 1u : 0u) + (dev->cfg.ticket ? 1u : 0u));
    /* Literals through _P: on AVR they stay in flash (WAMPDEV_P). */
    wampdev_cbor_put_text_P(w, WAMPDEV_P("roles"));
    wampdev_cbor_put_map(w, 4);
    wampdev_cbor_put_text_P(w, WAMPDEV_P("publisher"));
    empty_map(w);
    wampdev_cbor_put_text_P(w, WAMPDEV_P("subscriber"));
    empty_map(w);
    wampdev_cbor_put_text_P(w, WAMPDEV_P("caller"));
    empty_map(w);
    wampdev_cbor_put_text_P(w, WAMPDEV_P("callee"));
    empty_map(w);
    wampdev_cbor_put_text_P(w, WAMPDEV_P("agent"));
    wampdev_cbor_put_text(w, dev->cfg.agent);
    if (dev->cfg.authid) {
        wampdev_cbor_put_text_P(w, WAMPDEV_P("authid"));
        wampdev_cbor_put_text(w, dev->cfg.authid);
    }
    if (dev->cfg.ticket) {
        wampdev_cbor_put_text_P(w, WAMPDEV_P("authmethods"));
        wampdev_cbor_put_array(w, 1);
        wampdev_cbor_put_text_P(w, WAMPDEV_P("ticket"));
    }
    (void)finish(dev);
    dev->state = WAMPDEV_STATE_JOINING;
    dev->state_since_ms = dev->now_ms;
}

static void send_goodbye(wampdev_t *dev, const char *reason)
{
    wampdev_cbor_writer_t *w = begin(dev);
    wampdev_cbor_put_array(w, 3);
    wampdev_cbor_put_uint(w, MSG_GOODBYE);
    empty_map(w);
    wampdev_cbor_put_text(w, reason);
    (void)finish(dev);
}

/* ---- public: lifecycle ------------------------------------------------------------------ */

int wampdev_init(wampdev_t *dev, const wampdev_config_t *cfg)
{
    if (!dev || !cfg || !cfg->write || !cfg->rx_buf || !cfg->tx_buf || cfg->rx_cap < 16 || cfg->tx_cap < 64 ||
        cfg->framing > WAMPDEV_FRAMING_RAWSOCKET)
        return -1;
    memset(dev, 0, sizeof *dev);
    dev->cfg = *cfg;
    if (!dev->cfg.agent) dev->cfg.agent = "wampdev/0.1";
    if (!dev->cfg.hello_retry_ms) dev->cfg.hello_retry_ms = 2000;
    if (!dev->cfg.rejoin_ms) dev->cfg.rejoin_ms = 3000;
    /* A freshly booted device sees an idle line: the first bytes start a frame. Had it booted
     * mid-frame, that frame fails its CRC and is counted, nothing worse. */
    dev->rx_synced = 1;
    dev->state = WAMPDEV_STATE_IDLE;
    return 0;
}

/* HELLO can go out: always on a serial line (a lost one is resent), on RawSocket only after
 * the handshake. */
static int can_hello(const wampdev_t *dev) { return !rawsocket(dev) || dev->rs_state == RS_READY; }

int wampdev_join(wampdev_t *dev, const char *realm)
{
    if (!realm || dev->state == WAMPDEV_STATE_JOINED || dev->state == WAMPDEV_STATE_LEAVING) return -1;
    dev->realm = realm;
    dev->want_session = 1;
    if (can_hello(dev)) {
        send_hello(dev);
    } else {
        dev->state = WAMPDEV_STATE_JOINING; /* HELLO follows the handshake reply */
        dev->state_since_ms = dev->now_ms;
    }
    return 0;
}

int wampdev_leave(wampdev_t *dev, const char *reason)
{
    dev->want_session = 0;
    if (dev->state != WAMPDEV_STATE_JOINED) {
        dev->state = WAMPDEV_STATE_IDLE;
        return -1;
    }
    send_goodbye(dev, reason ? reason : "wamp.close.close_realm");
    dev->state = WAMPDEV_STATE_LEAVING;
    dev->state_since_ms = dev->now_ms;
    return 0;
}

int wampdev_state(const wampdev_t *dev) { return dev->state; }
uint64_t wampdev_session(const wampdev_t *dev) { return dev->state == WAMPDEV_STATE_JOINED ? dev->session : 0; }
const wampdev_stats_t *wampdev_stats(const wampdev_t *dev) { return &dev->stats; }

static void end_session(wampdev_t *dev, const char *reason)
{
    dev->state = WAMPDEV_STATE_IDLE;
    dev->state_since_ms = dev->now_ms;
    dev->session = 0;
    memset(dev->subs, 0, sizeof dev->subs);
    memset(dev->regs, 0, sizeof dev->regs);
    memset(dev->calls, 0, sizeof dev->calls);
    if (dev->cfg.on_leave) dev->cfg.on_leave(dev, dev->cfg.cb_ctx, reason);
}

void wampdev_tick(wampdev_t *dev, uint32_t now_ms)
{
    uint32_t elapsed;
    dev->now_ms = now_ms;
    elapsed = now_ms - dev->state_since_ms; /* unsigned: correct across the 49-day wrap */
    switch (dev->state) {
    case WAMPDEV_STATE_JOINING:
        /* No WELCOME: the router was not there yet, or a frame was lost on the line. Over TCP
         * nothing is lost, and a second HELLO would be a protocol violation. */
        if (!rawsocket(dev) && elapsed >= dev->cfg.hello_retry_ms) send_hello(dev);
        break;
    case WAMPDEV_STATE_IDLE:
        if (dev->want_session && can_hello(dev) && elapsed >= dev->cfg.rejoin_ms) send_hello(dev);
        break;
    case WAMPDEV_STATE_LEAVING:
        if (elapsed >= dev->cfg.hello_retry_ms) {
            dev->want_session = 0;
            end_session(dev, "wamp.close.goodbye_and_out");
        }
        break;
    default:
        break;
    }
}

/* ---- public: requests ------------------------------------------------------------------- */

static int joined(const wampdev_t *dev) { return dev->state == WAMPDEV_STATE_JOINED; }

uint64_t wampdev_subscribe(wampdev_t *dev, const char *topic, wampdev_event_fn fn, void *ctx)
{
    int i;
    uint64_t req;
    wampdev_cbor_writer_t *w;
    if (!joined(dev) || !fn) return 0;
    for (i = 0; i < WAMPDEV_MAX_SUBSCRIPTIONS; i++)
        if (!dev->subs[i].fn) break;
    if (i == WAMPDEV_MAX_SUBSCRIPTIONS) return 0;
    req = next_request(dev);
    w = begin(dev);
    wampdev_cbor_put_array(w, 4);
    wampdev_cbor_put_uint(w, WAMPDEV_MSG_SUBSCRIBE);
    wampdev_cbor_put_uint(w, req);
    empty_map(w);
    wampdev_cbor_put_text(w, topic);
    if (finish(dev) != 0) return 0;
    dev->subs[i].request = req;
    dev->subs[i].subscription = 0;
    dev->subs[i].fn = fn;
    dev->subs[i].ctx = ctx;
    return req;
}

uint64_t wampdev_register(wampdev_t *dev, const char *procedure, wampdev_invocation_fn fn, void *ctx)
{
    int i;
    uint64_t req;
    wampdev_cbor_writer_t *w;
    if (!joined(dev) || !fn) return 0;
    for (i = 0; i < WAMPDEV_MAX_REGISTRATIONS; i++)
        if (!dev->regs[i].fn) break;
    if (i == WAMPDEV_MAX_REGISTRATIONS) return 0;
    req = next_request(dev);
    w = begin(dev);
    wampdev_cbor_put_array(w, 4);
    wampdev_cbor_put_uint(w, WAMPDEV_MSG_REGISTER);
    wampdev_cbor_put_uint(w, req);
    empty_map(w);
    wampdev_cbor_put_text(w, procedure);
    if (finish(dev) != 0) return 0;
    dev->regs[i].request = req;
    dev->regs[i].registration = 0;
    dev->regs[i].fn = fn;
    dev->regs[i].ctx = ctx;
    return req;
}

static uint64_t send_id_request(wampdev_t *dev, int type, uint64_t id)
{
    uint64_t req = next_request(dev);
    wampdev_cbor_writer_t *w = begin(dev);
    wampdev_cbor_put_array(w, 3);
    wampdev_cbor_put_uint(w, (uint64_t)type);
    wampdev_cbor_put_uint(w, req);
    wampdev_cbor_put_uint(w, id);
    return finish(dev) == 0 ? req : 0;
}

uint64_t wampdev_unsubscribe(wampdev_t *dev, uint64_t subscription)
{
    int i;
    if (!joined(dev) || subscription == 0) return 0;
    /* Forget it now: events still in flight are dropped rather than delivered late. */
    for (i = 0; i < WAMPDEV_MAX_SUBSCRIPTIONS; i++)
        if (dev->subs[i].subscription == subscription) memset(&dev->subs[i], 0, sizeof dev->subs[i]);
    return send_id_request(dev, WAMPDEV_MSG_UNSUBSCRIBE, subscription);
}

uint64_t wampdev_unregister(wampdev_t *dev, uint64_t registration)
{
    int i;
    if (!joined(dev) || registration == 0) return 0;
    for (i = 0; i < WAMPDEV_MAX_REGISTRATIONS; i++)
        if (dev->regs[i].registration == registration) memset(&dev->regs[i], 0, sizeof dev->regs[i]);
    return send_id_request(dev, WAMPDEV_MSG_UNREGISTER, registration);
}

static int payload_ok(int n) { return n >= 0 && n <= 2; }

wampdev_cbor_writer_t *wampdev_publish_begin(wampdev_t *dev, const char *topic, int acknowledge, int payload_items)
{
    wampdev_cbor_writer_t *w;
    if (!joined(dev) || !payload_ok(payload_items)) return NULL;
    dev->building_request = next_request(dev);
    dev->building_call = NULL;
    w = begin(dev);
    wampdev_cbor_put_array(w, 4u + (size_t)payload_items);
    wampdev_cbor_put_uint(w, WAMPDEV_MSG_PUBLISH);
    wampdev_cbor_put_uint(w, dev->building_request);
    if (acknowledge) {
        wampdev_cbor_put_map(w, 1);
        wampdev_cbor_put_text_P(w, WAMPDEV_P("acknowledge"));
        wampdev_cbor_put_bool(w, 1);
    } else {
        empty_map(w);
    }
    wampdev_cbor_put_text(w, topic);
    return w;
}

wampdev_cbor_writer_t *wampdev_call_begin(wampdev_t *dev, const char *procedure, wampdev_result_fn fn, void *ctx,
                                          int payload_items)
{
    int i;
    wampdev_cbor_writer_t *w;
    if (!joined(dev) || !fn || !payload_ok(payload_items)) return NULL;
    for (i = 0; i < WAMPDEV_MAX_CALLS; i++)
        if (dev->calls[i].request == 0) break;
    if (i == WAMPDEV_MAX_CALLS) return NULL;
    dev->building_request = next_request(dev);
    dev->building_call = &dev->calls[i];
    dev->building_call->request = dev->building_request;
    dev->building_call->fn = fn;
    dev->building_call->ctx = ctx;
    w = begin(dev);
    wampdev_cbor_put_array(w, 4u + (size_t)payload_items);
    wampdev_cbor_put_uint(w, WAMPDEV_MSG_CALL);
    wampdev_cbor_put_uint(w, dev->building_request);
    empty_map(w);
    wampdev_cbor_put_text(w, procedure);
    return w;
}

wampdev_cbor_writer_t *wampdev_yield_begin(wampdev_t *dev, uint64_t request, int payload_items)
{
    wampdev_cbor_writer_t *w;
    if (!joined(dev) || !payload_ok(payload_items)) return NULL;
    dev->building_request = request;
    dev->building_call = NULL;
    w = begin(dev);
    wampdev_cbor_put_array(w, 3u + (size_t)payload_items);
    wampdev_cbor_put_uint(w, MSG_YIELD);
    wampdev_cbor_put_uint(w, request);
    empty_map(w);
    return w;
}

wampdev_cbor_writer_t *wampdev_error_begin(wampdev_t *dev, int request_type, uint64_t request, const char *error,
                                           int payload_items)
{
    wampdev_cbor_writer_t *w;
    if (!joined(dev) || !payload_ok(payload_items)) return NULL;
    dev->building_request = request;
    dev->building_call = NULL;
    w = begin(dev);
    wampdev_cbor_put_array(w, 5u + (size_t)payload_items);
    wampdev_cbor_put_uint(w, MSG_ERROR);
    wampdev_cbor_put_uint(w, (uint64_t)request_type);
    wampdev_cbor_put_uint(w, request);
    empty_map(w);
    wampdev_cbor_put_text(w, error);
    return w;
}

uint64_t wampdev_send(wampdev_t *dev)
{
    if (!dev->building) return 0;
    if (finish(dev) != 0) {
        if (dev->building_call) memset(dev->building_call, 0, sizeof *dev->building_call);
        dev->building_call = NULL;
        return 0;
    }
    dev->building_call = NULL;
    return dev->building_request;
}

/* ---- input ------------------------------------------------------------------------------ */

/* Copies a text item into a NUL-terminated buffer, truncating. */
static void copy_text(const wampdev_cbor_t *item, char *out, size_t cap)
{
    const char *s;
    size_t n = 0;
    if (wampdev_cbor_get_text(item, &s, &n) != 0) n = 0;
    if (n > cap - 1) n = cap - 1;
    if (n) memcpy(out, s, n);
    out[n] = 0;
}

/* Fields of a received message, by position. */
typedef struct {
    wampdev_cbor_t f[7];
    size_t n;
} fields_t;

static const wampdev_cbor_t *opt(const fields_t *m, size_t i) { return i < m->n ? &m->f[i] : NULL; }

static int id_at(const fields_t *m, size_t i, uint64_t *out)
{
    return i < m->n ? wampdev_cbor_get_uint(&m->f[i], out) : -1;
}

static int is_map_at(const fields_t *m, size_t i)
{
    return i < m->n && wampdev_cbor_type(&m->f[i]) == WAMPDEV_CBOR_MAP;
}

static void bad(wampdev_t *dev) { dev->stats.bad_messages++; }

static void handle_error(wampdev_t *dev, const fields_t *m)
{
    uint64_t type, req;
    char uri[WAMPDEV_MAX_URI];
    int i;
    if (m->n < 5 || id_at(m, 1, &type) != 0 || id_at(m, 2, &req) != 0) {
        bad(dev);
        return;
    }
    copy_text(&m->f[4], uri, sizeof uri);
    if (type == WAMPDEV_MSG_CALL) {
        for (i = 0; i < WAMPDEV_MAX_CALLS; i++) {
            if (dev->calls[i].request == req) {
                struct wampdev_call c = dev->calls[i];
                memset(&dev->calls[i], 0, sizeof dev->calls[i]);
                c.fn(dev, c.ctx, req, uri, opt(m, 5), opt(m, 6));
                return;
            }
        }
        return;
    }
    if (type == WAMPDEV_MSG_SUBSCRIBE)
        for (i = 0; i < WAMPDEV_MAX_SUBSCRIPTIONS; i++)
            if (dev->subs[i].fn && dev->subs[i].subscription == 0 && dev->subs[i].request == req)
                memset(&dev->subs[i], 0, sizeof dev->subs[i]);
    if (type == WAMPDEV_MSG_REGISTER)
        for (i = 0; i < WAMPDEV_MAX_REGISTRATIONS; i++)
            if (dev->regs[i].fn && dev->regs[i].registration == 0 && dev->regs[i].request == req)
                memset(&dev->regs[i], 0, sizeof dev->regs[i]);
    if (dev->cfg.on_error) dev->cfg.on_error(dev, dev->cfg.cb_ctx, (int)type, req, uri);
}

static void handle_session_message(wampdev_t *dev, uint64_t type, const fields_t *m)
{
    uint64_t a, b;
    int i, found = 0;
    switch (type) {
    case MSG_ERROR:
        handle_error(dev, m);
        return;
    case MSG_PUBLISHED:
        if (id_at(m, 1, &a) != 0 || id_at(m, 2, &b) != 0) break;
        if (dev->cfg.on_published) dev->cfg.on_published(dev, dev->cfg.cb_ctx, a, b);
        return;
    case MSG_SUBSCRIBED:
        if (id_at(m, 1, &a) != 0 || id_at(m, 2, &b) != 0) break;
        for (i = 0; i < WAMPDEV_MAX_SUBSCRIPTIONS; i++)
            if (dev->subs[i].fn && dev->subs[i].subscription == 0 && dev->subs[i].request == a) dev->subs[i].subscription = b;
        if (dev->cfg.on_subscribed) dev->cfg.on_subscribed(dev, dev->cfg.cb_ctx, a, b);
        return;
    case MSG_REGISTERED:
        if (id_at(m, 1, &a) != 0 || id_at(m, 2, &b) != 0) break;
        for (i = 0; i < WAMPDEV_MAX_REGISTRATIONS; i++)
            if (dev->regs[i].fn && dev->regs[i].registration == 0 && dev->regs[i].request == a) dev->regs[i].registration = b;
        if (dev->cfg.on_registered) dev->cfg.on_registered(dev, dev->cfg.cb_ctx, a, b);
        return;
    case MSG_UNSUBSCRIBED:
    case MSG_UNREGISTERED: {
        /* Router-initiated (request 0, details names the ID): forget the slot. */
        wampdev_cbor_t v;
        const char *key = type == MSG_UNSUBSCRIBED ? "subscription" : "registration";
        if (is_map_at(m, 2) && wampdev_cbor_map_get(&m->f[2], key, &v) == 0 && wampdev_cbor_get_uint(&v, &b) == 0) {
            if (type == MSG_UNSUBSCRIBED) {
                for (i = 0; i < WAMPDEV_MAX_SUBSCRIPTIONS; i++)
                    if (dev->subs[i].subscription == b) memset(&dev->subs[i], 0, sizeof dev->subs[i]);
            } else {
                for (i = 0; i < WAMPDEV_MAX_REGISTRATIONS; i++)
                    if (dev->regs[i].registration == b) memset(&dev->regs[i], 0, sizeof dev->regs[i]);
            }
        }
        return;
    }
    case MSG_EVENT:
        if (id_at(m, 1, &a) != 0 || !is_map_at(m, 3)) break;
        /* Several local subscriptions to one topic share the router's subscription ID. */
        for (i = 0; i < WAMPDEV_MAX_SUBSCRIPTIONS; i++)
            if (dev->subs[i].fn && dev->subs[i].subscription == a)
                dev->subs[i].fn(dev, dev->subs[i].ctx, a, &m->f[3], opt(m, 4), opt(m, 5));
        return;
    case MSG_RESULT:
        if (id_at(m, 1, &a) != 0 || !is_map_at(m, 2)) break;
        for (i = 0; i < WAMPDEV_MAX_CALLS; i++) {
            if (dev->calls[i].request == a) {
                struct wampdev_call c = dev->calls[i];
                memset(&dev->calls[i], 0, sizeof dev->calls[i]);
                c.fn(dev, c.ctx, a, NULL, opt(m, 3), opt(m, 4));
                break;
            }
        }
        return;
    case WAMPDEV_MSG_INVOCATION:
        if (id_at(m, 1, &a) != 0 || id_at(m, 2, &b) != 0 || !is_map_at(m, 3)) break;
        for (i = 0; i < WAMPDEV_MAX_REGISTRATIONS; i++) {
            if (dev->regs[i].fn && dev->regs[i].registration == b) {
                dev->regs[i].fn(dev, dev->regs[i].ctx, a, &m->f[3], opt(m, 4), opt(m, 5));
                found = 1;
                break;
            }
        }
        /* A caller is waiting: never leave an invocation unanswered. */
        if (!found && wampdev_error_begin(dev, WAMPDEV_MSG_INVOCATION, a, "wamp.error.no_such_registration", 0))
            (void)wampdev_send(dev);
        return;
    default:
        return; /* INTERRUPT and anything newer: ignored */
    }
    bad(dev);
}

static void welcome(wampdev_t *dev, uint64_t session)
{
    dev->session = session;
    dev->state = WAMPDEV_STATE_JOINED;
    dev->state_since_ms = dev->now_ms;
    dev->next_request = 0;
    if (dev->cfg.on_join) dev->cfg.on_join(dev, dev->cfg.cb_ctx, dev->session);
}

static void handle_message(wampdev_t *dev, const wampdev_cbor_t *msg)
{
    fields_t m;
    wampdev_cbor_iter_t it;
    uint64_t type;
    char uri[WAMPDEV_MAX_URI];
    if (wampdev_cbor_type(msg) != WAMPDEV_CBOR_ARRAY || wampdev_cbor_enter(msg, &it) != 0) {
        bad(dev);
        return;
    }
    m.n = 0;
    while (m.n < 7 && wampdev_cbor_next(&it, &m.f[m.n]) == 0) m.n++;
    if (m.n == 0 || wampdev_cbor_get_uint(&m.f[0], &type) != 0) {
        bad(dev);
        return;
    }
    switch (type) {
    case MSG_WELCOME: {
        uint64_t session;
        if (dev->state != WAMPDEV_STATE_JOINING) return;
        if (id_at(&m, 1, &session) != 0) {
            bad(dev);
            return;
        }
        welcome(dev, session);
        return;
    }
    case MSG_ABORT:
        if (m.n < 3) {
            bad(dev);
            return;
        }
        copy_text(&m.f[2], uri, sizeof uri);
        if (dev->state != WAMPDEV_STATE_IDLE) end_session(dev, uri);
        return;
    case MSG_CHALLENGE:
        if (dev->state != WAMPDEV_STATE_JOINING) return;
        if (dev->cfg.ticket && m.n >= 2 && wampdev_cbor_text_equals(&m.f[1], "ticket")) {
            wampdev_cbor_writer_t *w = begin(dev);
            wampdev_cbor_put_array(w, 3);
            wampdev_cbor_put_uint(w, MSG_AUTHENTICATE);
            wampdev_cbor_put_text(w, dev->cfg.ticket);
            empty_map(w);
            (void)finish(dev);
            return;
        }
        /* Any other method (or no ticket configured): on a serial port the gateway's port
         * config names the authid, so a challenge means a misconfigured port. */
        {
            wampdev_cbor_writer_t *w = begin(dev);
            wampdev_cbor_put_array(w, 3);
            wampdev_cbor_put_uint(w, MSG_ABORT);
            empty_map(w);
            wampdev_cbor_put_text_P(w, WAMPDEV_P("wamp.error.no_auth_method"));
            (void)finish(dev);
            end_session(dev, "wamp.error.no_auth_method");
        }
        return;
    case MSG_GOODBYE:
        if (m.n < 3) {
            bad(dev);
            return;
        }
        copy_text(&m.f[2], uri, sizeof uri);
        if (dev->state == WAMPDEV_STATE_JOINED) {
            send_goodbye(dev, "wamp.close.goodbye_and_out");
            end_session(dev, uri);
        } else if (dev->state == WAMPDEV_STATE_LEAVING) {
            end_session(dev, uri);
        }
        return;
    default:
        if (dev->state == WAMPDEV_STATE_JOINED) handle_session_message(dev, type, &m);
        return;
    }
}

/* A received message that overflowed rx_buf. Only a WELCOME is of use then: a router's WELCOME
 * lists all its features (wampgate's is ~560 bytes) and the device needs only the session ID at
 * its head, [2, session, {...: so a small device can join without a big rx buffer. The rest
 * (details) is dropped. Anything else is counted as oversized. */
static void overflowed(wampdev_t *dev)
{
    const uint8_t *p = dev->cfg.rx_buf;
    size_t n = 1;
    wampdev_cbor_t v;
    uint64_t session;
    if (dev->state == WAMPDEV_STATE_JOINING && p[0] == 0x83 && p[1] == MSG_WELCOME) {
        uint8_t h = p[2], ai = h & 31u;
        if (h < 0x20) n = ai < 24 ? 1 : ai == 24 ? 2 : ai == 25 ? 3 : ai == 26 ? 5 : ai == 27 ? 9 : 0;
        else n = h == 0xfb ? 9 : h == 0xfa ? 5 : h == 0xf9 ? 3 : 0; /* an ID as float (cbor-x) */
        if (n && 2 + n <= dev->rx_len && wampdev_cbor_parse(p + 2, n, 1, &v) == 0 && wampdev_cbor_get_uint(&v, &session) == 0) {
            dev->stats.frames_in++;
            welcome(dev, session);
            return;
        }
    }
    dev->stats.oversized++;
}

static void deliver(wampdev_t *dev, size_t len)
{
    wampdev_cbor_t msg;
    dev->stats.frames_in++;
    if (wampdev_cbor_parse(dev->cfg.rx_buf, len, WAMPDEV_MAX_DEPTH, &msg) != 0) {
        bad(dev);
        return;
    }
    handle_message(dev, &msg);
}

static void rx_reset(wampdev_t *dev)
{
    dev->rx_len = 0;
    dev->rx_total = 0;
    dev->rx_cobs_left = 0;
    dev->rx_cobs_code = 0;
}

/* One decoded byte of the current frame: kept in rx_buf while it fits. Past that (serial), the
 * CRC runs over all but the last 4 bytes, which wait in rx_tail as the possible CRC. */
static void rx_byte(wampdev_t *dev, uint8_t b)
{
    if (dev->rx_len < dev->cfg.rx_cap) {
        dev->cfg.rx_buf[dev->rx_len++] = b;
    } else if (!rawsocket(dev)) {
        uint8_t k;
        if (dev->rx_total == dev->rx_len) {
            dev->rx_crc = wampdev_crc32(0, dev->cfg.rx_buf, dev->rx_len - 4);
            memcpy(dev->rx_tail, dev->cfg.rx_buf + dev->rx_len - 4, 4);
        }
        k = (uint8_t)((dev->rx_total - dev->rx_len) & 3u); /* the oldest byte of the window */
        dev->rx_crc = wampdev_crc32(dev->rx_crc, &dev->rx_tail[k], 1);
        dev->rx_tail[k] = b;
    }
    dev->rx_total++;
}

static uint32_t le32(const uint8_t *a, uint8_t first)
{
    return (uint32_t)a[first & 3u] | ((uint32_t)a[(first + 1u) & 3u] << 8) | ((uint32_t)a[(first + 2u) & 3u] << 16) |
           ((uint32_t)a[(first + 3u) & 3u] << 24);
}

static void serial_end_of_frame(wampdev_t *dev)
{
    size_t len;
    if (dev->rx_total > dev->rx_len) {
        /* Overflowed: usable only if whole and intact (and a WELCOME, see overflowed()). */
        if (dev->rx_cobs_left == 0 && le32(dev->rx_tail, (uint8_t)((dev->rx_total - dev->rx_len) & 3u)) == dev->rx_crc)
            overflowed(dev);
        else
            dev->stats.oversized++;
        return;
    }
    if (dev->rx_cobs_left != 0) { /* the last block's code byte points past the delimiter */
        dev->stats.cobs_errors++;
        return;
    }
    if (dev->rx_len < 5) {
        dev->stats.crc_errors++;
        return;
    }
    len = dev->rx_len - 4;
    if (le32(dev->cfg.rx_buf + len, 0) != wampdev_crc32(0, dev->cfg.rx_buf, len)) {
        dev->stats.crc_errors++;
        return;
    }
    deliver(dev, len);
}

/* Serial frame mode: 0x00 ends a frame; COBS is undone byte by byte. */
static void serial_feed(wampdev_t *dev, uint8_t b)
{
    if (b == 0) {
        /* Empty frames are leading delimiters: not errors. */
        if (dev->rx_synced && dev->rx_cobs_code != 0) serial_end_of_frame(dev);
        rx_reset(dev);
        dev->rx_synced = 1;
    } else if (!dev->rx_synced) {
        return;
    } else if (dev->rx_cobs_left == 0) {
        /* A code byte: the block before it ended with an implied zero unless it was a full
         * 254-byte run. */
        if (dev->rx_cobs_code != 0 && dev->rx_cobs_code != 0xFF) rx_byte(dev, 0);
        dev->rx_cobs_code = b;
        dev->rx_cobs_left = (uint8_t)(b - 1);
    } else {
        rx_byte(dev, b);
        dev->rx_cobs_left--;
    }
}

static void rs_end_of_frame(wampdev_t *dev)
{
    uint8_t type = dev->rs_hdr[0];
    dev->rs_hdr_len = 0;
    if (type == RS_FRAME_MESSAGE) {
        if (dev->rx_total > dev->rx_len) overflowed(dev);
        else deliver(dev, dev->rx_len);
    } else if (type == RS_FRAME_PING) {
        /* PONG echoes the payload (from rx_buf: tx_buf may hold a message being built). */
        if (dev->rx_total > dev->rx_len) {
            dev->stats.oversized++;
            return;
        }
        write_rs_header(dev, RS_FRAME_PONG, (uint32_t)dev->rx_len);
        if (dev->rx_len) dev->cfg.write(dev->cfg.write_ctx, dev->cfg.rx_buf, dev->rx_len);
        dev->stats.pings++;
    } else if (type != RS_FRAME_PONG) {
        bad(dev); /* reserved bits or an unknown frame type: skipped by its length */
    }
}

static void rs_handshake_reply(wampdev_t *dev)
{
    const uint8_t *h = dev->rs_hdr;
    dev->rs_hdr_len = 0;
    if (h[0] != 0x7F || (h[1] & 0x0Fu) != RS_SERIALIZER_CBOR || h[2] != 0 || h[3] != 0) {
        /* An error reply (serializer 0: h[1] >> 4 is the error code) or not RawSocket at all. */
        dev->rs_state = RS_REFUSED;
        dev->stats.bad_messages++;
        if (dev->state != WAMPDEV_STATE_IDLE) end_session(dev, "wampdev.rawsocket.refused");
        return;
    }
    dev->rs_max_exp = (uint8_t)(h[1] >> 4);
    dev->rs_state = RS_READY;
    if (dev->want_session && dev->state == WAMPDEV_STATE_JOINING) send_hello(dev);
}

static void rawsocket_feed(wampdev_t *dev, uint8_t b)
{
    if (dev->rs_state == RS_HANDSHAKE) {
        dev->rs_hdr[dev->rs_hdr_len++] = b;
        if (dev->rs_hdr_len == 4) rs_handshake_reply(dev);
    } else if (dev->rs_state == RS_READY) {
        if (dev->rs_hdr_len < 4) {
            dev->rs_hdr[dev->rs_hdr_len++] = b;
            if (dev->rs_hdr_len == 4) {
                dev->rs_len = ((uint32_t)dev->rs_hdr[1] << 16) | ((uint32_t)dev->rs_hdr[2] << 8) | dev->rs_hdr[3];
                rx_reset(dev);
                if (dev->rs_len == 0) rs_end_of_frame(dev);
            }
            return;
        }
        rx_byte(dev, b);
        if (dev->rx_total == dev->rs_len) rs_end_of_frame(dev);
    }
    /* RS_CLOSED / RS_REFUSED: nothing is expected until wampdev_connected(). */
}

void wampdev_feed(wampdev_t *dev, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        if (rawsocket(dev)) rawsocket_feed(dev, data[i]);
        else serial_feed(dev, data[i]);
    }
}

void wampdev_connected(wampdev_t *dev)
{
    /* A new connection is a new transport: a session on the old one is gone. */
    if (rawsocket(dev) && dev->state != WAMPDEV_STATE_IDLE && dev->state != WAMPDEV_STATE_JOINING)
        end_session(dev, "wampdev.transport_lost");
    rx_reset(dev);
    dev->rs_hdr_len = 0;
    if (!rawsocket(dev)) {
        dev->rx_synced = 1;
        return;
    }
    {
        /* Offer the largest length 2^(9+L) that rx_buf holds (at least 512: the minimum the
         * protocol has; longer messages are then skipped and counted). */
        uint8_t l = 0, hs[4];
        while (l < 15 && (1ul << (10 + l)) <= (unsigned long)dev->cfg.rx_cap) l++;
        hs[0] = 0x7F;
        hs[1] = (uint8_t)((l << 4) | RS_SERIALIZER_CBOR);
        hs[2] = 0;
        hs[3] = 0;
        dev->rs_state = RS_HANDSHAKE;
        dev->cfg.write(dev->cfg.write_ctx, hs, 4);
    }
    if (dev->want_session && dev->state == WAMPDEV_STATE_IDLE) {
        dev->state = WAMPDEV_STATE_JOINING;
        dev->state_since_ms = dev->now_ms;
    }
}

void wampdev_disconnected(wampdev_t *dev)
{
    rx_reset(dev);
    dev->rs_hdr_len = 0;
    dev->rs_state = RS_CLOSED;
    if (dev->state != WAMPDEV_STATE_IDLE) end_session(dev, "wampdev.transport_lost");
}
