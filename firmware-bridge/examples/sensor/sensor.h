/* The sensor example's platform hooks: what sensor.c needs from a board (a byte link, clock, a
 * reading, stack figures). Each target (targets/avr, targets/cortex-m3 on a UART,
 * targets/posix-tcp and examples/esp32 over TCP) implements them; the application logic in
 * sensor.c is the same on every board. */
#ifndef SENSOR_H
#define SENSOR_H

#include <stddef.h>
#include <stdint.h>

void plat_write(const uint8_t *data, size_t len); /* to the UART; may block */
size_t plat_read(uint8_t *buf, size_t cap);       /* received bytes, 0 if none (never blocks) */
uint32_t plat_millis(void);
int32_t plat_reading(void);     /* the sensor value, e.g. an ADC count */
uint16_t plat_stack_used(void); /* high-water mark of the stack, from the painted region */
uint16_t plat_stack_free(void); /* painted bytes never touched: RAM still free for the sketch */
void plat_idle(void);           /* nothing to do until the next interrupt */
/* The session began (session != 0, reason NULL) or ended (session 0, reason: the URI). For a
 * board's log or LED; may do nothing. */
void plat_session(uint64_t session, const char *reason);

/* How the sensor reaches the router. NULL to sensor_setup: serial frame mode on a UART (the
 * gateway's port config names the device). RawSocket: TCP to a RawSocket listener, as `authid`
 * with `ticket` (both required by the listener's ticket principals). */
typedef struct {
    uint8_t rawsocket;
    const char *authid;
    const char *ticket;
} sensor_link_t;

void sensor_setup(const sensor_link_t *link);
void sensor_loop(void);
/* TCP boards: the connection is up (sends the RawSocket handshake; HELLO follows the reply) /
 * broke (ends the session at once). Call sensor_connected after every connect. */
void sensor_connected(void);
void sensor_disconnected(void);

#include "wampdev.h"
/* The device, read-only: its state and counters (stats.pings, ...) for a board's log. */
const wampdev_t *sensor_device(void);

#endif
