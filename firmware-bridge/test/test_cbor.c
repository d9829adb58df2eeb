/* CBOR: the writer against bytes cbor-x produces for the same values, the reader on messages
 * cbor-x encoded (how wampgate sends them: 16-bit map heads, float64 for integers >= 2^32),
 * and malformed input. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "wampdev_cbor.h"

static uint8_t out[512], in[512];

static int writer_equals(const wampdev_cbor_writer_t *w, const char *want_hex)
{
    size_t n = hex(want_hex, in, sizeof in);
    return !w->overflow && w->len == n && memcmp(w->buf, in, n) == 0;
}

static void encoder_vectors(void)
{
    wampdev_cbor_writer_t w;
    const uint64_t uints[] = {0, 23, 24, 255, 256, 65535, 65536, 4294967295u};
    const int64_t negs[] = {-1, -24, -25, -256, -257, -65537};
    size_t i;

    wampdev_cbor_writer_init(&w, out, sizeof out);
    wampdev_cbor_put_array(&w, 8);
    for (i = 0; i < 8; i++) wampdev_cbor_put_uint(&w, uints[i]);
    CHECK(writer_equals(&w, "880017181818ff19010019ffff1a000100001affffffff"));

    wampdev_cbor_writer_init(&w, out, sizeof out);
    wampdev_cbor_put_array(&w, 6);
    for (i = 0; i < 6; i++) wampdev_cbor_put_int(&w, negs[i]);
    CHECK(writer_equals(&w, "862037381838ff3901003a00010000"));

    wampdev_cbor_writer_init(&w, out, sizeof out);
    wampdev_cbor_put_array(&w, 2);
    wampdev_cbor_put_double(&w, 0.1);
    wampdev_cbor_put_double(&w, 1e300);
    CHECK(writer_equals(&w, "82fb3fb999999999999afb7e37e43c8800759c"));

    wampdev_cbor_writer_init(&w, out, sizeof out);
    wampdev_cbor_put_text(&w, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK(writer_equals(&w, "781e616161616161616161616161616161616161616161616161616161616161"));

    /* true, null, bytes [1,2], {"a":1} with a short map head (cbor-x decodes both forms) */
    wampdev_cbor_writer_init(&w, out, sizeof out);
    wampdev_cbor_put_array(&w, 4);
    wampdev_cbor_put_bool(&w, 1);
    wampdev_cbor_put_null(&w);
    {
        const uint8_t b[] = {1, 2};
        wampdev_cbor_put_bytes(&w, b, 2);
    }
    wampdev_cbor_put_map(&w, 1);
    wampdev_cbor_put_text(&w, "a");
    wampdev_cbor_put_uint(&w, 1);
    CHECK(writer_equals(&w, "84f5f6420102a1616101"));

    /* 64-bit integers and the writer's overflow flag */
    wampdev_cbor_writer_init(&w, out, 9);
    wampdev_cbor_put_uint(&w, 1099511627776ull);
    CHECK(writer_equals(&w, "1b0000010000000000"));
    wampdev_cbor_put_uint(&w, 1);
    CHECK(w.overflow == 1 && w.len == 9);
}

static void decoder_vectors(void)
{
    wampdev_cbor_t msg, v, roles, x;
    wampdev_cbor_iter_t it;
    size_t n, len;
    uint64_t u;
    int64_t i64;
    double d;
    int b;
    const char *s;
    const uint8_t *bytes;

    /* cbor-x: [1,"realm1",{roles:{publisher:{},subscriber:{},caller:{},callee:{}},agent:"wampdev/0.1"}] */
    n = hex("8301667265616c6d31b9000265726f6c6573b90004697075626c6973686572b900006a737562736372696265"
            "72b900006663616c6c6572b900006663616c6c6565b90000656167656e746b77616d706465762f302e31",
            in, sizeof in);
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == 0);
    CHECK(wampdev_cbor_type(&msg) == WAMPDEV_CBOR_ARRAY && wampdev_cbor_count(&msg) == 3);
    CHECK(wampdev_cbor_array_at(&msg, 0, &v) == 0 && wampdev_cbor_get_uint(&v, &u) == 0 && u == 1);
    CHECK(wampdev_cbor_array_at(&msg, 1, &v) == 0 && wampdev_cbor_text_equals(&v, "realm1"));
    CHECK(wampdev_cbor_array_at(&msg, 2, &v) == 0 && wampdev_cbor_count(&v) == 2);
    CHECK(wampdev_cbor_map_get(&v, "roles", &roles) == 0 && wampdev_cbor_count(&roles) == 4);
    CHECK(wampdev_cbor_map_get(&roles, "callee", &x) == 0 && wampdev_cbor_type(&x) == WAMPDEV_CBOR_MAP);
    CHECK(wampdev_cbor_map_get(&roles, "broker", &x) == -1);
    CHECK(wampdev_cbor_map_get(&v, "agent", &x) == 0 && wampdev_cbor_get_text(&x, &s, &len) == 0 && len == 11 &&
          memcmp(s, "wampdev/0.1", 11) == 0);
    CHECK(wampdev_cbor_size(&msg) == n);
    CHECK(wampdev_cbor_array_at(&msg, 3, &v) == -1);

    /* WELCOME with a session ID cbor-x sent as float64 (4503599627370497 > 2^32) */
    n = hex("8302fb4330000000000001b9000165726f6c6573b900026662726f6b6572b90000666465616c6572b90000", in, sizeof in);
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == 0);
    CHECK(wampdev_cbor_array_at(&msg, 1, &v) == 0 && wampdev_cbor_type(&v) == WAMPDEV_CBOR_FLOAT);
    CHECK(wampdev_cbor_get_uint(&v, &u) == 0 && u == 4503599627370497ull);

    /* EVENT [36,5,6,{},[21.5,-3,"x",true,null,h'010203'],{k:1.5}] */
    n = hex("8618240506b9000086fb4035800000000000226178f5f643010203b90001616bfb3ff8000000000000", in, sizeof in);
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == 0);
    CHECK(wampdev_cbor_array_at(&msg, 4, &v) == 0 && wampdev_cbor_enter(&v, &it) == 0);
    CHECK(wampdev_cbor_next(&it, &x) == 0 && wampdev_cbor_get_double(&x, &d) == 0 && d == 21.5);
    CHECK(wampdev_cbor_get_int(&x, &i64) == -1); /* 21.5 is not an integer */
    CHECK(wampdev_cbor_next(&it, &x) == 0 && wampdev_cbor_get_int(&x, &i64) == 0 && i64 == -3);
    CHECK(wampdev_cbor_get_uint(&x, &u) == -1);
    CHECK(wampdev_cbor_get_double(&x, &d) == 0 && d == -3.0);
    CHECK(wampdev_cbor_next(&it, &x) == 0 && wampdev_cbor_text_equals(&x, "x") && !wampdev_cbor_text_equals(&x, "xy"));
    CHECK(wampdev_cbor_next(&it, &x) == 0 && wampdev_cbor_get_bool(&x, &b) == 0 && b == 1);
    CHECK(wampdev_cbor_next(&it, &x) == 0 && wampdev_cbor_is_null(&x));
    CHECK(wampdev_cbor_next(&it, &x) == 0 && wampdev_cbor_get_bytes(&x, &bytes, &len) == 0 && len == 3 && bytes[2] == 3);
    CHECK(wampdev_cbor_next(&it, &x) == -1);
    CHECK(wampdev_cbor_array_at(&msg, 5, &v) == 0 && wampdev_cbor_map_get(&v, "k", &x) == 0 &&
          wampdev_cbor_get_double(&x, &d) == 0 && d == 1.5);

    /* float16 and float32 */
    n = hex("83f93e00fa41b40000f9fc00", in, sizeof in);
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == 0);
    CHECK(wampdev_cbor_array_at(&msg, 0, &v) == 0 && wampdev_cbor_get_double(&v, &d) == 0 && d == 1.5);
    CHECK(wampdev_cbor_array_at(&msg, 1, &v) == 0 && wampdev_cbor_get_double(&v, &d) == 0 && d == 22.5);
    CHECK(wampdev_cbor_array_at(&msg, 2, &v) == 0 && wampdev_cbor_get_double(&v, &d) == 0 && isinf(d) && d < 0);

    /* a tag is seen through; 64-bit ints */
    n = hex("82c11a5f5e10001b0000010000000000", in, sizeof in);
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == 0);
    CHECK(wampdev_cbor_array_at(&msg, 0, &v) == 0 && wampdev_cbor_get_uint(&v, &u) == 0 && u == 1600000000u);
    CHECK(wampdev_cbor_array_at(&msg, 1, &v) == 0 && wampdev_cbor_get_uint(&v, &u) == 0 && u == 1099511627776ull);
}

static void malformed(void)
{
    wampdev_cbor_t msg;
    size_t n;
    n = hex("8301", in, sizeof in); /* truncated array */
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == -1);
    n = hex("9f01ff", in, sizeof in); /* indefinite length */
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == -1);
    n = hex("9bffffffffffffffff00", in, sizeof in); /* absurd count */
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == -1);
    n = hex("7a0000ffff61", in, sizeof in); /* string longer than the buffer */
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == -1);
    n = hex("0101", in, sizeof in); /* two items, not one */
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == -1);
    n = hex("8181818181818181818100", in, sizeof in); /* nested 10 deep */
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == -1);
    CHECK(wampdev_cbor_parse(in, n, 12, &msg) == 0);
    n = hex("1c", in, sizeof in); /* reserved additional info */
    CHECK(wampdev_cbor_parse(in, n, 8, &msg) == -1);
    CHECK(wampdev_cbor_parse(in, 0, 8, &msg) == -1);
}

void test_cbor(void)
{
    encoder_vectors();
    decoder_vectors();
    malformed();
}
