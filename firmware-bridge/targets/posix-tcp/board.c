/* A Linux/POSIX "board" for the sensor example over TCP: the same sensor.c as on the Uno and the
 * Cortex-M3, joined to a wampgate RawSocket listener with ticket authentication through a plain
 * socket. Owns the command line, (re)connecting and one-line-per-event output for tests; the
 * protocol (handshake, framing, PING/PONG, CHALLENGE) is the library's. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sensor.h"

static const char *usage_text =
    "usage: sensor-tcp [options] HOST PORT\n"
    "  --authid ID      ticket principal (required)\n"
    "  --ticket T       its ticket; default from the environment variable SENSOR_TICKET\n"
    "  --reading N      the value published as the reading; default 2150\n"
    "  --reconnect MS   delay before reconnecting; default 1000 (5000 after an authentication failure)\n";

static const char *host, *port_name;
static long reading = 2150, reconnect_ms = 1000;
static int fd = -1, broken;
static volatile sig_atomic_t stop_signal;
/* The 4 handshake bytes each way, as the board saw them go out and come in. */
static uint8_t hs_out[4], hs_in[4];
static size_t hs_out_len, hs_in_len;
static uint32_t last_pings;
static int auth_failed;

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

uint32_t plat_millis(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

void plat_write(const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len && hs_out_len < 4; i++) {
        hs_out[hs_out_len++] = data[i];
        if (hs_out_len == 4) line("HANDSHAKE sent=%02x%02x%02x%02x", hs_out[0], hs_out[1], hs_out[2], hs_out[3]);
    }
    while (len > 0 && fd >= 0 && !broken) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            broken = 1; /* noticed by the main loop, which reports the disconnect */
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

size_t plat_read(uint8_t *buf, size_t cap)
{
    ssize_t n;
    size_t i;
    if (fd < 0 || broken) return 0;
    n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        broken = 1;
        return 0;
    }
    if (n < 0) return 0;
    for (i = 0; i < (size_t)n && hs_in_len < 4; i++) {
        hs_in[hs_in_len++] = buf[i];
        if (hs_in_len == 4)
            line("HANDSHAKE received=%02x%02x%02x%02x send_limit=%lu", hs_in[0], hs_in[1], hs_in[2], hs_in[3],
                 1ul << (9 + (hs_in[1] >> 4)));
    }
    return (size_t)n;
}

int32_t plat_reading(void) { return (int32_t)reading; }
uint16_t plat_stack_used(void) { return 0; } /* a host has no painted stack */
uint16_t plat_stack_free(void) { return 0; }

void plat_idle(void)
{
    /* Wake for received bytes or after 10 ms (the sensor's clock-driven work). */
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    if (fd < 0 || broken) {
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
        return;
    }
    (void)poll(&p, 1, 10);
}

void plat_session(uint64_t session, const char *reason)
{
    if (session) {
        line("JOINED session=%" PRIu64, session);
    } else {
        line("LEFT reason=%s", reason ? reason : "");
        if (reason && strcmp(reason, "wamp.error.authentication_failed") == 0) auth_failed = 1;
    }
}

static int tcp_connect(void)
{
    struct addrinfo hints, *res, *ai;
    int s = -1, rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port_name, &hints, &res);
    if (rc != 0) {
        line("FAILED reason=resolve error=\"%s\"", gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0) continue;
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(s);
        s = -1;
    }
    freeaddrinfo(res);
    return s;
}

static void on_signal(int sig) { stop_signal = sig; }

int main(int argc, char **argv)
{
    sensor_link_t link = {1, NULL, NULL};
    uint32_t next_connect = 0;
    int i;
    struct sigaction sa;
    link.ticket = getenv("SENSOR_TICKET");
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--authid") == 0 && i + 1 < argc) link.authid = argv[++i];
        else if (strcmp(argv[i], "--ticket") == 0 && i + 1 < argc) link.ticket = argv[++i];
        else if (strcmp(argv[i], "--reading") == 0 && i + 1 < argc) reading = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--reconnect") == 0 && i + 1 < argc) reconnect_ms = strtol(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' && argv[i][1] != 0) break;
        else if (!host) host = argv[i];
        else if (!port_name) port_name = argv[i];
        else break;
    }
    if (i < argc || !host || !port_name || !link.authid || !link.ticket) {
        fputs(usage_text, stderr);
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sensor_setup(&link);
    while (!stop_signal) {
        uint32_t now = plat_millis();
        if (fd < 0 && (int32_t)(now - next_connect) >= 0) {
            fd = tcp_connect();
            if (fd >= 0) {
                broken = 0;
                hs_out_len = hs_in_len = 0;
                auth_failed = 0;
                line("CONNECTED %s:%s", host, port_name);
                sensor_connected();
            } else {
                next_connect = now + (uint32_t)reconnect_ms;
            }
        }
        sensor_loop();
        if (sensor_device()->stats.pings != last_pings) {
            last_pings = sensor_device()->stats.pings;
            line("PONG pings=%" PRIu32, last_pings);
        }
        if (fd >= 0 && broken) {
            close(fd);
            fd = -1;
            line("DISCONNECTED");
            sensor_disconnected();
            /* A wrong ticket stays wrong: don't hammer the router's failed-attempt limit. */
            next_connect = plat_millis() + (uint32_t)(auth_failed ? 5 * reconnect_ms : reconnect_ms);
        }
    }
    {
        const wampdev_stats_t *s = &sensor_device()->stats;
        line("STATS frames_in=%" PRIu32 " frames_out=%" PRIu32 " oversized=%" PRIu32 " bad_messages=%" PRIu32
             " tx_overflow=%" PRIu32 " pings=%" PRIu32,
             s->frames_in, s->frames_out, s->oversized, s->bad_messages, s->tx_overflow, s->pings);
    }
    if (fd >= 0) close(fd);
    line("DONE");
    return 0;
}
