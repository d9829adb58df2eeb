/* CBOR writer and bounds-checked reader. Skipping an item is iterative (a count of items still
 * to skip) so hostile nesting cannot overflow a small MCU stack; depth is checked separately
 * in wampdev_cbor_parse. */
#include "wampdev_cbor.h"

#include <math.h>
#include <string.h>

/* ---- writer ---------------------------------------------------------------------------- */

void wampdev_cbor_writer_init(wampdev_cbor_writer_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = 0;
}

static void put_bytes(wampdev_cbor_writer_t *w, const uint8_t *b, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = 1;
        return;
    }
    if (n) memcpy(w->buf + w->len, b, n);
    w->len += n;
}

static void put_head(wampdev_cbor_writer_t *w, uint8_t major, uint64_t v)
{
    uint8_t h[9];
    size_t n, i;
    if (v < 24u) {
        h[0] = (uint8_t)((major << 5) | (uint8_t)v);
        n = 1;
    } else {
        size_t width;
        uint8_t info;
        if (v <= 0xFFu) { width = 1; info = 24; }
        else if (v <= 0xFFFFu) { width = 2; info = 25; }
        else if (v <= 0xFFFFFFFFu) { width = 4; info = 26; }
        else { width = 8; info = 27; }
        h[0] = (uint8_t)((major << 5) | info);
        for (i = 0; i < width; i++) h[1 + i] = (uint8_t)(v >> (8u * (width - 1u - i)));
        n = 1 + width;
    }
    put_bytes(w, h, n);
}

void wampdev_cbor_put_uint(wampdev_cbor_writer_t *w, uint64_t v) { put_head(w, 0, v); }

void wampdev_cbor_put_int(wampdev_cbor_writer_t *w, int64_t v)
{
    if (v >= 0) put_head(w, 0, (uint64_t)v);
    else put_head(w, 1, (uint64_t)(-(v + 1))); /* -1 - v without overflowing at INT64_MIN */
}

void wampdev_cbor_put_bool(wampdev_cbor_writer_t *w, int v)
{
    uint8_t b = v ? 0xF5 : 0xF4;
    put_bytes(w, &b, 1);
}

void wampdev_cbor_put_null(wampdev_cbor_writer_t *w)
{
    uint8_t b = 0xF6;
    put_bytes(w, &b, 1);
}

void wampdev_cbor_put_float(wampdev_cbor_writer_t *w, float v)
{
    uint8_t h[5];
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    h[0] = 0xFA;
    h[1] = (uint8_t)(bits >> 24);
    h[2] = (uint8_t)(bits >> 16);
    h[3] = (uint8_t)(bits >> 8);
    h[4] = (uint8_t)bits;
    put_bytes(w, h, 5);
}

void wampdev_cbor_put_double(wampdev_cbor_writer_t *w, double v)
{
    if (sizeof(double) == 8) {
        uint8_t h[9];
        uint64_t bits;
        int i;
        memcpy(&bits, &v, sizeof bits);
        h[0] = 0xFB;
        for (i = 0; i < 8; i++) h[1 + i] = (uint8_t)(bits >> (8 * (7 - i)));
        put_bytes(w, h, 9);
    } else {
        wampdev_cbor_put_float(w, (float)v);
    }
}

void wampdev_cbor_put_textn(wampdev_cbor_writer_t *w, const char *s, size_t len)
{
    put_head(w, 3, len);
    put_bytes(w, (const uint8_t *)s, len);
}

void wampdev_cbor_put_text(wampdev_cbor_writer_t *w, const char *s)
{
    if (!s) s = "";
    wampdev_cbor_put_textn(w, s, strlen(s));
}

#ifdef __AVR__
void wampdev_cbor_put_text_P(wampdev_cbor_writer_t *w, const char *flash_str)
{
    size_t i, n = strlen_P(flash_str);
    put_head(w, 3, n);
    for (i = 0; i < n; i++) {
        uint8_t c = pgm_read_byte(flash_str + i);
        put_bytes(w, &c, 1);
    }
}
#endif

void wampdev_cbor_put_bytes(wampdev_cbor_writer_t *w, const uint8_t *b, size_t len)
{
    put_head(w, 2, len);
    put_bytes(w, b, len);
}

void wampdev_cbor_put_array(wampdev_cbor_writer_t *w, size_t n) { put_head(w, 4, n); }
void wampdev_cbor_put_map(wampdev_cbor_writer_t *w, size_t n) { put_head(w, 5, n); }
void wampdev_cbor_put_raw(wampdev_cbor_writer_t *w, const uint8_t *item, size_t len) { put_bytes(w, item, len); }

/* ---- reader ---------------------------------------------------------------------------- */

/* Reads the head at p: major type, argument, and where the content begins. Returns -1 on a
 * truncated head, reserved additional info, or an indefinite length. */
static int read_head(const uint8_t *p, const uint8_t *end, uint8_t *major, uint8_t *info, uint64_t *arg, const uint8_t **content)
{
    size_t width, i;
    if (p >= end) return -1;
    *major = (uint8_t)(p[0] >> 5);
    *info = (uint8_t)(p[0] & 0x1F);
    if (*info < 24) {
        *arg = *info;
        *content = p + 1;
        return 0;
    }
    if (*info > 27) return -1; /* 28..30 reserved, 31 indefinite / break: not supported */
    width = (size_t)1 << (*info - 24);
    if ((size_t)(end - p) < 1 + width) return -1;
    *arg = 0;
    for (i = 0; i < width; i++) *arg = (*arg << 8) | p[1 + i];
    *content = p + 1 + width;
    return 0;
}

/* Skips tags in front of an item, so accessors see the tagged value. */
static const uint8_t *untag(const uint8_t *p, const uint8_t *end)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    while (read_head(p, end, &major, &info, &arg, &c) == 0 && major == 6) p = c;
    return p;
}

/* Returns the first byte after `count` consecutive items starting at p, or NULL if malformed.
 * Depth is tracked with a small stack of pending counts, bounded by max_depth. */
static const uint8_t *skip_items(const uint8_t *p, const uint8_t *end, uint64_t count, unsigned max_depth)
{
    /* pending[d] = items still to read at depth d; fixed size so no recursion and no VLA. */
    uint64_t pending[17];
    unsigned depth = 0;
    if (max_depth > 16) max_depth = 16;
    pending[0] = count;
    for (;;) {
        uint8_t major, info;
        uint64_t arg;
        const uint8_t *c;
        while (pending[depth] == 0) {
            if (depth == 0) return p;
            depth--;
        }
        pending[depth]--;
        if (read_head(p, end, &major, &info, &arg, &c) != 0) return NULL;
        switch (major) {
        case 0:
        case 1:
            p = c;
            break;
        case 2:
        case 3:
            if (arg > (uint64_t)(end - c)) return NULL;
            p = c + arg;
            break;
        case 4:
        case 5:
            /* Every item is at least one byte: a count beyond what is left is malformed, and
             * this bound also keeps 2*arg from overflowing. */
            if (arg > (uint64_t)(end - c)) return NULL;
            if (depth >= max_depth) return NULL;
            pending[++depth] = major == 5 ? 2 * arg : arg;
            p = c;
            break;
        case 6:
            pending[depth]++; /* the tagged item follows */
            p = c;
            break;
        default: /* 7: simple values and floats; the head already covers their bytes */
            if (info == 24 && arg < 32) return NULL; /* two-byte encoding of a one-byte simple */
            p = c;
            break;
        }
    }
}

int wampdev_cbor_parse(const uint8_t *buf, size_t len, unsigned max_depth, wampdev_cbor_t *item)
{
    const uint8_t *end = buf + len;
    const uint8_t *after = skip_items(buf, end, 1, max_depth);
    if (after != end) return -1;
    item->p = buf;
    item->end = end;
    return 0;
}

size_t wampdev_cbor_size(const wampdev_cbor_t *item)
{
    const uint8_t *after = skip_items(item->p, item->end, 1, 16);
    return after ? (size_t)(after - item->p) : 0;
}

int wampdev_cbor_type(const wampdev_cbor_t *item)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    const uint8_t *p = untag(item->p, item->end);
    if (read_head(p, item->end, &major, &info, &arg, &c) != 0) return WAMPDEV_CBOR_INVALID;
    switch (major) {
    case 0: return WAMPDEV_CBOR_UINT;
    case 1: return WAMPDEV_CBOR_NEGINT;
    case 2: return WAMPDEV_CBOR_BYTES;
    case 3: return WAMPDEV_CBOR_TEXT;
    case 4: return WAMPDEV_CBOR_ARRAY;
    case 5: return WAMPDEV_CBOR_MAP;
    case 7:
        if (info == 20 || info == 21) return WAMPDEV_CBOR_BOOL;
        if (info == 22) return WAMPDEV_CBOR_NULL;
        if (info == 23) return WAMPDEV_CBOR_UNDEFINED;
        if (info >= 25 && info <= 27) return WAMPDEV_CBOR_FLOAT;
        return WAMPDEV_CBOR_INVALID;
    default: return WAMPDEV_CBOR_INVALID;
    }
}

/* Float bits to double without assuming double is 64 bits (it is 32 on AVR). */
static double bits_to_double(uint64_t mant, int exp, int bias, int mant_bits, int exp_max, int neg)
{
    double v;
    if (exp == 0) v = ldexp((double)mant, 1 - bias - mant_bits);
    else if (exp == exp_max) v = mant ? NAN : INFINITY;
    else v = ldexp((double)(mant + ((uint64_t)1 << mant_bits)), exp - bias - mant_bits);
    return neg ? -v : v;
}

static int get_float(const uint8_t *p, const uint8_t *end, double *out)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    if (read_head(p, end, &major, &info, &arg, &c) != 0 || major != 7) return -1;
    if (info == 25) {
        *out = bits_to_double(arg & 0x3FFu, (int)((arg >> 10) & 0x1Fu), 15, 10, 0x1F, (int)(arg >> 15));
    } else if (info == 26) {
        uint32_t bits = (uint32_t)arg;
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = f;
    } else if (info == 27) {
        if (sizeof(double) == 8) {
            double d;
            memcpy(&d, &arg, sizeof d);
            *out = d;
        } else {
            *out = bits_to_double(arg & 0xFFFFFFFFFFFFFull, (int)((arg >> 52) & 0x7FFu), 1023, 52, 0x7FF, (int)(arg >> 63));
        }
    } else {
        return -1;
    }
    return 0;
}

int wampdev_cbor_get_uint(const wampdev_cbor_t *item, uint64_t *out)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    const uint8_t *p = untag(item->p, item->end);
    double d;
    if (read_head(p, item->end, &major, &info, &arg, &c) != 0) return -1;
    if (major == 0) {
        *out = arg;
        return 0;
    }
    /* 2^53 is the largest WAMP ID and the largest integer every double holds exactly. */
    if (get_float(p, item->end, &d) == 0 && d >= 0 && d <= 9007199254740992.0 && floor(d) == d) {
        *out = (uint64_t)d;
        return 0;
    }
    return -1;
}

int wampdev_cbor_get_int(const wampdev_cbor_t *item, int64_t *out)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    const uint8_t *p = untag(item->p, item->end);
    double d;
    if (read_head(p, item->end, &major, &info, &arg, &c) != 0) return -1;
    if (major == 0 || major == 1) {
        if (arg > (uint64_t)INT64_MAX) return -1;
        *out = major == 0 ? (int64_t)arg : -1 - (int64_t)arg;
        return 0;
    }
    if (get_float(p, item->end, &d) == 0 && d >= -9007199254740992.0 && d <= 9007199254740992.0 && floor(d) == d) {
        *out = (int64_t)d;
        return 0;
    }
    return -1;
}

int wampdev_cbor_get_double(const wampdev_cbor_t *item, double *out)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    const uint8_t *p = untag(item->p, item->end);
    if (read_head(p, item->end, &major, &info, &arg, &c) != 0) return -1;
    if (major == 0) {
        *out = (double)arg;
        return 0;
    }
    if (major == 1) {
        *out = -1.0 - (double)arg;
        return 0;
    }
    return get_float(p, item->end, out);
}

int wampdev_cbor_get_bool(const wampdev_cbor_t *item, int *out)
{
    const uint8_t *p = untag(item->p, item->end);
    if (p >= item->end || (p[0] != 0xF4 && p[0] != 0xF5)) return -1;
    *out = p[0] == 0xF5;
    return 0;
}

int wampdev_cbor_is_null(const wampdev_cbor_t *item)
{
    const uint8_t *p = untag(item->p, item->end);
    return p < item->end && p[0] == 0xF6;
}

static int get_string(const wampdev_cbor_t *item, uint8_t want, const uint8_t **s, size_t *len)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    const uint8_t *p = untag(item->p, item->end);
    if (read_head(p, item->end, &major, &info, &arg, &c) != 0 || major != want) return -1;
    if (arg > (uint64_t)(item->end - c)) return -1;
    *s = c;
    *len = (size_t)arg;
    return 0;
}

int wampdev_cbor_get_text(const wampdev_cbor_t *item, const char **s, size_t *len)
{
    const uint8_t *b;
    if (get_string(item, 3, &b, len) != 0) return -1;
    *s = (const char *)b;
    return 0;
}

int wampdev_cbor_text_equals(const wampdev_cbor_t *item, const char *s)
{
    const char *t;
    size_t n;
    if (wampdev_cbor_get_text(item, &t, &n) != 0) return 0;
    return strlen(s) == n && memcmp(s, t, n) == 0;
}

int wampdev_cbor_get_bytes(const wampdev_cbor_t *item, const uint8_t **b, size_t *len)
{
    return get_string(item, 2, b, len);
}

int wampdev_cbor_enter(const wampdev_cbor_t *container, wampdev_cbor_iter_t *it)
{
    uint8_t major, info;
    uint64_t arg;
    const uint8_t *c;
    const uint8_t *p = untag(container->p, container->end);
    if (read_head(p, container->end, &major, &info, &arg, &c) != 0) return -1;
    if (major != 4 && major != 5) return -1;
    if (arg > (uint64_t)(container->end - c)) return -1;
    it->next.p = c;
    it->next.end = container->end;
    it->remaining = (size_t)(major == 5 ? 2 * arg : arg);
    return 0;
}

int wampdev_cbor_next(wampdev_cbor_iter_t *it, wampdev_cbor_t *out)
{
    const uint8_t *after;
    if (it->remaining == 0) return -1;
    after = skip_items(it->next.p, it->next.end, 1, 16);
    if (!after) {
        it->remaining = 0;
        return -1;
    }
    *out = it->next;
    it->next.p = after;
    it->remaining--;
    return 0;
}

size_t wampdev_cbor_count(const wampdev_cbor_t *item)
{
    wampdev_cbor_iter_t it;
    int map = wampdev_cbor_type(item) == WAMPDEV_CBOR_MAP;
    if (wampdev_cbor_enter(item, &it) != 0) return 0;
    return map ? it.remaining / 2 : it.remaining;
}

int wampdev_cbor_array_at(const wampdev_cbor_t *array, size_t i, wampdev_cbor_t *out)
{
    wampdev_cbor_iter_t it;
    wampdev_cbor_t v;
    if (wampdev_cbor_type(array) != WAMPDEV_CBOR_ARRAY || wampdev_cbor_enter(array, &it) != 0) return -1;
    if (i >= it.remaining) return -1;
    do {
        if (wampdev_cbor_next(&it, &v) != 0) return -1;
    } while (i--);
    *out = v;
    return 0;
}

int wampdev_cbor_map_get(const wampdev_cbor_t *map, const char *key, wampdev_cbor_t *out)
{
    wampdev_cbor_iter_t it;
    wampdev_cbor_t k, v;
    if (wampdev_cbor_type(map) != WAMPDEV_CBOR_MAP || wampdev_cbor_enter(map, &it) != 0) return -1;
    while (wampdev_cbor_next(&it, &k) == 0 && wampdev_cbor_next(&it, &v) == 0) {
        if (wampdev_cbor_text_equals(&k, key)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}
