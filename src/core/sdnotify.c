/*
 * Notifications to systemd (Type=notify, NotifyAccess=main).  Only the
 * monitor calls these; see sdnotify.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "core/log.h"

void
sdnotify(const char *fmt, ...)
{
    static bool warned;
    char buf[512];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    rc = sd_notify(0, buf);
    if (rc < 0 && !warned) {
        warned = true;
        errno = -rc;
        log_syswarn("sd_notify \"%s\"", buf);
    }
}

void
sdnotify_reloading(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail */
    sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL +
                 (unsigned long long)ts.tv_nsec / 1000);
}

uint64_t
sdnotify_watchdog_usec(void)
{
    uint64_t usec = 0;

    /* unset_environment=0: the value is re-read by nothing else. */
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return usec;
}
