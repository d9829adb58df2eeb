/* Cortex-M3 glue for the sensor example on QEMU's mps2-an385 (25 MHz): CMSDK APB UART0 polled
 * (QEMU holds input back while the 1-byte receive buffer is full, so nothing is lost),
 * SysTick as the millisecond clock, WFI when idle, a painted stack for the high-water mark.
 * The machine has no ADC: the reading is a synthetic temperature in 0.01 degC. */
#include <stdint.h>
#include <string.h>

#include "sensor.h"

#define CPU_HZ 25000000u
#define UART0 ((volatile uint32_t *)0x40004000u) /* DATA, STATE, CTRL, INTSTATUS, BAUDDIV */
#define UART_STATE_TXFULL 1u
#define UART_STATE_RXFULL 2u
#define SYST ((volatile uint32_t *)0xE000E010u) /* CSR, RVR, CVR */
#define PAINT 0xC5C5C5C5u

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
static volatile uint32_t ms;

void plat_session(uint64_t session, const char *reason)
{
    (void)session;
    (void)reason;
}

int main(void);

void SysTick_Handler(void) { ms++; }

static void Default_Handler(void)
{
    for (;;) {
    }
}

/* Fills the free RAM between .bss and the stack pointer (less a margin for this frame). */
static void paint_stack(void)
{
    uint32_t *p = &_ebss, sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    while ((uint32_t)p < sp - 64u) *p++ = PAINT;
}

void Reset_Handler(void)
{
    memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
    memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
    paint_stack();
    main();
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler, SysTick_Handler,
};

uint16_t plat_stack_free(void)
{
    const uint32_t *p = &_ebss;
    uint32_t n = 0;
    while (p < &_estack && *p == PAINT) {
        p++;
        n += 4;
    }
    return (uint16_t)(n > 0xFFFFu ? 0xFFFFu : n);
}

uint16_t plat_stack_used(void)
{
    uint32_t total = (uint32_t)((char *)&_estack - (char *)&_ebss);
    return (uint16_t)(total - plat_stack_free());
}

void plat_write(const uint8_t *data, size_t len)
{
    while (len--) {
        while (UART0[1] & UART_STATE_TXFULL) {
        }
        UART0[0] = *data++;
    }
}

size_t plat_read(uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && (UART0[1] & UART_STATE_RXFULL)) buf[n++] = (uint8_t)UART0[0];
    return n;
}

uint32_t plat_millis(void) { return ms; }

int32_t plat_reading(void) { return 2150 + (int32_t)((ms / 1000u) % 7u); }

void plat_idle(void)
{
    /* The 1 ms SysTick wakes us; a byte waiting in the UART is read first. */
    if (!(UART0[1] & UART_STATE_RXFULL)) __asm volatile("wfi");
}

int main(void)
{
    UART0[4] = CPU_HZ / 115200u; /* BAUDDIV: the line speed (a pty ignores it) */
    UART0[2] = 3u;               /* CTRL: TX and RX enabled */
    SYST[1] = CPU_HZ / 1000u - 1u;
    SYST[2] = 0;
    SYST[0] = 7u; /* processor clock, interrupt, enabled */
    sensor_setup(NULL); /* serial frame mode */
    for (;;) sensor_loop();
}
