/*
 * The monitor's descriptor limit (see fdlimit.h).  The monitor holds a
 * control socket for every child: with a low soft RLIMIT_NOFILE it would
 * be the one to run out, lose the sockets the mold passes it and spawn
 * in a loop.  It raises its own soft limit, as far as the hard limit
 * allows; the mold puts the original one back, so the application and
 * its select(2) see the limit the service was given.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/fdlimit.h"

#include <stdbool.h>
#include <sys/resource.h>

#include "core/log.h"
#include "core/settings.h"

/* 0-2, epoll, signalfd, the journal and notify sockets, the mold, the
 * next mold and the service worker, and sockets in flight in spawns. */
#define FDLIMIT_FIXED 20

static struct rlimit fdlimit_original;
static bool fdlimit_changed;

size_t
fdlimit_monitor_need(int workers, size_t listeners)
{
    return FDLIMIT_FIXED + listeners + (size_t)(workers > 0 ? workers : 0);
}

int
fdlimit_raise(size_t need)
{
    struct rlimit rl;
    rlim_t want = need + SETTINGS_MAX_WORKERS;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        log_syswarn("getrlimit RLIMIT_NOFILE");
        return 0;
    }
    fdlimit_original = rl;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        want = rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            log_syswarn("setrlimit RLIMIT_NOFILE to %llu",
                        (unsigned long long)rl.rlim_cur);
            rl = fdlimit_original;
        } else {
            fdlimit_changed = true;
            log_info("RLIMIT_NOFILE: the monitor's soft limit is %llu "
                     "(its children keep %llu)",
                     (unsigned long long)rl.rlim_cur,
                     (unsigned long long)fdlimit_original.rlim_cur);
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        log_err("RLIMIT_NOFILE: the monitor needs %zu descriptors for its "
                "workers and listeners, the limit is %llu (hard %llu): "
                "raise LimitNOFILE= or ulimit -n",
                need, (unsigned long long)rl.rlim_cur,
                (unsigned long long)rl.rlim_max);
        return -1;
    }
    return 0;
}

void
fdlimit_restore(void)
{
    if (fdlimit_changed && setrlimit(RLIMIT_NOFILE, &fdlimit_original) < 0)
        log_syswarn("setrlimit RLIMIT_NOFILE back to %llu",
                    (unsigned long long)fdlimit_original.rlim_cur);
}
