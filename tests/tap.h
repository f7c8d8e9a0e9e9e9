/*
 * A small TAP producer for C unit tests, read by automake's
 * tap-driver.sh: plan(), ok(), is_int(), is_str(), diag(), skip_all(),
 * bail() and done_testing().
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_TAP_H
#define PITCHFORK_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;
static int tap_planned = -1;

static inline void
plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

/* Skip the whole test: "1..0 # SKIP reason", exit 0. */
static inline void
skip_all(const char *reason)
{
    printf("1..0 # SKIP %s\n", reason);
    exit(0);
}

static inline void
diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static inline void
bail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("Bail out! ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    exit(255);
}

static inline bool
tap_vok(bool cond, const char *fmt, va_list ap)
{
    tap_count++;
    if (!cond)
        tap_failed++;
    printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    return cond;
}

static inline bool
ok(bool cond, const char *fmt, ...)
{
    va_list ap;
    bool r;

    va_start(ap, fmt);
    r = tap_vok(cond, fmt, ap);
    va_end(ap);
    return r;
}

static inline bool
is_int(long long got, long long want, const char *fmt, ...)
{
    va_list ap;
    bool r;

    va_start(ap, fmt);
    r = tap_vok(got == want, fmt, ap);
    va_end(ap);
    if (!r)
        diag("     got: %lld\n#   wanted: %lld", got, want);
    return r;
}

static inline bool
is_str(const char *got, const char *want, const char *fmt, ...)
{
    va_list ap;
    bool r;

    va_start(ap, fmt);
    r = tap_vok(got != NULL && want != NULL && strcmp(got, want) == 0, fmt,
                ap);
    va_end(ap);
    if (!r)
        diag("     got: '%s'\n#   wanted: '%s'", got ? got : "(null)",
             want ? want : "(null)");
    return r;
}

/* Print the plan when none was given and return the exit status. */
static inline int
done_testing(void)
{
    if (tap_planned < 0)
        printf("1..%d\n", tap_count);
    else if (tap_planned != tap_count)
        diag("planned %d tests but ran %d", tap_planned, tap_count);
    return tap_failed > 0 || (tap_planned >= 0 && tap_planned != tap_count);
}

#endif
