/*
 * The worker slots of the monitor.  Worker nr (0 <= nr < nworkers) is
 * asked from the current mold (CTL_SPAWN), reported by it (CTL_SPAWNED,
 * with the worker's control socket), ready (CTL_READY) and, once reaped,
 * asked for again.  The shared table's slot nr holds its request
 * deadline: past it the worker is logged once (the soft timeout), and
 * past the deadline + cleanup_timeout it gets SIGKILL (the hard timeout).
 * A worker not ready within spawn_timeout gets SIGKILL too, and counts
 * as a spawn error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/workers.h"

#include <signal.h>
#include <string.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/children.h"
#include "monitor/fleet.h"
#include "monitor/hard_cap.h"
#include "monitor/health.h"
#include "monitor/mold_hooks.h"
#include "monitor/rollout.h"
#include "monitor/service_supervisor.h"
#include "monitor/state.h"
#include "monitor/tally.h"

/*
 * Spawn requests the mold has not answered yet, at most: each direction of
 * a control socket holds a few hundred messages, and a monitor blocked on
 * a full one would never read the answers that drain the other.
 */
#define SPAWNS_IN_FLIGHT 32

/* Asked for and not reported yet (-1 is a slot kept for a promotion). */
static int
workers_spawns_in_flight(const struct monitor *m)
{
    int n = 0;

    for (int i = 0; i < m->hiwater; i++)
        n += m->workers[i].pid == 0 && m->workers[i].spawn_ns > 0;
    return n;
}

void
workers_request(struct monitor *m, int64_t now)
{
    int in_flight = workers_spawns_in_flight(m);

    if (m->stopping || m->mold.pid == 0 || !m->mold.ready)
        return;
    for (int nr = 0; nr < m->nworkers && in_flight < SPAWNS_IN_FLIGHT; nr++) {
        struct child *w = &m->workers[nr];
        struct ctl_msg msg = {CTL_SPAWN, nr, m->generation, 0, 0};
        if (w->pid != 0 || w->spawn_ns != 0)
            continue;
        hard_cap_prepare(m, nr); /* before the worker can exist */
        if (m->ops->send(m, m->mold.ctl_fd, &msg) < 0) {
            log_syserr("ask the mold for worker %d", nr);
            return;
        }
        w->spawn_ns = now;
        in_flight++;
    }
    service_supervisor_request(m, now); /* after the workers: they serve */
}

/* A report for a slot that is not waiting for it: close what came, free
 * a slot TTOU removed while its spawn was pending, kill the process. */
static void
workers_unwanted(struct monitor *m, const struct ctl_msg *msg, const int *fds,
                 size_t nfds, int64_t now)
{
    log_warn("ignoring a spawn report for worker %d pid %d", msg->nr,
             msg->pid);
    children_close_fds(m, fds, nfds);
    if (msg->nr >= 0 && msg->nr < m->hiwater && m->workers[msg->nr].pid == 0)
        m->workers[msg->nr].spawn_ns = 0;
    if (msg->pid > 0 && !children_was_reaped(m, msg->pid, now))
        (void)m->ops->kill(m, msg->pid, SIGKILL); /* ESRCH: gone */
    workers_request(m, now);
}

void
workers_spawned(struct monitor *m, const struct ctl_msg *msg, const int *fds,
                size_t nfds, int64_t now)
{
    struct child *w;

    if (msg->nr < 0 || msg->nr >= m->nworkers || nfds != 1 ||
        m->workers[msg->nr].pid != 0 ||
        children_was_reaped(m, msg->pid, now)) {
        workers_unwanted(m, msg, fds, nfds, now);
        return;
    }
    w = &m->workers[msg->nr];
    children_clear(w);
    w->pid = msg->pid;
    w->ctl_fd = fds[0];
    w->generation = msg->generation;
    w->spawn_ns = now;
    log_event_for(LOGL_INFO, "spawn", msg->nr, msg->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", msg->pid)),
                  "worker %d spawned as pid %d (gen %u)", msg->nr, msg->pid,
                  msg->generation);
    if (m->ops->watch(m, w->ctl_fd, TAG_WORKER, (uint32_t)msg->nr) < 0)
        children_close(m, w);
    if (m->stopping)
        children_tell_stop(m, w); /* asked for before the stop */
    workers_request(m, now);
}

void
workers_ready(struct monitor *m, int nr)
{
    struct child *w = &m->workers[nr];

    if (w->ready)
        return;
    w->ready = true;
    w->ready_seq = ++m->ready_seq;
    w->spawn_ns = 0;
    fleet_spawn_ok(m);
    log_event_for(LOGL_INFO, "ready", nr, w->generation, NULL,
                  "worker %d pid %ld ready (gen %u)", nr, (long)w->pid,
                  w->generation);
    rollout_worker_ready(m);
    health_status(m);
}

/* Log a worker past its soft timeout once per deadline; a worker that
 * timed out keeps its deadline in its slot until it is reaped. */
static void
workers_soft_timeout(struct monitor *m, int nr, int64_t now)
{
    struct child *w = &m->workers[nr];
    int64_t dl = atomic_load(&m->slots[nr].deadline_ns);

    if (w->pid == 0 || atomic_load(&m->slots[nr].pid) != w->pid || dl <= 0 ||
        now <= dl || w->timeout_logged == dl)
        return;
    w->timeout_logged = dl;
    m->counts.timeouts_soft++;
    log_event_for(LOGL_WARN, "timeout", nr, w->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", w->pid)),
                  "worker %d pid %ld passed its timeout: it exits, or gets "
                  "SIGKILL %g s later",
                  nr, (long)w->pid, m->s->cleanup_timeout);
}

void
workers_reaped(struct monitor *m, int nr, int st, int64_t now)
{
    struct child *w = &m->workers[nr];
    char how[96];
    bool was_ready = w->ready, expected = w->stopping || m->stopping;
    /* Killed at its spawn_timeout: that already was its spawn error. */
    bool counted = !was_ready && w->killed;
    struct log_field field;

    workers_soft_timeout(m, nr, now);    /* it may have been quick */
    (void)hard_cap_reaped(m, nr, w, st); /* logged there when it was */

    field = children_describe_exit(st, how, sizeof(how));
    log_event_for(expected ? LOGL_INFO : LOGL_WARN, "exit", nr, w->generation,
                  LOG_FIELDS(field,
                             LOG_UINT("REQUESTS",
                                      atomic_load(&m->slots[nr].requests))),
                  "worker %d pid %ld (gen %u) %s", nr, (long)w->pid,
                  w->generation, how);
    mold_hooks_worker_exited(m, nr, w, st);
    children_close(m, w);
    children_clear(w);
    tally_retire(m, nr);
    memset(&m->slots[nr], 0, sizeof(m->slots[nr]));
    fleet_spawn_error(m, was_ready || counted, now);
    workers_request(m, now);
    health_status(m);
}

void
workers_scale(struct monitor *m, int delta, int64_t now)
{
    int n = m->nworkers + delta;

    if (n < 1 || n > SETTINGS_MAX_WORKERS) {
        log_warn("worker count stays %d (allowed: 1 to %d)", m->nworkers,
                 SETTINGS_MAX_WORKERS);
        return;
    }
    m->nworkers = n;
    if (n > m->hiwater)
        m->hiwater = n;
    if (delta < 0)
        children_tell_stop(m, &m->workers[n]);
    log_info("now %d workers", n);
    health_workers_changed(m);
    workers_request(m, now);
    health_status(m);
}

/* Past timeout + cleanup in one request: SIGKILL, once. */
static void
workers_hard_timeout(struct monitor *m, int nr, int64_t now)
{
    struct child *w = &m->workers[nr];
    int64_t dl = atomic_load(&m->slots[nr].deadline_ns);
    int64_t grace = (int64_t)(m->s->cleanup_timeout * CLOCK_NS_PER_SEC);

    workers_soft_timeout(m, nr, now);
    /* Until a new worker writes its pid, the slot is its predecessor's. */
    if (w->pid == 0 || atomic_load(&m->slots[nr].pid) != w->pid || w->killed ||
        dl <= 0 || now <= dl + grace)
        return;
    log_event_for(LOGL_ERR, "kill", nr, w->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", w->pid)),
                  "worker %d pid %ld passed timeout + cleanup: SIGKILL", nr,
                  (long)w->pid);
    children_kill(m, w, SIGKILL);
    w->killed = true;
    m->counts.timeouts_hard++;
    mold_hooks_hard_timeout(m, nr, w);
}

/* Not ready within spawn_timeout: SIGKILL and a spawn error.  Returns
 * true when the slot is to be asked for again. */
static bool
workers_spawn_timeout(struct monitor *m, int nr, int64_t now)
{
    struct child *w = &m->workers[nr];
    int64_t spawn = (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC);

    if (w->spawn_ns <= 0 || w->ready || now <= w->spawn_ns + spawn)
        return false;
    w->spawn_ns = 0;
    if (w->pid == 0 && nr >= m->nworkers)
        return false; /* TTOU removed it; nobody waits for it */
    log_event_for(LOGL_ERR, "timeout", nr,
                  w->pid ? w->generation : m->generation, NULL,
                  "worker %d not ready within spawn_timeout", nr);
    if (w->pid > 0) {
        children_kill(m, w, SIGKILL);
        w->killed = true;
    }
    fleet_spawn_error(m, false, now);
    return true;
}

void
workers_tick(struct monitor *m, int64_t now)
{
    bool respawn = false;

    for (int i = 0; i < m->hiwater; i++) {
        workers_hard_timeout(m, i, now);
        respawn |= workers_spawn_timeout(m, i, now);
    }
    /* A spawn the mold never reported is asked for again (a reported
     * one is when the killed worker is reaped). */
    if (respawn)
        workers_request(m, now);
}
