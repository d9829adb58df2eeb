/* Prints the size of the caller-allocated client state for `make size`. */
#include <stdio.h>

#include "wampdev.h"

int main(void)
{
    printf("sizeof(wampdev_t) = %u bytes (subscriptions %d, registrations %d, calls %d)\n", (unsigned)sizeof(wampdev_t),
           WAMPDEV_MAX_SUBSCRIPTIONS, WAMPDEV_MAX_REGISTRATIONS, WAMPDEV_MAX_CALLS);
    printf("rx buffer for 256-byte messages = %u, tx buffer = %u\n", (unsigned)WAMPDEV_RX_BUF_SIZE(256),
           (unsigned)WAMPDEV_TX_BUF_SIZE(256));
    return 0;
}
