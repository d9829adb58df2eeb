/* ATmega328P (Arduino Uno, 16 MHz) glue for the sensor example, bare avr-libc: USART0 at
 * 115200 8N1 with an RX interrupt ring buffer, Timer0 as the millisecond clock, ADC0 as the
 * reading, and a painted stack whose high-water mark the stats procedure reports. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <util/atomic.h>

#include "sensor.h"

#define BAUD 115200ul
#define RX_RING 64 /* power of two */
#define PAINT 0xC5

static volatile uint8_t ring[RX_RING];
static volatile uint8_t ring_head, ring_tail;
static volatile uint32_t ms;

/* Linker symbols: end of .bss (start of the free RAM; no heap is used) and top of RAM. */
extern uint8_t _end;
extern uint8_t __stack;

/* Runs before main (before .data/.bss are set up, which lie below _end anyway): fills the
 * free RAM up to the stack with a pattern; what the stack ever touches loses it. */
void paint_stack(void) __attribute__((naked, used, section(".init1")));
void paint_stack(void)
{
    __asm volatile("    ldi r30, lo8(_end)\n"
                   "    ldi r31, hi8(_end)\n"
                   "    ldi r24, 0xC5\n"
                   "    ldi r25, hi8(__stack)\n"
                   "    rjmp 2f\n"
                   "1:  st Z+, r24\n"
                   "2:  cpi r30, lo8(__stack)\n"
                   "    cpc r31, r25\n"
                   "    brlo 1b\n"
                   "    breq 1b\n" ::);
}

uint16_t plat_stack_free(void)
{
    const uint8_t *p = &_end;
    uint16_t n = 0;
    while (p <= &__stack && *p == PAINT) {
        p++;
        n++;
    }
    return n;
}

uint16_t plat_stack_used(void) { return (uint16_t)(&__stack - &_end + 1) - plat_stack_free(); }

ISR(USART_RX_vect)
{
    uint8_t b = UDR0, next = (uint8_t)((ring_head + 1) & (RX_RING - 1));
    if (next != ring_tail) { /* full: the byte is lost; the frame's CRC will say so */
        ring[ring_head] = b;
        ring_head = next;
    }
}

ISR(TIMER0_COMPA_vect) { ms++; }

void plat_write(const uint8_t *data, size_t len)
{
    while (len--) {
        while (!(UCSR0A & _BV(UDRE0))) {
        }
        UDR0 = *data++;
    }
}

size_t plat_read(uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && ring_tail != ring_head) {
        buf[n++] = ring[ring_tail];
        ring_tail = (uint8_t)((ring_tail + 1) & (RX_RING - 1));
    }
    return n;
}

uint32_t plat_millis(void)
{
    uint32_t v;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { v = ms; }
    return v;
}

int32_t plat_reading(void)
{
    uint16_t guard = 0;
    ADCSRA |= _BV(ADSC);
    while ((ADCSRA & _BV(ADSC)) && ++guard) {
    }
    return (int32_t)ADC;
}

void plat_idle(void)
{
    /* Sleep until the next interrupt (the 1 ms tick at the latest) unless a byte is waiting. */
    set_sleep_mode(SLEEP_MODE_IDLE);
    cli();
    if (ring_tail == ring_head) {
        sleep_enable();
        sei();
        sleep_cpu();
        sleep_disable();
    }
    sei();
}

void plat_session(uint64_t session, const char *reason)
{
    (void)session;
    (void)reason;
}

int main(void)
{
    /* USART0: double speed, 16 MHz / (8 * (16 + 1)) = 117647 baud (2.1 % off 115200, as on a real Uno). */
    UCSR0A = _BV(U2X0);
    UBRR0 = (uint16_t)(F_CPU / (8ul * BAUD) - 1ul);
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    /* Timer0: CTC, /64, 250 counts = 1 ms. */
    TCCR0A = _BV(WGM01);
    TCCR0B = _BV(CS01) | _BV(CS00);
    OCR0A = 249;
    TIMSK0 = _BV(OCIE0A);
    /* ADC0 against AVcc, /128. */
    ADMUX = _BV(REFS0);
    ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
    sei();
    sensor_setup(NULL); /* serial frame mode */
    for (;;) sensor_loop();
}
