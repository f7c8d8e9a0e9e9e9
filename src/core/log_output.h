/*
 * log.c's writes to standard error: blocking, or, in the monitor,
 * never waiting for the reader, the lines it cannot take dropped and
 * counted.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_LOG_OUTPUT_H
#define PITCHFORK_LOG_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* on: from now on no write waits (the monitor); off: writes block as
 * usual (a child of the monitor, after fork).  Returns 0, or -1 with
 * errno when the non-blocking descriptor cannot be opened (writes then
 * block). */
int log_output_nonblocking(bool on);

/* Write one line of len bytes to standard error.  Returns 0, or -1 with
 * errno: EAGAIN when the reader did not take it (dropped, counted). */
int log_output_write(const char *buf, size_t len);

struct iovec;

/* Send one journal entry (n "NAME=value" fields) without waiting, when
 * log_output_nonblocking(true).  Returns 0 sent, 1 when the caller is to
 * send it with sd_journal_sendv() (blocking mode, or an entry too large
 * for a datagram), -1 with errno: EAGAIN when journald's queue is full
 * (dropped, counted). */
int log_output_journal(const struct iovec *iov, size_t n);

/* Lines dropped since the start (for a metrics endpoint:
 * pitchfork_log_lines_dropped_total). */
uint64_t log_output_dropped(void);

/* on: a line that cannot be written now is not counted as dropped (the
 * report of those dropped, tried again later); off: it is. */
void log_output_uncounted(bool on);

/* Dropped lines not reported yet, and n of them now reported. */
uint64_t log_output_unreported(void);
void log_output_reported(uint64_t n);

#endif
