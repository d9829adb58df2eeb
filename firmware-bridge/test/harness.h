/* A minimal test harness: CHECK counts passes and failures; main prints "N passed, M failed". */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>

extern int harness_passed, harness_failed;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (cond) harness_passed++;                                                       \
        else {                                                                            \
            harness_failed++;                                                             \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                 \
    } while (0)

/* Parses a hex string into buf; returns the byte count. */
size_t hex(const char *s, unsigned char *buf, size_t cap);

void test_cobs(void);
void test_crc32(void);
void test_cbor(void);
void test_wampdev(void);
void test_transport(void);

#endif
