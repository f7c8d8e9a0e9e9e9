/*
 * Refork, reload and rollout policy of the monitor.
 *
 * Refork: a warm worker of the current generation is promoted (it
 * finishes its request and becomes the next mold); reload (HUP): a
 * brand-new mold boots from the code on disk.  Either way, once the next
 * mold reports ready it becomes current, the old mold is told to stop,
 * and the older workers are replaced at most refork_max_unavailable at a
 * time, so capacity never drops by more than that.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/monitor_internal.h"
#include "core/sdnotify.h"

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

static bool
refork_eligible(const struct monitor *m, int nr)
{
    const struct child *w = &m->workers[nr];

    return w->pid > 0 && w->ready && !w->stopping && w->ctl_fd >= 0 &&
           w->generation == m->generation &&
           !atomic_load(&m->slots[nr].fork_unsafe);
}

int
refork_promote(struct monitor *m, int nr, const char *why)
{
    struct child *w = &m->workers[nr];
    struct ctl_msg msg = {CTL_PROMOTE, nr, m->next_gen, 0, 0};

    if (m->next_mold.pid != 0 || !refork_eligible(m, nr))
        return -1;
    /* The promoted process reads its new generation from its slot. */
    atomic_store(&m->slots[nr].generation, m->next_gen);
    /* The slot goes to a new worker: keep the count for STATUS. */
    m->requests_retired += atomic_load(&m->slots[nr].requests);
    if (control_send(w->ctl_fd, &msg, NULL, 0) < 0) {
        log_syswarn("tell worker %d to become the mold", nr);
        return -1;
    }
    log_event(LOGL_INFO, "promote",
              LOG_FIELDS(LOG_UINT("NEW_GENERATION", m->next_gen)),
              "promoting worker %d pid %ld to mold of gen %u (%s)", nr,
              (long)w->pid, m->next_gen, why);
    m->next_mold = *w;
    m->next_mold.ready = false;
    m->next_mold.promoting = true;
    m->promoted_nr = nr;
    m->next_mold.generation = m->next_gen++;
    m->next_mold.spawn_ns = clock_now_ns();
    if (monitor_epoll_retag(m, w->ctl_fd, TAG_NEXT_MOLD, 0) < 0)
        monitor_close_child(m, &m->next_mold);
    /* The slot stays reserved until the new mold can fill it. */
    *w = (struct child){0, -1, 0, false, 0, false, false, false, 0, 0};
    w->spawn_ns = -1;
    monitor_status(m);
    return 0;
}

bool
refork_promotion_overdue(struct monitor *m, int64_t now)
{
    struct child *c = &m->next_mold;
    const struct shm_slot *slot = &m->slots[m->promoted_nr];
    int64_t grace = (int64_t)(m->s->cleanup_timeout * NS_PER_SEC);
    int64_t dl;

    if (c->pid <= 0 || !c->promoting || c->killed ||
        atomic_load(&slot->state) != SHM_BUSY)
        return false;
    c->spawn_ns = now;
    dl = atomic_load(&slot->deadline_ns);
    return dl > 0 && now > dl + grace;
}

/* The eligible worker that served the most requests, or -1. */
static int
refork_busiest(const struct monitor *m)
{
    int best = -1;
    uint64_t most = 0;

    for (int i = 0; i < m->nworkers; i++) {
        uint64_t r = atomic_load(&m->slots[i].requests);
        if (refork_eligible(m, i) && (best < 0 || r > most)) {
            best = i;
            most = r;
        }
    }
    return best;
}

void
refork_manual(struct monitor *m)
{
    int best;

    if (m->next_mold.pid != 0) {
        log_warn("USR2: a refork or reload is already in progress");
        return;
    }
    best = refork_busiest(m);
    if (best < 0 || refork_promote(m, best, "USR2") < 0)
        log_warn("USR2: no worker of gen %u can be promoted (none ready, "
                 "or all called no_longer_fork_safe!)",
                 m->generation);
}

int
refork_replace_mold(struct monitor *m)
{
    int best;

    if (m->s->nrefork_after == 0 || m->next_mold.pid != 0)
        return -1;
    best = refork_busiest(m);
    return best < 0 ? -1 : refork_promote(m, best, "the mold died");
}

void
refork_reload(struct monitor *m)
{
    if (m->next_mold.pid != 0) {
        log_warn("HUP: a refork or reload is already in progress");
        return;
    }
    log_event(LOGL_INFO, "reload", NULL,
              "reloading: booting a new mold from the application on disk");
    sdnotify_reloading();
    m->reloading = true;
    if (monitor_boot_mold(m, &m->next_mold) < 0)
        refork_failed(m, "could not be forked");
}

/* Workers whose slot was reserved for a promotion can be spawned again. */
static void
refork_release_slots(struct monitor *m)
{
    for (int i = 0; i < m->hiwater; i++)
        if (m->workers[i].pid == 0)
            m->workers[i].spawn_ns = 0;
}

void
refork_mold_ready(struct monitor *m)
{
    struct child old = m->mold;

    if (old.pid > 0) {
        monitor_send(m, &old, CTL_STOP);
        monitor_close_child(m, &old);
    }
    m->mold = m->next_mold;
    m->next_mold =
        (struct child){0, -1, 0, false, 0, false, false, false, 0, 0};
    if (monitor_epoll_retag(m, m->mold.ctl_fd, TAG_MOLD, 0) < 0)
        monitor_close_child(m, &m->mold);
    m->generation = m->mold.generation;
    m->rollout_gen = m->generation;
    log_event(LOGL_INFO, m->reloading ? "reload" : "refork", NULL,
              "mold pid %ld is now gen %u; replacing older workers",
              (long)m->mold.pid, m->generation);
    refork_release_slots(m);
    monitor_service_mold_changed(m);
    monitor_request_workers(m);
    monitor_status(m);
}

void
refork_failed(struct monitor *m, const char *how)
{
    int64_t backoff = (int64_t)(m->s->spawn_timeout * NS_PER_SEC);

    log_event(LOGL_ERR, m->reloading ? "reload" : "refork", NULL,
              "the next mold %s before it was ready; gen %u keeps serving",
              how, m->generation);
    if (m->reloading)
        sdnotify("READY=1");
    m->reloading = false;
    m->refork_not_before = clock_now_ns() + backoff;
    refork_release_slots(m);
    /* The mold died meanwhile: without one nothing can be respawned. */
    if (m->mold.pid == 0 && !m->stopping)
        monitor_boot_mold(m, &m->mold);
    monitor_request_workers(m);
    monitor_status(m);
}

static int
refork_max_unavailable(const struct monitor *m)
{
    if (m->s->refork_max_unavailable > 0)
        return m->s->refork_max_unavailable;
    return (m->nworkers + 9) / 10;
}

/* Stop older workers, keeping at most max_unavailable workers down. */
static void
refork_rollout(struct monitor *m)
{
    int down = 0, old = 0;

    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        down += !(w->pid > 0 && w->ready && !w->stopping);
        old += w->pid > 0 && w->generation < m->rollout_gen;
    }
    for (int i = 0; i < m->nworkers && down < refork_max_unavailable(m);
         i++) {
        struct child *w = &m->workers[i];
        if (w->pid > 0 && w->ready && !w->stopping &&
            w->generation < m->rollout_gen) {
            monitor_tell_stop(m, w);
            down++;
        }
    }
    /* Not before the new mold serves: until then rollout_gen is old. */
    if (old == 0 && down == 0 && m->reloading && m->next_mold.pid == 0) {
        m->reloading = false;
        log_event(LOGL_INFO, "ready", NULL,
                  "reload done: every worker is gen %u", m->generation);
        sdnotify("READY=1");
    }
}

/* Promote the first worker past its generation's refork_after. */
static void
refork_auto(struct monitor *m)
{
    uint64_t limit = refork_threshold(m, m->generation);

    if (limit == 0 || m->next_mold.pid != 0 || !m->mold.ready ||
        clock_now_ns() < m->refork_not_before)
        return;
    for (int i = 0; i < m->nworkers; i++) {
        if (refork_eligible(m, i) &&
            atomic_load(&m->slots[i].requests) >= limit) {
            char why[64];
            snprintf(why, sizeof(why), "served %llu requests",
                     (unsigned long long)limit);
            refork_promote(m, i, why);
            return;
        }
    }
}

void
refork_tick(struct monitor *m)
{
    refork_rollout(m);
    refork_auto(m);
}
