/*
 * The one clock of every deadline: CLOCK_MONOTONIC in nanoseconds.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CLOCK_H
#define PITCHFORK_CLOCK_H

#include <stdint.h>

#define CLOCK_NS_PER_SEC 1000000000LL

/* Monotonic clock in nanoseconds. */
int64_t clock_now_ns(void);

#endif
