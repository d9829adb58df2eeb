/* wampdev-host: the wampdev library driven from a Linux tty (a real UART or a socat pty), so
 * the device side can be tested end to end against wampgate. Owns only the command line,
 * the tty setup and one-line-per-event output; the protocol is the library's. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "wampdev.h"

#define MAX_MSG 1024
#define MAX_SUBS 3
#define MAX_ARGS 8

static const char *usage_text =
    "usage: wampdev-host [options] TTY REALM\n"
    "  --prefix P        registers P.add (adds two integers); default \"dev\"\n"
    "  --topic T         topic of the published events; default P.counter\n"
    "  --count N         events to publish (args [seq], kwargs {\"prefix\": P}); default 3\n"
    "  --interval MS     between events; default 100\n"
    "  --acknowledge     publish with acknowledge and print PUBLISHED\n"
    "  --subscribe T     subscribe to T and print its events (up to 3 times)\n"
    "  --call PROC       once publishing is done, call PROC once\n"
    "  --args A,B,...    integer args for --call\n"
    "  --linger MS       after all work, keep serving MS, then leave and exit 0; default -1 (until signal)\n"
    "  --join-timeout MS exit 3 if no session within MS of start; default 15000, 0 = wait forever\n"
    "  --authid ID       authid in HELLO (the gateway's port config usually decides it)\n"
    "  --baud B          9600 19200 38400 57600 115200 230400; default 115200\n";

static struct {
    const char *tty, *realm, *prefix, *topic, *call, *authid;
    const char *subs[MAX_SUBS];
    int nsubs;
    long count, interval, linger, join_timeout, baud;
    int acknowledge;
    int64_t args[MAX_ARGS];
    int nargs;
} opt;

static int fd = -1;
static volatile sig_atomic_t stop_signal;
static wampdev_t dev;
static uint8_t rx_buf[WAMPDEV_RX_BUF_SIZE(MAX_MSG)], tx_buf[WAMPDEV_TX_BUF_SIZE(MAX_MSG)];
static char add_proc[128], counter_topic[128];

/* Progress of the scripted work. */
static int pending_acks; /* SUBSCRIBED/REGISTERED still awaited after a join */
static long published, acks_outstanding;
static uint32_t next_publish_ms;
static int call_state; /* 0 not yet, 1 in flight, 2 done */
static int work_done;
static uint32_t done_at_ms;

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

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

/* ---- CBOR to JSON for output -------------------------------------------------------------- */

static void print_json(const wampdev_cbor_t *item, int depth)
{
    wampdev_cbor_iter_t it;
    wampdev_cbor_t v;
    const char *s;
    const uint8_t *b;
    size_t n, i;
    int64_t i64;
    uint64_t u;
    double d;
    int t = wampdev_cbor_type(item), first = 1, flag;
    if (depth > 16) {
        fputs("null", stdout);
        return;
    }
    switch (t) {
    case WAMPDEV_CBOR_UINT:
        if (wampdev_cbor_get_uint(item, &u) == 0) printf("%" PRIu64, u);
        break;
    case WAMPDEV_CBOR_NEGINT:
        if (wampdev_cbor_get_int(item, &i64) == 0) printf("%" PRId64, i64);
        else fputs("null", stdout);
        break;
    case WAMPDEV_CBOR_FLOAT:
        (void)wampdev_cbor_get_double(item, &d);
        /* Integral values print as integers, the way JSON.stringify does. */
        if (d == (double)(int64_t)d && d > -9007199254740992.0 && d < 9007199254740992.0) printf("%" PRId64, (int64_t)d);
        else printf("%.17g", d);
        break;
    case WAMPDEV_CBOR_TEXT:
        (void)wampdev_cbor_get_text(item, &s, &n);
        putchar('"');
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '"' || c == '\\') printf("\\%c", c);
            else if (c < 0x20) printf("\\u%04x", c);
            else putchar(c);
        }
        putchar('"');
        break;
    case WAMPDEV_CBOR_BYTES:
        (void)wampdev_cbor_get_bytes(item, &b, &n);
        fputs("{\"bytes\":\"", stdout);
        for (i = 0; i < n; i++) printf("%02x", b[i]);
        fputs("\"}", stdout);
        break;
    case WAMPDEV_CBOR_ARRAY:
    case WAMPDEV_CBOR_MAP:
        putchar(t == WAMPDEV_CBOR_ARRAY ? '[' : '{');
        if (wampdev_cbor_enter(item, &it) == 0) {
            i = 0;
            while (wampdev_cbor_next(&it, &v) == 0) {
                if (!first) putchar(t == WAMPDEV_CBOR_MAP && (i % 2) ? ':' : ',');
                first = 0;
                print_json(&v, depth + 1);
                i++;
            }
        }
        putchar(t == WAMPDEV_CBOR_ARRAY ? ']' : '}');
        break;
    case WAMPDEV_CBOR_BOOL:
        (void)wampdev_cbor_get_bool(item, &flag);
        fputs(flag ? "true" : "false", stdout);
        break;
    default:
        fputs("null", stdout);
        break;
    }
}

static void print_payload(const wampdev_cbor_t *args, const wampdev_cbor_t *kwargs)
{
    fputs(" args=", stdout);
    if (args) print_json(args, 0);
    else fputs("[]", stdout);
    fputs(" kwargs=", stdout);
    if (kwargs) print_json(kwargs, 0);
    else fputs("{}", stdout);
}

/* ---- callbacks -------------------------------------------------------------------------- */

static void write_tty(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd p = {0};
                p.fd = fd;
                p.events = POLLOUT;
                (void)poll(&p, 1, 100);
                continue;
            }
            return; /* the line is gone: the main loop notices on read */
        }
        data += n;
        len -= (size_t)n;
    }
}

static void on_event(wampdev_t *d, void *ctx, uint64_t sub, const wampdev_cbor_t *details, const wampdev_cbor_t *args,
                     const wampdev_cbor_t *kwargs)
{
    (void)d; (void)details;
    printf("EVENT topic=%s subscription=%" PRIu64, (const char *)ctx, sub);
    print_payload(args, kwargs);
    line("%s", "");
}

static void on_add(wampdev_t *d, void *ctx, uint64_t request, const wampdev_cbor_t *details, const wampdev_cbor_t *args,
                   const wampdev_cbor_t *kwargs)
{
    wampdev_cbor_t a, b;
    int64_t x, y;
    wampdev_cbor_writer_t *w;
    (void)ctx; (void)details;
    printf("INVOCATION procedure=%s request=%" PRIu64, add_proc, request);
    print_payload(args, kwargs);
    if (!args || wampdev_cbor_count(args) != 2 || wampdev_cbor_array_at(args, 0, &a) != 0 || wampdev_cbor_array_at(args, 1, &b) != 0 ||
        wampdev_cbor_get_int(&a, &x) != 0 || wampdev_cbor_get_int(&b, &y) != 0) {
        line(" error=wamp.error.invalid_argument");
        w = wampdev_error_begin(d, WAMPDEV_MSG_INVOCATION, request, "wamp.error.invalid_argument", 1);
        if (w) {
            wampdev_cbor_put_array(w, 1);
            wampdev_cbor_put_text(w, "add expects two integers");
            (void)wampdev_send(d);
        }
        return;
    }
    line(" result=%" PRId64, x + y);
    w = wampdev_yield_begin(d, request, 1);
    if (w) {
        wampdev_cbor_put_array(w, 1);
        wampdev_cbor_put_int(w, x + y);
        (void)wampdev_send(d);
    }
}

static void on_result(wampdev_t *d, void *ctx, uint64_t request, const char *error, const wampdev_cbor_t *args,
                      const wampdev_cbor_t *kwargs)
{
    (void)d; (void)ctx; (void)request;
    if (error) printf("CALL_ERROR procedure=%s error=%s", opt.call, error);
    else printf("RESULT procedure=%s", opt.call);
    print_payload(args, kwargs);
    line("%s", "");
    call_state = 2;
}

static void subscribe_and_register(void)
{
    int i;
    pending_acks = 0;
    for (i = 0; i < opt.nsubs; i++)
        if (wampdev_subscribe(&dev, opt.subs[i], on_event, (void *)opt.subs[i])) pending_acks++;
    if (wampdev_register(&dev, add_proc, on_add, NULL)) pending_acks++;
}

static void on_join(wampdev_t *d, void *ctx, uint64_t session)
{
    (void)d; (void)ctx;
    line("JOINED session=%" PRIu64 " realm=%s", session, opt.realm);
    subscribe_and_register();
}

static void on_leave(wampdev_t *d, void *ctx, const char *reason)
{
    (void)d; (void)ctx;
    line("LEFT reason=%s", reason);
    acks_outstanding = 0;
    if (call_state == 1) call_state = 0; /* the call died with the session: make it again */
}

static void on_error(wampdev_t *d, void *ctx, int type, uint64_t request, const char *error)
{
    (void)d; (void)ctx;
    line("ERROR request_type=%d request=%" PRIu64 " error=%s", type, request, error);
    if ((type == WAMPDEV_MSG_SUBSCRIBE || type == WAMPDEV_MSG_REGISTER) && pending_acks > 0) pending_acks--;
    if (type == WAMPDEV_MSG_PUBLISH && acks_outstanding > 0) acks_outstanding--;
}

static void on_subscribed(wampdev_t *d, void *ctx, uint64_t request, uint64_t id)
{
    int i;
    const char *topic = "?";
    (void)ctx;
    for (i = 0; i < WAMPDEV_MAX_SUBSCRIPTIONS; i++)
        if (d->subs[i].request == request) topic = (const char *)d->subs[i].ctx;
    line("SUBSCRIBED topic=%s subscription=%" PRIu64, topic, id);
    if (pending_acks > 0) pending_acks--;
}

static void on_registered(wampdev_t *d, void *ctx, uint64_t request, uint64_t id)
{
    (void)d; (void)ctx; (void)request;
    line("REGISTERED procedure=%s registration=%" PRIu64, add_proc, id);
    if (pending_acks > 0) pending_acks--;
}

static void on_published(wampdev_t *d, void *ctx, uint64_t request, uint64_t publication)
{
    (void)d; (void)ctx;
    line("PUBLISHED request=%" PRIu64 " publication=%" PRIu64, request, publication);
    if (acks_outstanding > 0) acks_outstanding--;
}

/* ---- the script ------------------------------------------------------------------------- */

static void do_work(uint32_t now)
{
    wampdev_cbor_writer_t *w;
    uint64_t req;
    int i;
    if (wampdev_state(&dev) != WAMPDEV_STATE_JOINED || pending_acks > 0 || work_done) return;
    if (published < opt.count) {
        if ((int32_t)(now - next_publish_ms) < 0) return;
        w = wampdev_publish_begin(&dev, counter_topic, opt.acknowledge, 2);
        if (!w) return;
        wampdev_cbor_put_array(w, 1);
        wampdev_cbor_put_int(w, published + 1);
        wampdev_cbor_put_map(w, 1);
        wampdev_cbor_put_text(w, "prefix");
        wampdev_cbor_put_text(w, opt.prefix);
        req = wampdev_send(&dev);
        if (!req) return;
        published++;
        if (opt.acknowledge) acks_outstanding++;
        line("PUBLISH topic=%s seq=%ld request=%" PRIu64, counter_topic, published, req);
        next_publish_ms = now + (uint32_t)opt.interval;
        return;
    }
    if (acks_outstanding > 0) return;
    if (opt.call && call_state == 0) {
        w = wampdev_call_begin(&dev, opt.call, on_result, NULL, opt.nargs ? 1 : 0);
        if (!w) return;
        if (opt.nargs) {
            wampdev_cbor_put_array(w, (size_t)opt.nargs);
            for (i = 0; i < opt.nargs; i++) wampdev_cbor_put_int(w, opt.args[i]);
        }
        if (wampdev_send(&dev)) {
            call_state = 1;
            line("CALL procedure=%s", opt.call);
        }
        return;
    }
    if (opt.call && call_state != 2) return;
    work_done = 1;
    done_at_ms = now;
    line("WORK_DONE published=%ld", published);
}

static void finish(int code)
{
    const wampdev_stats_t *s = wampdev_stats(&dev);
    line("STATS frames_in=%lu frames_out=%lu crc_errors=%lu cobs_errors=%lu oversized=%lu bad_messages=%lu",
         (unsigned long)s->frames_in, (unsigned long)s->frames_out, (unsigned long)s->crc_errors,
         (unsigned long)s->cobs_errors, (unsigned long)s->oversized, (unsigned long)s->bad_messages);
    if (code == 0) line("DONE");
    exit(code);
}

/* Sends GOODBYE and serves the line until the router answers (or 2 s pass). */
static void leave_and_exit(void)
{
    uint32_t start = now_ms();
    uint8_t buf[256];
    if (wampdev_leave(&dev, "wamp.close.close_realm") == 0) {
        while (wampdev_state(&dev) == WAMPDEV_STATE_LEAVING && now_ms() - start < 2000) {
            struct pollfd p = {0};
            ssize_t n;
            p.fd = fd;
            p.events = POLLIN;
            if (poll(&p, 1, 20) > 0) {
                n = read(fd, buf, sizeof buf);
                if (n > 0) wampdev_feed(&dev, buf, (size_t)n);
                else if (n == 0 || (errno != EAGAIN && errno != EINTR)) break;
            }
            wampdev_tick(&dev, now_ms());
        }
    }
    finish(0);
}

static void on_signal(int sig) { stop_signal = sig; }

static speed_t baud_constant(long baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    default: return 0;
    }
}

static int open_tty(const char *path, speed_t speed)
{
    struct termios t;
    int f = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (f < 0) return -1;
    if (tcgetattr(f, &t) == 0) {
        /* Raw 8N1: no echo, no line editing, no CR/LF translation, no flow control. */
        t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY);
        t.c_oflag &= ~(tcflag_t)OPOST;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
        t.c_cflag |= CS8 | CREAD | CLOCAL;
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;
        cfsetispeed(&t, speed);
        cfsetospeed(&t, speed);
        (void)tcsetattr(f, TCSANOW, &t);
    }
    return f;
}

static long num(const char *s, const char *name)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0) {
        fprintf(stderr, "wampdev-host: %s must be a number, got \"%s\"\n%s", name, s, usage_text);
        exit(1);
    }
    return v;
}

static void parse_args(int argc, char **argv)
{
    int i, positional = 0;
    opt.prefix = "dev";
    opt.count = 3;
    opt.interval = 100;
    opt.linger = -1;
    opt.join_timeout = 15000;
    opt.baud = 115200;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--acknowledge") == 0) { opt.acknowledge = 1; takes = 0; }
        else if (strcmp(a, "--help") == 0) { fputs(usage_text, stdout); exit(0); }
        else if (strncmp(a, "--", 2) != 0) {
            if (positional == 0) opt.tty = a;
            else if (positional == 1) opt.realm = a;
            else { fprintf(stderr, "wampdev-host: unexpected argument \"%s\"\n%s", a, usage_text); exit(1); }
            positional++;
            continue;
        } else if (!val) { fprintf(stderr, "wampdev-host: %s needs a value\n%s", a, usage_text); exit(1); }
        else if (strcmp(a, "--prefix") == 0) opt.prefix = val;
        else if (strcmp(a, "--topic") == 0) opt.topic = val;
        else if (strcmp(a, "--count") == 0) opt.count = num(val, a);
        else if (strcmp(a, "--interval") == 0) opt.interval = num(val, a);
        else if (strcmp(a, "--linger") == 0) opt.linger = num(val, a);
        else if (strcmp(a, "--join-timeout") == 0) opt.join_timeout = num(val, a);
        else if (strcmp(a, "--baud") == 0) opt.baud = num(val, a);
        else if (strcmp(a, "--authid") == 0) opt.authid = val;
        else if (strcmp(a, "--call") == 0) opt.call = val;
        else if (strcmp(a, "--subscribe") == 0) {
            if (opt.nsubs == MAX_SUBS) { fprintf(stderr, "wampdev-host: at most %d --subscribe\n", MAX_SUBS); exit(1); }
            opt.subs[opt.nsubs++] = val;
        } else if (strcmp(a, "--args") == 0) {
            char *copy = strdup(val), *tok, *save = NULL;
            for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (opt.nargs == MAX_ARGS) { fprintf(stderr, "wampdev-host: at most %d args\n", MAX_ARGS); exit(1); }
                opt.args[opt.nargs++] = num(tok, "--args");
            }
            free(copy);
        } else { fprintf(stderr, "wampdev-host: unknown option %s\n%s", a, usage_text); exit(1); }
        i += takes;
    }
    if (positional != 2) { fputs(usage_text, stderr); exit(1); }
    if (!baud_constant(opt.baud)) { fprintf(stderr, "wampdev-host: unsupported baud %ld\n", opt.baud); exit(1); }
}

int main(int argc, char **argv)
{
    wampdev_config_t cfg;
    struct sigaction sa;
    uint32_t start;
    uint8_t buf[512];
    int joined_once = 0;

    parse_args(argc, argv);
    snprintf(add_proc, sizeof add_proc, "%s.add", opt.prefix);
    snprintf(counter_topic, sizeof counter_topic, "%s", opt.topic ? opt.topic : "");
    if (!opt.topic) snprintf(counter_topic, sizeof counter_topic, "%s.counter", opt.prefix);

    fd = open_tty(opt.tty, baud_constant(opt.baud));
    if (fd < 0) {
        line("FAILED reason=open error=\"%s\"", strerror(errno));
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    line("OPEN tty=%s", opt.tty);

    memset(&cfg, 0, sizeof cfg);
    cfg.write = write_tty;
    cfg.rx_buf = rx_buf;
    cfg.rx_cap = sizeof rx_buf;
    cfg.tx_buf = tx_buf;
    cfg.tx_cap = sizeof tx_buf;
    cfg.authid = opt.authid;
    cfg.agent = "wampdev-host/0.1";
    cfg.hello_retry_ms = 1000;
    cfg.rejoin_ms = 1000;
    cfg.on_join = on_join;
    cfg.on_leave = on_leave;
    cfg.on_error = on_error;
    cfg.on_subscribed = on_subscribed;
    cfg.on_registered = on_registered;
    cfg.on_published = on_published;
    if (wampdev_init(&dev, &cfg) != 0) return 1;
    start = now_ms();
    wampdev_tick(&dev, start);
    (void)wampdev_join(&dev, opt.realm);

    for (;;) {
        struct pollfd p = {0};
        uint32_t now;
        p.fd = fd;
        p.events = POLLIN;
        if (poll(&p, 1, 10) > 0) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n > 0) {
                wampdev_feed(&dev, buf, (size_t)n);
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                line("FAILED reason=read error=\"%s\"", strerror(errno));
                finish(2);
            } else if (p.revents & (POLLHUP | POLLERR)) {
                line("FAILED reason=hangup");
                finish(2);
            }
        }
        now = now_ms();
        wampdev_tick(&dev, now);
        if (stop_signal) leave_and_exit();
        if (wampdev_state(&dev) == WAMPDEV_STATE_JOINED) joined_once = 1;
        if (!joined_once && opt.join_timeout > 0 && now - start >= (uint32_t)opt.join_timeout) {
            line("FAILED reason=join_timeout");
            finish(3);
        }
        do_work(now);
        if (work_done && opt.linger >= 0 && now - done_at_ms >= (uint32_t)opt.linger) leave_and_exit();
    }
}
