/*
 * sd_notify() from the monitor: READY, STATUS, RELOADING, STOPPING,
 * WATCHDOG and EXTEND_TIMEOUT_USEC.  Without NOTIFY_SOCKET these do
 * nothing.  No call waits for the receiver: a line its full queue cannot
 * take waits in the monitor (at most 16, a newer STATUS=, WATCHDOG= or
 * EXTEND_TIMEOUT_USEC= replacing a waiting one) until sdnotify_flush().
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_SDNOTIFY_H
#define PITCHFORK_SDNOTIFY_H

#include <stddef.h>
#include <stdint.h>

/* Send one notification line (printf format) without waiting, or queue
 * it behind the lines waiting; failures are logged once. */
void sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Send the waiting lines, in order, as far as the receiver takes them;
 * the monitor's loop calls it every tick. */
void sdnotify_flush(void);

/* Lines waiting for the receiver now; lines dropped because more than
 * 16 were waiting, since the start. */
size_t sdnotify_pending(void);
uint64_t sdnotify_dropped(void);

/* In a child of the monitor: close the monitor's socket and forget
 * what waits (the child notifies nobody). */
void sdnotify_forget(void);

/* RELOADING=1 with MONOTONIC_USEC= as systemd 253+ wants it. */
void sdnotify_reloading(void);

/* The watchdog interval in microseconds, 0 when WatchdogSec= is unset. */
uint64_t sdnotify_watchdog_usec(void);

#endif
