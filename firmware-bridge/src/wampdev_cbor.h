/* Minimal CBOR (RFC 8949) for WAMP messages: a writer into a caller's buffer and a read-only,
 * zero-copy view over a received buffer. Covers uint/negint, byte and text strings, arrays,
 * maps, bool, null, float16/32/64 decode and float64 (or 32) encode. Not covered: indefinite
 * lengths (rejected), bignums, and tags other than skipping over them. No malloc, no recursion. */
#ifndef WAMPDEV_CBOR_H
#define WAMPDEV_CBOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- writer ---------------------------------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int overflow; /* set once anything did not fit; later writes are ignored */
} wampdev_cbor_writer_t;

void wampdev_cbor_writer_init(wampdev_cbor_writer_t *w, uint8_t *buf, size_t cap);
void wampdev_cbor_put_uint(wampdev_cbor_writer_t *w, uint64_t v);
void wampdev_cbor_put_int(wampdev_cbor_writer_t *w, int64_t v);
void wampdev_cbor_put_bool(wampdev_cbor_writer_t *w, int v);
void wampdev_cbor_put_null(wampdev_cbor_writer_t *w);
/* float64, or float32 where double is 32 bits (AVR). */
void wampdev_cbor_put_double(wampdev_cbor_writer_t *w, double v);
void wampdev_cbor_put_float(wampdev_cbor_writer_t *w, float v);
/* NUL-terminated text; a NULL pointer is written as an empty string. */
void wampdev_cbor_put_text(wampdev_cbor_writer_t *w, const char *s);
/* A text string from program memory: on AVR, where string literals otherwise take RAM, write
 * wampdev_cbor_put_text_P(w, WAMPDEV_P("key")) and the literal stays in flash. Elsewhere it is
 * wampdev_cbor_put_text. */
#ifdef __AVR__
#include <avr/pgmspace.h>
#define WAMPDEV_P(s) PSTR(s)
void wampdev_cbor_put_text_P(wampdev_cbor_writer_t *w, const char *flash_str);
#else
#define WAMPDEV_P(s) (s)
#define wampdev_cbor_put_text_P wampdev_cbor_put_text
#endif
void wampdev_cbor_put_textn(wampdev_cbor_writer_t *w, const char *s, size_t len);
void wampdev_cbor_put_bytes(wampdev_cbor_writer_t *w, const uint8_t *b, size_t len);
/* Headers only: the caller then writes exactly n items (2n for a map: key, value, ...). */
void wampdev_cbor_put_array(wampdev_cbor_writer_t *w, size_t n);
void wampdev_cbor_put_map(wampdev_cbor_writer_t *w, size_t n);
/* Copies one already-encoded item (e.g. a received args view) verbatim. */
void wampdev_cbor_put_raw(wampdev_cbor_writer_t *w, const uint8_t *item, size_t len);

/* ---- reader ---------------------------------------------------------------------------- */

#define WAMPDEV_CBOR_INVALID 0
#define WAMPDEV_CBOR_UINT 1
#define WAMPDEV_CBOR_NEGINT 2
#define WAMPDEV_CBOR_BYTES 3
#define WAMPDEV_CBOR_TEXT 4
#define WAMPDEV_CBOR_ARRAY 5
#define WAMPDEV_CBOR_MAP 6
#define WAMPDEV_CBOR_BOOL 7
#define WAMPDEV_CBOR_NULL 8
#define WAMPDEV_CBOR_UNDEFINED 9
#define WAMPDEV_CBOR_FLOAT 10

/* A view of one item: p is its first byte, end bounds the buffer it lives in. Views are valid
 * only while that buffer is (for callbacks: until the callback returns). */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} wampdev_cbor_t;

/* Checks that buf[0..len) is exactly one well-formed item, nested at most max_depth deep,
 * and sets *item to it. Returns 0 or -1. Run it once on input; the accessors then stay within
 * bounds anyway but cannot fail in surprising ways. */
int wampdev_cbor_parse(const uint8_t *buf, size_t len, unsigned max_depth, wampdev_cbor_t *item);

int wampdev_cbor_type(const wampdev_cbor_t *item);
/* Encoded size of the item (to copy it with put_raw), 0 if malformed. */
size_t wampdev_cbor_size(const wampdev_cbor_t *item);

/* Getters return 0 on success, -1 on a type mismatch or out-of-range value. */
/* Integers; an integral float is accepted too (some encoders, cbor-x among them, send
 * integers above 2^32 as float64, so WAMP IDs may arrive that way). */
int wampdev_cbor_get_uint(const wampdev_cbor_t *item, uint64_t *out);
int wampdev_cbor_get_int(const wampdev_cbor_t *item, int64_t *out);
/* Any number (int or float16/32/64). */
int wampdev_cbor_get_double(const wampdev_cbor_t *item, double *out);
int wampdev_cbor_get_bool(const wampdev_cbor_t *item, int *out);
int wampdev_cbor_is_null(const wampdev_cbor_t *item);
/* Text is not NUL-terminated: use the length. */
int wampdev_cbor_get_text(const wampdev_cbor_t *item, const char **s, size_t *len);
int wampdev_cbor_text_equals(const wampdev_cbor_t *item, const char *s);
int wampdev_cbor_get_bytes(const wampdev_cbor_t *item, const uint8_t **b, size_t *len);

/* Number of elements of an array, or of key/value pairs of a map; 0 for anything else. */
size_t wampdev_cbor_count(const wampdev_cbor_t *item);
/* Element i of an array. Returns 0 or -1. */
int wampdev_cbor_array_at(const wampdev_cbor_t *array, size_t i, wampdev_cbor_t *out);
/* Value under a text key in a map. Returns 0 or -1 (absent). */
int wampdev_cbor_map_get(const wampdev_cbor_t *map, const char *key, wampdev_cbor_t *out);

/* Iteration over an array's elements or a map's keys and values alternately. */
typedef struct {
    wampdev_cbor_t next;
    size_t remaining;
} wampdev_cbor_iter_t;
int wampdev_cbor_enter(const wampdev_cbor_t *container, wampdev_cbor_iter_t *it);
int wampdev_cbor_next(wampdev_cbor_iter_t *it, wampdev_cbor_t *out);

#ifdef __cplusplus
}
#endif

#endif
