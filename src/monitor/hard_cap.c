/*
 * The hard memory cap of each worker (worker_memory_hard_max), seen from
 * the monitor.  The kernel enforces it: each worker lives in its own
 * cgroup with that memory limit (core/cgroup_worker.c, reached through
 * m->ops), so an allocation past it gets the worker OOM-killed and no
 * other.  The monitor makes the cgroup before it asks the mold for the
 * worker, and tells an OOM kill from any other SIGKILL by the cgroup's
 * oom_kill counter, which it notes when it makes the cgroup (one left
 * behind by a promoted worker is reused) and reads when it reaps.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/hard_cap.h"

#include <signal.h>
#include <sys/wait.h>

#include "core/log.h"
#include "monitor/children.h"
#include "monitor/state.h"

/* The monitor is a single process with a single loop: file-scope state.
 * Each worker cgroup's oom_kill counter when it was made. */
static uint64_t hc_before[SETTINGS_MAX_WORKERS];

void
hard_cap_prepare(struct monitor *m, int nr)
{
    if (m->s->worker_memory_hard_max == 0)
        return;
    hc_before[nr] = 0;
    if (m->ops->cgroup_make(m, nr) < 0) {
        log_syswarn("worker %d: make its cgroup with worker_memory_hard_max "
                    "%llu; it runs without that limit",
                    nr, (unsigned long long)m->s->worker_memory_hard_max);
        return;
    }
    if (m->ops->cgroup_oom_kills(m, nr, &hc_before[nr]) < 0)
        log_syswarn("worker %d: read the OOM kills of its cgroup", nr);
}

bool
hard_cap_oom(uint64_t before, uint64_t after)
{
    return after > before;
}

/* Log and count the kernel's kill of worker nr at its limit. */
static void
hard_cap_log(struct monitor *m, int nr, const struct child *w)
{
    uint64_t limit = m->s->worker_memory_hard_max;

    m->oom_kills++;
    log_event_for(LOGL_ERR, "oom", nr, w->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", w->pid),
                             LOG_UINT("MEMORY_HARD_MAX", limit),
                             LOG_UINT("OOM_KILLS", m->oom_kills)),
                  "worker %d pid %ld (gen %u) was killed by the kernel at "
                  "worker_memory_hard_max %llu bytes: replacing it",
                  nr, (long)w->pid, w->generation, (unsigned long long)limit);
}

bool
hard_cap_reaped(struct monitor *m, int nr, const struct child *w, int st)
{
    uint64_t after = 0;
    bool oom = false;

    if (m->s->worker_memory_hard_max == 0)
        return false;
    /* The kernel's OOM killer sends SIGKILL; the counter says it was it. */
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
        if (m->ops->cgroup_oom_kills(m, nr, &after) < 0)
            log_syswarn("worker %d: read the OOM kills of its cgroup", nr);
        else if ((oom = hard_cap_oom(hc_before[nr], after)))
            hard_cap_log(m, nr, w);
    }
    hc_before[nr] = 0;
    if (m->ops->cgroup_remove(m, nr) < 0)
        log_syswarn("worker %d: remove its cgroup", nr);
    return oom;
}
