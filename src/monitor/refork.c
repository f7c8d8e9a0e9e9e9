/*
 * Reforking: a warm worker of the current generation is promoted (it
 * finishes its request and becomes the next mold, whose workers share
 * its warmed-up memory).  Triggers: a generation's refork_after request
 * count, USR2, the death of the mold (when reforking is on), and the
 * cgroup's working set within 10% of its memory limit (reforking
 * re-shares memory).  What follows a promotion, the next mold's
 * readiness and the rollout, is molds.c's and rollout.c's.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/refork.h"

#include <stdio.h>
#include <string.h>

#include "core/cgroup.h"
#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/children.h"
#include "monitor/health.h"
#include "monitor/state.h"
#include "monitor/tally.h"

/* The request count that triggers the refork of generation gen, or 0. */
static uint64_t
refork_threshold(const struct monitor *m, unsigned gen)
{
    const struct settings *s = m->s;

    if (s->nrefork_after == 0)
        return 0;
    if (gen < s->nrefork_after)
        return s->refork_after[gen];
    return s->refork_repeat_last ? s->refork_after[s->nrefork_after - 1] : 0;
}

/* Up and of the current generation (the memory trigger's choice). */
static bool
refork_current(const struct monitor *m, int nr)
{
    const struct child *w = &m->workers[nr];

    return w->pid > 0 && w->ready && !w->stopping &&
           w->generation == m->generation;
}

/* Current, reachable and not marked fork-unsafe by the application. */
static bool
refork_eligible(const struct monitor *m, int nr)
{
    return refork_current(m, nr) && m->workers[nr].ctl_fd >= 0 &&
           !atomic_load(&m->slots[nr].fork_unsafe);
}

/* Promote worker nr to be the next mold (it finishes its request
 * first); why goes to the log.  Returns 0, or -1 when it is not eligible
 * or cannot be told. */
static int
refork_promote(struct monitor *m, int nr, const char *why, int64_t now)
{
    struct child *w = &m->workers[nr];
    struct ctl_msg msg = {CTL_PROMOTE, nr, m->next_gen, 0, 0};

    if (m->next_mold.pid != 0 || !refork_eligible(m, nr))
        return -1;
    /* The promoted process reads its new generation from its slot, so
     * it is written first, and put back when the worker was not told. */
    atomic_store(&m->slots[nr].generation, m->next_gen);
    if (m->ops->send(m, w->ctl_fd, &msg) < 0) {
        log_syswarn("tell worker %d to become the mold", nr);
        atomic_store(&m->slots[nr].generation, w->generation);
        return -1;
    }
    m->counts.reforks++;
    log_event(LOGL_INFO, "promote",
              LOG_FIELDS(LOG_UINT("NEW_GENERATION", m->next_gen)),
              "promoting worker %d pid %ld to mold of gen %u (%s)", nr,
              (long)w->pid, m->next_gen, why);
    m->next_mold = *w;
    m->next_mold.ready = false;
    m->next_mold.promoting = true;
    m->promoted_nr = nr;
    m->promoted_slot = true;
    m->next_mold.generation = m->next_gen++;
    m->next_mold.spawn_ns = now;
    if (m->ops->watch(m, w->ctl_fd, TAG_NEXT_MOLD, 0) < 0)
        children_close(m, &m->next_mold);
    /* The slot stays reserved until the new mold can fill it. */
    children_clear(w);
    w->spawn_ns = -1;
    health_status(m);
    return 0;
}

void
refork_release_slot(struct monitor *m)
{
    struct shm_slot *slot = &m->slots[m->promoted_nr];

    if (!m->promoted_slot)
        return;
    /* Its last request counted after the promotion: count it now. */
    tally_retire(m, m->promoted_nr);
    memset(slot, 0, sizeof(*slot));
    m->promoted_slot = false;
}

bool
refork_promotion_overdue(struct monitor *m, int64_t now)
{
    struct child *c = &m->next_mold;
    const struct shm_slot *slot = &m->slots[m->promoted_nr];
    int64_t grace = (int64_t)(m->s->cleanup_timeout * CLOCK_NS_PER_SEC);
    int64_t dl;

    if (c->pid <= 0 || !c->promoting || c->killed ||
        atomic_load(&slot->state) != SHM_BUSY)
        return false;
    c->spawn_ns = now;
    dl = atomic_load(&slot->deadline_ns);
    return dl > 0 && now > dl + grace;
}

/* The worker that served the most requests among the eligible ones (or
 * among the current ones, when eligible is false), skipping worker skip;
 * -1 when there is none. */
static int
refork_busiest(const struct monitor *m, bool eligible, int skip)
{
    int best = -1;
    uint64_t most = 0;

    for (int i = 0; i < m->nworkers; i++) {
        uint64_t r = atomic_load(&m->slots[i].requests);
        bool ok;

        if (i == skip)
            continue;
        ok = eligible ? refork_eligible(m, i) : refork_current(m, i);
        if (ok && (best < 0 || r > most)) {
            best = i;
            most = r;
        }
    }
    return best;
}

void
refork_manual(struct monitor *m, int64_t now)
{
    int best;

    if (m->next_mold.pid != 0) {
        log_warn("USR2: a refork or reload is already in progress");
        return;
    }
    best = refork_busiest(m, true, -1);
    if (best < 0 || refork_promote(m, best, "USR2", now) < 0)
        log_warn("USR2: no worker of gen %u can be promoted (none ready, "
                 "or all called no_longer_fork_safe!)",
                 m->generation);
}

int
refork_replace_mold(struct monitor *m, int64_t now)
{
    int best;

    if (m->s->nrefork_after == 0 || m->next_mold.pid != 0)
        return -1;
    best = refork_busiest(m, true, -1);
    return best < 0 ? -1 : refork_promote(m, best, "the mold died", now);
}

void
refork_backoff(struct monitor *m, int64_t now)
{
    m->refork_not_before = now +
                           (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC);
}

/* Why refork_after waits while a worker is past it (m->refork_waiting). */
enum refork_wait {
    REFORK_WAIT_NONE = 0,   /* no worker past it, or promoted */
    REFORK_WAIT_NEXT_MOLD,  /* a refork or reload is in progress */
    REFORK_WAIT_MOLD,       /* the mold is not ready */
    REFORK_WAIT_BACKOFF,    /* a refork failed: spawn_timeout's backoff */
    REFORK_WAIT_NOT_READY,  /* the worker: not ready yet */
    REFORK_WAIT_STOPPING,   /* told to stop */
    REFORK_WAIT_NO_SOCKET,  /* its control socket is closed */
    REFORK_WAIT_FORK_UNSAFE /* it called no_longer_fork_safe! */
};

static const char *const refork_wait_text[] = {
    [REFORK_WAIT_NONE] = "",
    [REFORK_WAIT_NEXT_MOLD] = "a refork or reload is in progress",
    [REFORK_WAIT_MOLD] = "the mold is not ready",
    [REFORK_WAIT_BACKOFF] = "a refork failed less than spawn_timeout ago",
    [REFORK_WAIT_NOT_READY] = "the worker is not ready",
    [REFORK_WAIT_STOPPING] = "the worker is stopping",
    [REFORK_WAIT_NO_SOCKET] = "the worker's control socket is closed",
    [REFORK_WAIT_FORK_UNSAFE] = "the worker called no_longer_fork_safe!",
};

/* Why worker nr, past the threshold, cannot be promoted (NONE: it can). */
static enum refork_wait
refork_worker_wait(const struct monitor *m, int nr)
{
    const struct child *w = &m->workers[nr];

    if (!w->ready)
        return REFORK_WAIT_NOT_READY;
    if (w->stopping)
        return REFORK_WAIT_STOPPING;
    if (w->ctl_fd < 0)
        return REFORK_WAIT_NO_SOCKET;
    if (atomic_load(&m->slots[nr].fork_unsafe))
        return REFORK_WAIT_FORK_UNSAFE;
    return REFORK_WAIT_NONE;
}

/* Why no worker of the current generation past limit is promoted now,
 * for the worker *nr (-1: none is past it; NONE: promote *nr). */
static enum refork_wait
refork_wait_reason(const struct monitor *m, uint64_t limit, int64_t now,
                   int *nr)
{
    enum refork_wait first = REFORK_WAIT_NONE;

    *nr = -1;
    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        enum refork_wait why;
        if (w->pid <= 0 || w->generation != m->generation ||
            atomic_load(&m->slots[i].requests) < limit)
            continue;
        why = refork_worker_wait(m, i);
        if (*nr < 0 || why == REFORK_WAIT_NONE) {
            *nr = i;
            first = why;
        }
        if (why == REFORK_WAIT_NONE)
            break;
    }
    if (*nr < 0)
        return REFORK_WAIT_NONE;
    if (m->next_mold.pid != 0)
        return REFORK_WAIT_NEXT_MOLD;
    if (!m->mold.ready)
        return REFORK_WAIT_MOLD;
    if (now < m->refork_not_before)
        return REFORK_WAIT_BACKOFF;
    return first;
}

/* Say at debug level why worker nr past limit waits, once per reason. */
static void
refork_log_wait(struct monitor *m, enum refork_wait why, int nr,
                uint64_t limit)
{
    if ((int)why == m->refork_waiting && nr == m->refork_waiting_nr)
        return;
    m->refork_waiting = (int)why;
    m->refork_waiting_nr = nr;
    if (why == REFORK_WAIT_NONE)
        return;
    log_debug("not promoting worker %d (gen %u), past refork_after %llu "
              "with %llu requests: %s",
              nr, m->generation, (unsigned long long)limit,
              (unsigned long long)atomic_load(&m->slots[nr].requests),
              refork_wait_text[why]);
}

void
refork_tick(struct monitor *m, int64_t now)
{
    uint64_t limit = refork_threshold(m, m->generation);
    enum refork_wait why;
    char text[64];
    int nr;

    if (limit == 0)
        return;
    why = refork_wait_reason(m, limit, now, &nr);
    if (nr >= 0 && why == REFORK_WAIT_NONE) {
        snprintf(text, sizeof(text), "served %llu requests",
                 (unsigned long long)limit);
        if (refork_promote(m, nr, text, now) < 0)
            why = REFORK_WAIT_NO_SOCKET; /* logged: it could not be told */
    }
    refork_log_wait(m, why, nr, limit);
}

/* Promote the busiest current worker, or the next busiest when that one
 * cannot be; why goes to the log. */
static void
refork_for_memory(struct monitor *m, const char *why, int64_t now)
{
    int nr = refork_busiest(m, false, -1);

    if (nr < 0 || (refork_promote(m, nr, why, now) < 0 &&
                   ((nr = refork_busiest(m, false, nr)) < 0 ||
                    refork_promote(m, nr, why, now) < 0)))
        log_warn("no worker of gen %u can be promoted for a refork",
                 m->generation);
}

void
refork_pressure(struct monitor *m, int64_t now)
{
    struct cgroup_limits cg;
    uint64_t limit, used;
    char why[96];

    if (m->s->nrefork_after == 0 || m->next_mold.pid != 0 || !m->mold.ready ||
        now < m->pressure_not_before || cgroup_read_self(&cg) < 0)
        return;
    limit = cg.memory_high != CGROUP_UNLIMITED ? cg.memory_high
                                               : cg.memory_max;
    used = cgroup_working_set(&cg);
    if (limit == CGROUP_UNLIMITED || used < limit / 10 * 9)
        return;
    m->pressure_not_before = now +
                             (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC);
    log_event(LOGL_WARN, "memory",
              LOG_FIELDS(LOG_UINT("CGROUP_MEMORY_CURRENT", cg.memory_current),
                         LOG_UINT("CGROUP_MEMORY_INACTIVE_FILE",
                                  cg.memory_inactive_file),
                         LOG_UINT("CGROUP_MEMORY_LIMIT", limit)),
              "the cgroup uses %llu of %llu bytes, not counting %llu of "
              "inactive page cache: reforking to re-share memory",
              (unsigned long long)used, (unsigned long long)limit,
              (unsigned long long)cg.memory_inactive_file);
    snprintf(why, sizeof(why), "memory in use %llu near %llu",
             (unsigned long long)used, (unsigned long long)limit);
    refork_for_memory(m, why, now);
}
