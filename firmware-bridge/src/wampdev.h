/* wampdev: a tiny WAMP v2 client for a device on a UART, speaking wampgate's serial frame
 * mode (CBOR messages + CRC-32, COBS-framed, 0x00-delimited; docs/serial-frame-protocol.md).
 * Owns the session state machine, request tables and framing. Does not own the UART: the
 * application passes a write callback and feeds received bytes. No malloc: buffers are the
 * caller's, tables are fixed-size arrays inside wampdev_t (sizes below). */
#ifndef WAMPDEV_H
#define WAMPDEV_H

#include <stddef.h>
#include <stdint.h>

#include "wampdev_cbor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Table sizes: override with -D before including. Each slot costs ~24 bytes (AVR) to
 * ~32 bytes (64-bit). */
#ifndef WAMPDEV_MAX_SUBSCRIPTIONS
#define WAMPDEV_MAX_SUBSCRIPTIONS 4
#endif
#ifndef WAMPDEV_MAX_REGISTRATIONS
#define WAMPDEV_MAX_REGISTRATIONS 4
#endif
#ifndef WAMPDEV_MAX_CALLS
#define WAMPDEV_MAX_CALLS 2
#endif
/* Deepest CBOR nesting accepted in a received message (the message array is depth 1). */
#ifndef WAMPDEV_MAX_DEPTH
#define WAMPDEV_MAX_DEPTH 8
#endif

/* rx buffer size needed to receive messages of up to n CBOR bytes: frames are COBS-decoded as
 * they arrive, so only the CRC is extra (RawSocket needs n; the 4 bytes then go unused). */
#define WAMPDEV_RX_BUF_SIZE(n) ((n) + 4u)
/* tx buffer size needed to send messages of up to n CBOR bytes (the CRC is appended there). */
#define WAMPDEV_TX_BUF_SIZE(n) ((n) + 4u)

/* WAMP message codes used in callbacks (spec: "Message Codes and Direction"). */
#define WAMPDEV_MSG_PUBLISH 16
#define WAMPDEV_MSG_SUBSCRIBE 32
#define WAMPDEV_MSG_UNSUBSCRIBE 34
#define WAMPDEV_MSG_CALL 48
#define WAMPDEV_MSG_REGISTER 64
#define WAMPDEV_MSG_UNREGISTER 66
#define WAMPDEV_MSG_INVOCATION 68

/* How messages travel (config.framing). */
#define WAMPDEV_FRAMING_SERIAL 0    /* wampgate serial frame mode: CBOR + CRC-32, COBS, 0x00-delimited */
#define WAMPDEV_FRAMING_RAWSOCKET 1 /* WAMP RawSocket over a byte stream (TCP): handshake, 4-byte headers */

#define WAMPDEV_STATE_IDLE 0    /* no session; rejoins after rejoin_ms if join() was called */
#define WAMPDEV_STATE_JOINING 1 /* HELLO sent, waiting for WELCOME (resent every hello_retry_ms) */
#define WAMPDEV_STATE_JOINED 2
#define WAMPDEV_STATE_LEAVING 3 /* GOODBYE sent, waiting for the router's GOODBYE */

typedef struct wampdev wampdev_t;

/* Writes bytes to the UART. May be called several times per frame. */
typedef void (*wampdev_write_fn)(void *ctx, const uint8_t *data, size_t len);

/* args/kwargs are NULL when absent; details always points to a map. All views die when the
 * callback returns (they point into the rx buffer). */
typedef void (*wampdev_event_fn)(wampdev_t *dev, void *ctx, uint64_t subscription, const wampdev_cbor_t *details,
                                 const wampdev_cbor_t *args, const wampdev_cbor_t *kwargs);
/* Reply with wampdev_yield_begin/wampdev_error_begin + wampdev_send, now or later, with
 * `request`. */
typedef void (*wampdev_invocation_fn)(wampdev_t *dev, void *ctx, uint64_t request, const wampdev_cbor_t *details,
                                      const wampdev_cbor_t *args, const wampdev_cbor_t *kwargs);
/* error is NULL for a RESULT, else the error URI (NUL-terminated copy, valid in the call). */
typedef void (*wampdev_result_fn)(wampdev_t *dev, void *ctx, uint64_t request, const char *error,
                                  const wampdev_cbor_t *args, const wampdev_cbor_t *kwargs);

typedef struct {
    /* Required. */
    wampdev_write_fn write;
    void *write_ctx;
    uint8_t *rx_buf; /* WAMPDEV_RX_BUF_SIZE(max CBOR message received) */
    size_t rx_cap;
    uint8_t *tx_buf; /* WAMPDEV_TX_BUF_SIZE(max CBOR message sent) */
    size_t tx_cap;
    /* Optional (0/NULL = default/none). */
    const char *authid;     /* sent in HELLO details when set; the gateway's port config usually decides it */
    const char *ticket;     /* when set, HELLO offers authmethods ["ticket"] and CHALLENGE "ticket" is
                             * answered with it (RawSocket devices; over serial the port decides) */
    uint8_t framing;        /* WAMPDEV_FRAMING_SERIAL (default) or WAMPDEV_FRAMING_RAWSOCKET */
    const char *agent;      /* default "wampdev/0.1" */
    uint32_t hello_retry_ms; /* default 2000 */
    uint32_t rejoin_ms;      /* default 3000; after ABORT/GOODBYE, rejoin the last realm */
    void *cb_ctx;
    void (*on_join)(wampdev_t *dev, void *ctx, uint64_t session);
    /* Session ended (ABORT, GOODBYE either way); reason is the URI. Subscriptions and
     * registrations are forgotten: on_join should make them again. */
    void (*on_leave)(wampdev_t *dev, void *ctx, const char *reason);
    /* ERROR for SUBSCRIBE, REGISTER, PUBLISH, UNSUBSCRIBE, UNREGISTER (CALL errors go to the
     * call's result callback). */
    void (*on_error)(wampdev_t *dev, void *ctx, int request_type, uint64_t request, const char *error);
    /* SUBSCRIBED / REGISTERED: id is the subscription / registration ID. */
    void (*on_subscribed)(wampdev_t *dev, void *ctx, uint64_t request, uint64_t subscription);
    void (*on_registered)(wampdev_t *dev, void *ctx, uint64_t request, uint64_t registration);
    void (*on_published)(wampdev_t *dev, void *ctx, uint64_t request, uint64_t publication);
} wampdev_config_t;

typedef struct {
    uint32_t frames_in;
    uint32_t frames_out;
    uint32_t crc_errors;
    uint32_t cobs_errors;
    uint32_t oversized;
    uint32_t bad_messages; /* framed correctly but not a WAMP message we understand (RawSocket:
                            * also a frame header with an unknown type) */
    uint32_t tx_overflow;  /* messages that did not fit tx_buf (or the router's RawSocket limit), not sent */
    uint32_t pings;        /* RawSocket PINGs answered */
} wampdev_stats_t;

struct wampdev_sub {
    uint64_t request;      /* SUBSCRIBE request while pending */
    uint64_t subscription; /* 0 until SUBSCRIBED */
    wampdev_event_fn fn;
    void *ctx;
};
struct wampdev_reg {
    uint64_t request;
    uint64_t registration;
    wampdev_invocation_fn fn;
    void *ctx;
};
struct wampdev_call {
    uint64_t request; /* 0 = free */
    wampdev_result_fn fn;
    void *ctx;
};

/* Opaque in spirit; public so it can be allocated statically. */
struct wampdev {
    wampdev_config_t cfg;
    wampdev_cbor_writer_t w;
    size_t rx_len;      /* decoded bytes of the current frame kept in rx_buf */
    uint32_t rx_total;  /* decoded bytes of the current frame (more than rx_len once it overflows) */
    uint32_t rx_crc;    /* serial: CRC of an overflowing frame's bytes, all but rx_tail */
    uint8_t rx_tail[4]; /* serial: the last 4 bytes of an overflowing frame (its CRC at the end) */
    uint8_t rx_synced;  /* serial: a delimiter has been seen: bytes before it were a partial frame */
    uint8_t rx_cobs_left; /* serial: bytes left in the current COBS block (0: next is a code byte) */
    uint8_t rx_cobs_code; /* serial: the current block's code byte (0: none yet in this frame) */
    uint8_t rs_state;   /* RawSocket: WAMPDEV_RS_* */
    uint8_t rs_hdr_len; /* RawSocket: header bytes received (handshake reply or frame header) */
    uint8_t rs_hdr[4];
    uint8_t rs_max_exp; /* RawSocket: the router accepts messages of up to 2^(9+rs_max_exp) bytes */
    uint32_t rs_len;    /* RawSocket: payload length of the current frame */
    uint8_t state;
    uint8_t building;   /* between a *_begin and wampdev_send */
    uint8_t want_session; /* join() called and not left: rejoin after a close */
    const char *realm;
    uint64_t session;
    uint64_t next_request;
    uint32_t now_ms;
    uint32_t state_since_ms;
    wampdev_stats_t stats;
    uint64_t building_request;          /* returned by wampdev_send */
    struct wampdev_call *building_call; /* freed if the CALL being built does not fit */
    struct wampdev_sub subs[WAMPDEV_MAX_SUBSCRIPTIONS];
    struct wampdev_reg regs[WAMPDEV_MAX_REGISTRATIONS];
    struct wampdev_call calls[WAMPDEV_MAX_CALLS];
};

/* RawSocket: the TCP connection is up: resets the receive state and sends the handshake; the
 * HELLO follows the router's reply if join() was called. Serial: resynchronises the receiver.
 * Call after every (re)connect. */
void wampdev_connected(wampdev_t *dev);
/* The byte stream broke (TCP closed, port gone): ends the session at once (on_leave with
 * "wampdev.transport_lost"); joining resumes after the next wampdev_connected (RawSocket) or
 * rejoin_ms (serial). */
void wampdev_disconnected(wampdev_t *dev);

/* Returns 0, or -1 if a required field is missing or a buffer is too small (rx_cap < 16,
 * tx_cap < 64). */
int wampdev_init(wampdev_t *dev, const wampdev_config_t *cfg);

/* Feeds bytes received from the UART, in any pieces. Callbacks run from inside this call. */
void wampdev_feed(wampdev_t *dev, const uint8_t *data, size_t len);

/* Call often (every loop) with a millisecond clock; drives HELLO retry and rejoin. */
void wampdev_tick(wampdev_t *dev, uint32_t now_ms);

/* Starts a session on `realm` (the string must outlive the session). Returns 0 or -1. */
int wampdev_join(wampdev_t *dev, const char *realm);
/* Sends GOODBYE and stops rejoining. */
int wampdev_leave(wampdev_t *dev, const char *reason);
int wampdev_state(const wampdev_t *dev);
uint64_t wampdev_session(const wampdev_t *dev);
const wampdev_stats_t *wampdev_stats(const wampdev_t *dev);

/* Returns the request ID (> 0), or 0 if not joined, the table is full or the message did not
 * fit. The topic/procedure strings are copied into the message at once. */
uint64_t wampdev_subscribe(wampdev_t *dev, const char *topic, wampdev_event_fn fn, void *ctx);
uint64_t wampdev_unsubscribe(wampdev_t *dev, uint64_t subscription);
uint64_t wampdev_register(wampdev_t *dev, const char *procedure, wampdev_invocation_fn fn, void *ctx);
uint64_t wampdev_unregister(wampdev_t *dev, uint64_t registration);

/* Message builders: *_begin writes the message head into tx_buf and returns a writer for the
 * payload; the application writes exactly `payload_items` items (0: none, 1: an args array,
 * 2: an args array then a kwargs map) and calls wampdev_send. NULL if not joined (or busy).
 * Example: w = wampdev_publish_begin(dev, "sensor.temp", 0, 1);
 *          wampdev_cbor_put_array(w, 1); wampdev_cbor_put_double(w, 21.5); wampdev_send(dev); */
wampdev_cbor_writer_t *wampdev_publish_begin(wampdev_t *dev, const char *topic, int acknowledge, int payload_items);
wampdev_cbor_writer_t *wampdev_call_begin(wampdev_t *dev, const char *procedure, wampdev_result_fn fn, void *ctx,
                                          int payload_items);
wampdev_cbor_writer_t *wampdev_yield_begin(wampdev_t *dev, uint64_t request, int payload_items);
wampdev_cbor_writer_t *wampdev_error_begin(wampdev_t *dev, int request_type, uint64_t request, const char *error,
                                           int payload_items);
/* Frames and writes the message begun last. Returns its request ID (the INVOCATION's for a
 * YIELD/ERROR), or 0 if it did not fit tx_buf (counted in stats.tx_overflow; a CALL's slot
 * is freed). */
uint64_t wampdev_send(wampdev_t *dev);

#ifdef __cplusplus
}
#endif

#endif
