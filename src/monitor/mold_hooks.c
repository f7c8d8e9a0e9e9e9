/*
 * What the monitor tells the mold so that the hooks upstream runs in its
 * monitor (after_monitor_ready, after_worker_exit,
 * after_worker_hard_timeout) run in the mold: this monitor never runs
 * Ruby.  Messages are best effort: a mold that is not ready, or gone, is
 * not told, and nothing waits for the hook.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/mold_hooks.h"

#include <errno.h>
#include <linux/sockios.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "core/control.h"
#include "core/log.h"
#include "monitor/state.h"

/* Queued bytes above which hook messages are dropped: the socket keeps
 * room for the spawn requests, and a mold slow in a hook never blocks
 * the monitor. */
#define MOLD_HOOKS_MAX_QUEUED (32 * 1024)

/* True when the mold's socket has room to spare. */
static bool
mold_hooks_room(struct monitor *m)
{
    int queued = 0;

    if (ioctl(m->mold.ctl_fd, SIOCOUTQ, &queued) < 0) {
        log_syswarn("ioctl SIOCOUTQ on the mold's control socket");
        return false;
    }
    if (queued <= MOLD_HOOKS_MAX_QUEUED)
        return true;
    log_warn("the mold is not reading its control socket (%d bytes "
             "queued): a hook is not run",
             queued);
    return false;
}

static void
mold_hooks_tell(struct monitor *m, uint32_t type, uint32_t bit, int nr,
                const struct child *w, uint64_t arg)
{
    struct ctl_msg msg = {type, nr, 0, 0, arg};

    if (m->mold.pid <= 0 || !m->mold.ready || m->mold.ctl_fd < 0 ||
        m->stopping || (m->mold.hooks & bit) == 0 || !mold_hooks_room(m))
        return;
    if (w != NULL) {
        msg.generation = w->generation;
        msg.pid = w->pid;
    }
    if (m->ops->send(m, m->mold.ctl_fd, &msg) < 0 && errno != EPIPE)
        log_syswarn("tell the mold about worker %d (message %u)", nr, type);
}

void
mold_hooks_ready(struct monitor *m)
{
    mold_hooks_tell(m, CTL_MONITOR_READY, CTL_HOOK_MONITOR_READY, -1, NULL, 0);
}

void
mold_hooks_worker_exited(struct monitor *m, int nr, const struct child *w,
                         int wait_status)
{
    mold_hooks_tell(m, CTL_WORKER_EXITED, CTL_HOOK_WORKER_EXITED, nr, w,
                    (uint64_t)(unsigned)wait_status);
}

void
mold_hooks_hard_timeout(struct monitor *m, int nr, const struct child *w)
{
    mold_hooks_tell(m, CTL_HARD_TIMEOUT, CTL_HOOK_HARD_TIMEOUT, nr, w, 0);
}
