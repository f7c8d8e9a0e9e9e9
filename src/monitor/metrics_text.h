/*
 * The Prometheus text exposition format (version 0.0.4) of the monitor's
 * state: what GET /metrics answers (monitor/metrics.c serves it).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_METRICS_TEXT_H
#define PITCHFORK_MONITOR_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct monitor;

/* A growing text buffer; failed once an allocation failed. */
struct metrics_text {
    char *buf;
    size_t len, cap;
    bool failed;
};

/* Append printf-style text to t. */
void metrics_text_printf(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append s to t as a label value: backslash, double quote and newline
 * escaped as the format wants. */
void metrics_text_label(struct metrics_text *t, const char *s);

/* Write every pitchfork_* family of m into t (appended).  Returns 0, or
 * -1 when memory ran out (t->failed). */
int metrics_text_write(struct metrics_text *t, struct monitor *m);

/* Free t's buffer and empty it. */
void metrics_text_free(struct metrics_text *t);

#endif
