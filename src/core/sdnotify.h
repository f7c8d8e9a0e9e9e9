/*
 * sd_notify() from the monitor: READY, STATUS, RELOADING, STOPPING,
 * WATCHDOG and EXTEND_TIMEOUT_USEC.  Without NOTIFY_SOCKET these do
 * nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_SDNOTIFY_H
#define PITCHFORK_SDNOTIFY_H

#include <stdint.h>

/* Send one notification line (printf format); failures are logged once. */
void sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* RELOADING=1 with MONOTONIC_USEC= as systemd 253+ wants it. */
void sdnotify_reloading(void);

/* The watchdog interval in microseconds, 0 when WatchdogSec= is unset. */
uint64_t sdnotify_watchdog_usec(void);

#endif
