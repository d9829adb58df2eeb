/* simavr-uno: runs an ATmega328P ELF in simavr (libsimavr) with USART0 on a pseudo-terminal,
 * like an Uno's USB serial. Prints "PTY <path>" once the pty is ready (open it with 8N1 raw at
 * any baud: a pty has no line speed). ADC0 reads --adc0 millivolts (AVcc = 5000 mV).
 *
 * Our own UART bridge instead of simavr's uart_pty part: that part feeds the UART from a
 * second thread; here everything runs on the simulation thread (input is polled between
 * instructions and while the AVR sleeps), and sleeping is paced to real time so an idle
 * device does not spin a host core.
 *
 * Usage: simavr-uno FIRMWARE.elf [--adc0 MV] [--link PATH]   (--link: also symlink PATH -> pty) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>

#include <avr_adc.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <sim_time.h>

static int master = -1;
static int xon = 1;
static avr_irq_t *uart_in;
static uint8_t inbuf[256];
static size_t in_len, in_done;
static unsigned long tx_dropped;

/* A byte the AVR sent: into the pty. If nobody reads (the gateway is down) and the pty's
 * buffer is full, the byte is lost, as on a real unplugged line. */
static void uart_out_hook(avr_irq_t *irq, uint32_t value, void *param)
{
    uint8_t b = (uint8_t)value;
    (void)irq;
    (void)param;
    if (write(master, &b, 1) != 1) tx_dropped++;
}

static void xon_hook(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    (void)param;
    xon = 1;
}

static void xoff_hook(avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    (void)param;
    xon = 0;
}

/* Moves received pty bytes into the UART while it has room; waits up to timeout_us for input. */
static void poll_pty(long timeout_us)
{
    if (in_done == in_len) {
        fd_set rs;
        struct timeval tv;
        ssize_t r;
        FD_ZERO(&rs);
        FD_SET(master, &rs);
        tv.tv_sec = timeout_us / 1000000;
        tv.tv_usec = timeout_us % 1000000;
        if (select(master + 1, &rs, NULL, NULL, &tv) <= 0) return;
        r = read(master, inbuf, sizeof inbuf);
        if (r <= 0) return;
        in_len = (size_t)r;
        in_done = 0;
    } else if (timeout_us > 0) {
        usleep((useconds_t)timeout_us);
    }
    while (xon && in_done < in_len) avr_raise_irq(uart_in, inbuf[in_done++]);
}

static void sleep_hook(avr_t *avr, avr_cycle_count_t how_long)
{
    poll_pty((long)avr_cycles_to_usec(avr, how_long));
}

int main(int argc, char **argv)
{
    elf_firmware_t fw;
    avr_t *avr;
    const char *elf = NULL, *link = NULL;
    int adc0 = 2500, slave, i, state;
    avr_cycle_count_t last_poll = 0;
    char *name;
    struct termios tio;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--adc0") && i + 1 < argc) adc0 = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--link") && i + 1 < argc) link = argv[++i];
        else if (!elf) elf = argv[i];
        else {
            fprintf(stderr, "usage: %s FIRMWARE.elf [--adc0 MV] [--link PATH]\n", argv[0]);
            return 1;
        }
    }
    if (!elf) {
        fprintf(stderr, "usage: %s FIRMWARE.elf [--adc0 MV] [--link PATH]\n", argv[0]);
        return 1;
    }
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(elf, &fw) != 0) {
        fprintf(stderr, "cannot read %s\n", elf);
        return 2;
    }
    strcpy(fw.mmcu, "atmega328p");
    fw.frequency = 16000000;
    avr = avr_make_mcu_by_name(fw.mmcu);
    if (!avr || avr_init(avr) != 0) {
        fprintf(stderr, "no atmega328p in this simavr\n");
        return 2;
    }
    avr_load_firmware(avr, &fw);
    avr->vcc = avr->avcc = avr->aref = 5000;
    avr->sleep = sleep_hook;
    avr->log = LOG_ERROR;

    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || !(name = ptsname(master))) {
        perror("pty");
        return 2;
    }
    tcgetattr(master, &tio);
    cfmakeraw(&tio);
    tcsetattr(master, TCSANOW, &tio);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    /* Held open (never read) so the master side never sees a hangup between clients. */
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        perror(name);
        return 2;
    }
    tcgetattr(slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    if (link) {
        unlink(link);
        if (symlink(name, link) != 0) {
            perror(link);
            return 2;
        }
    }

    {
        uint32_t flags = 0;
        avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
        flags &= ~AVR_UART_FLAG_STDIO; /* binary frames, not text for our stdout */
        avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    }
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out_hook, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), xon_hook, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), xoff_hook, NULL);
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0), (uint32_t)adc0);

    printf("PTY %s\n", name);
    fflush(stdout);

    for (;;) {
        state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) break;
        /* Busy CPU: look at the pty every simulated millisecond. */
        if (avr->cycle - last_poll >= 16000) {
            last_poll = avr->cycle;
            poll_pty(0);
        }
    }
    printf("EXIT state=%d pc=0x%04x tx_dropped=%lu\n", state, avr->pc, tx_dropped);
    return state == cpu_Done ? 0 : 3;
}
