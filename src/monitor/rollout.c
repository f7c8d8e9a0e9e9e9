/*
 * The rollout, and the one place that tells systemd about readiness.
 *
 * READY=1 is sent once every initial worker is ready; then each reload
 * (HUP, a mold booted from the code on disk) and each refork (a worker
 * promoted to mold) is a RELOADING=1 ... READY=1 pair.  Once the next
 * mold is current, workers of older generations are told to stop at
 * most refork_max_unavailable at a time, so capacity never drops by more
 * than that; the pair closes when every wanted worker is up and of the
 * new generation ("rolled out"), or when the next mold fails.  While a
 * boot, reload or refork is pending, EXTEND_TIMEOUT_USEC= keeps
 * systemd's timeout beyond pitchfork's own spawn_timeout.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/rollout.h"

#include <stdbool.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "monitor/children.h"
#include "monitor/fleet.h"
#include "monitor/mold_hooks.h"
#include "monitor/state.h"

/* Extra start time granted beyond a pending spawn's own deadline, for
 * the monitor to notice, kill and report a boot that is too slow. */
#define ROLLOUT_EXTEND_SLACK_NS (5 * CLOCK_NS_PER_SEC)

/* Every wanted worker is up (ready, not stopping) and of the rollout's
 * generation, and no next mold is pending. */
static bool
rollout_done(const struct monitor *m)
{
    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        if (w->pid <= 0 || !w->ready || w->stopping ||
            w->generation < m->rollout_gen)
            return false;
    }
    return m->next_mold.pid == 0;
}

void
rollout_worker_ready(struct monitor *m)
{
    if (m->announced_ready || fleet_ready_count(m) < m->nworkers)
        return;
    m->announced_ready = true;
    log_event(LOGL_INFO, "ready", NULL, "%d workers ready (gen %u)",
              m->nworkers, m->generation);
    m->ops->notify(m, "READY=1");
    mold_hooks_ready(m);
}

void
rollout_reload_begin(struct monitor *m)
{
    m->ops->notify(m, "RELOADING=1");
    m->reloading = true;
}

void
rollout_begin(struct monitor *m)
{
    m->rollout_gen = m->generation;
    log_event(LOGL_INFO, m->reloading ? "reload" : "refork", NULL,
              "mold pid %ld is now gen %u; replacing older workers",
              (long)m->mold.pid, m->generation);
}

void
rollout_abort(struct monitor *m, const char *how)
{
    log_event(LOGL_ERR, m->reloading ? "reload" : "refork", NULL,
              "the next mold %s before it was ready; gen %u keeps serving",
              how, m->generation);
    if (m->reloading)
        m->ops->notify(m, "READY=1");
    m->reloading = false;
}

static int
rollout_max_unavailable(const struct monitor *m)
{
    if (m->s->refork_max_unavailable > 0)
        return m->s->refork_max_unavailable;
    return (m->nworkers + 9) / 10;
}

/*
 * The older worker to stop next: the one that became ready last.  Idle
 * workers wait on the listeners with EPOLLEXCLUSIVE, and the kernel
 * hands a connection to the one that started waiting first, so the
 * oldest worker takes the traffic its promoted or stopped peers leave.
 * Stopping the newest first keeps that traffic on one old worker until
 * the end of the rollout, then on the first worker of the new
 * generation, instead of moving it from one just-woken, cold worker to
 * the next at each replacement.  -1: none is left.
 */
static int
rollout_next_to_stop(const struct monitor *m)
{
    int best = -1;

    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        if (w->pid > 0 && w->ready && !w->stopping &&
            w->generation < m->rollout_gen &&
            (best < 0 || w->ready_seq > m->workers[best].ready_seq))
            best = i;
    }
    return best;
}

void
rollout_tick(struct monitor *m)
{
    int down = 0, nr;

    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        down += !(w->pid > 0 && w->ready && !w->stopping);
    }
    while (down < rollout_max_unavailable(m) &&
           (nr = rollout_next_to_stop(m)) >= 0) {
        children_tell_stop(m, &m->workers[nr]);
        down++;
    }
    /* Not before the new mold serves: until then rollout_gen is old. */
    if (m->reloading && rollout_done(m)) {
        m->reloading = false;
        log_event(LOGL_INFO, "ready", NULL,
                  "reload done: every worker is gen %u", m->generation);
        m->ops->notify(m, "READY=1");
    }
}

/* A refork has started when a next mold exists or the generation moved:
 * a quick promotion can complete between two ticks.  A reload's READY=1
 * covers a refork during it. */
void
rollout_refork_tick(struct monitor *m)
{
    bool started = m->next_mold.pid != 0 || m->generation != m->settled_gen;

    if (m->reloading || !m->announced_ready || m->stopping) {
        m->settled_gen = m->generation;
        m->reforking = false;
        return;
    }
    if (!m->reforking && started) {
        m->reforking = true;
        m->ops->notify(m, "RELOADING=1");
    }
    if (m->reforking && rollout_done(m)) {
        m->reforking = false;
        m->settled_gen = m->generation;
        log_event(LOGL_INFO, "ready", NULL,
                  "refork done: every worker is gen %u", m->generation);
        m->ops->notify(m, "READY=1");
    }
}

/* The latest time a pending boot may take: a mold or worker not ready
 * yet gets spawn_timeout from its spawn. */
static int64_t
rollout_pending_deadline(const struct monitor *m, int64_t deadline)
{
    int64_t spawn = (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC);
    const struct child *molds[] = {&m->mold, &m->next_mold};

    for (size_t i = 0; i < sizeof(molds) / sizeof(molds[0]); i++)
        if (molds[i]->pid > 0 && !molds[i]->ready &&
            molds[i]->spawn_ns + spawn > deadline)
            deadline = molds[i]->spawn_ns + spawn;
    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        if (w->spawn_ns > 0 && !w->ready && w->spawn_ns + spawn > deadline)
            deadline = w->spawn_ns + spawn;
    }
    return deadline;
}

void
rollout_extend_timeout(struct monitor *m, int64_t now)
{
    int64_t deadline;
    char line[64];

    if (m->stopping)
        return;
    if (!m->announced_ready)
        deadline = rollout_pending_deadline(
            m, now + (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC));
    else if (m->reloading || m->reforking)
        deadline = rollout_pending_deadline(m, now);
    else
        return;
    if (deadline <= now)
        return;
    snprintf(line, sizeof(line), "EXTEND_TIMEOUT_USEC=%lld",
             (long long)((deadline - now + ROLLOUT_EXTEND_SLACK_NS) / 1000));
    m->ops->notify(m, line);
}
