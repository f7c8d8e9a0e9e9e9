/*
 * The monotonic clock.  See clock.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/clock.h"

#include <time.h>

int64_t
clock_now_ns(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid pointer. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CLOCK_NS_PER_SEC + ts.tv_nsec;
}
