/* The sensor example's platform hooks: what sensor.c needs from a board (UART, clock, a
 * reading, stack figures). Each target (targets/avr, targets/cortex-m3) implements them; the
 * application logic in sensor.c is the same on every board. */
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

void sensor_setup(void);
void sensor_loop(void);

#endif
