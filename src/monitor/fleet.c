/*
 * Every child of the monitor at once: counts over the workers, SIGKILL to
 * all, the shutdown (STOPPING=1, then CTL_STOP to each child or SIGKILL
 * for a quick one, and SIGKILL at the stop deadline), and the count of
 * consecutive spawn errors after which the monitor gives up.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/fleet.h"

#include <signal.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/children.h"
#include "monitor/state.h"

int
fleet_ready_count(const struct monitor *m)
{
    int n = 0;

    for (int i = 0; i < m->nworkers; i++)
        n += m->workers[i].pid > 0 && m->workers[i].ready;
    return n;
}

bool
fleet_alive(const struct monitor *m)
{
    if (m->mold.pid > 0 || m->next_mold.pid > 0 || m->service.pid > 0)
        return true;
    for (int i = 0; i < RETIRED_MOLDS; i++)
        if (m->retired[i].pid > 0)
            return true;
    for (int i = 0; i < m->hiwater; i++)
        if (m->workers[i].pid > 0)
            return true;
    return false;
}

void
fleet_kill_all(struct monitor *m, int sig)
{
    children_kill(m, &m->mold, sig);
    children_kill(m, &m->next_mold, sig);
    children_kill(m, &m->service, sig);
    for (int i = 0; i < RETIRED_MOLDS; i++)
        children_kill(m, &m->retired[i], sig);
    for (int i = 0; i < m->hiwater; i++)
        children_kill(m, &m->workers[i], sig);
}

void
fleet_stop(struct monitor *m, bool quick, int64_t now)
{
    if (!m->stopping || quick)
        log_event(LOGL_INFO, "shutdown", NULL, "%s shutdown",
                  quick ? "quick" : "graceful");
    if (!m->stopping)
        m->ops->notify(m, "STOPPING=1");
    m->stopping = true;
    m->stop_deadline = now +
                       (int64_t)((m->s->timeout + m->s->cleanup_timeout) *
                                 CLOCK_NS_PER_SEC);
    if (quick) {
        fleet_kill_all(m, SIGKILL);
        return;
    }
    children_tell(m, &m->mold, CTL_STOP);
    if (m->next_mold.pid > 0)
        children_tell(m, &m->next_mold, CTL_STOP);
    children_tell_stop(m, &m->service);
    for (int i = 0; i < m->hiwater; i++)
        children_tell_stop(m, &m->workers[i]);
}

void
fleet_spawn_error(struct monitor *m, bool was_ready, int64_t now)
{
    if (was_ready || m->stopping)
        return;
    m->counts.spawn_errors++;
    if (++m->spawn_errors >= m->s->max_consecutive_spawn_errors) {
        log_err("%d consecutive spawn errors (max_consecutive_spawn_errors"
                "): giving up",
                m->spawn_errors);
        m->status = 1;
        fleet_stop(m, false, now); /* requests in progress finish */
    }
}

void
fleet_spawn_ok(struct monitor *m)
{
    m->spawn_errors = 0;
}

void
fleet_tick(struct monitor *m, int64_t now)
{
    if (!m->stopping || now <= m->stop_deadline)
        return;
    log_warn("children still running after the stop timeout: SIGKILL");
    fleet_kill_all(m, SIGKILL);
    m->stop_deadline = now + CLOCK_NS_PER_SEC;
}
