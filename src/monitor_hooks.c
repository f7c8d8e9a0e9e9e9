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

#include <errno.h>

#include "control.h"
#include "log.h"
#include "monitor_internal.h"

static void
monitor_hooks_tell(struct monitor *m, uint32_t type, int nr,
                   const struct child *w, uint64_t arg)
{
    struct ctl_msg msg = {type, nr, 0, 0, arg};

    if (m->mold.pid <= 0 || !m->mold.ready || m->mold.ctl_fd < 0 ||
        m->stopping)
        return;
    if (w != NULL) {
        msg.generation = w->generation;
        msg.pid = w->pid;
    }
    if (control_send(m->mold.ctl_fd, &msg, NULL, 0) < 0 && errno != EPIPE)
        log_syswarn("tell the mold about worker %d (message %u)", nr, type);
}

void
monitor_hooks_ready(struct monitor *m)
{
    monitor_hooks_tell(m, CTL_MONITOR_READY, -1, NULL, 0);
}

void
monitor_hooks_worker_exited(struct monitor *m, int nr, const struct child *w,
                            int wait_status)
{
    monitor_hooks_tell(m, CTL_WORKER_EXITED, nr, w,
                       (uint64_t)(unsigned)wait_status);
}

void
monitor_hooks_hard_timeout(struct monitor *m, int nr, const struct child *w)
{
    monitor_hooks_tell(m, CTL_HARD_TIMEOUT, nr, w, 0);
}
