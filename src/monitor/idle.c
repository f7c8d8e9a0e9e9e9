/*
 * Scale to zero under socket activation.  When every listener came from
 * systemd, the socket outlives the service: connections that arrive
 * while it is stopped wait in the socket's queue, and systemd starts the
 * service again at the first one.  So a server idle for idle_timeout
 * may stop: the same graceful stop as SIGTERM (monitor/fleet.c), exit
 * status 0.
 *
 * The idle clock restarts at every sign of activity: the request count
 * of the shared worker table moved (a request completed), a worker is
 * busy (it has accepted a connection and not finished it: never stop
 * under a request), a connection waits in a listener's queue, or the
 * fleet is not settled (the first boot, a reload or a refork).  The
 * service worker's work is not activity: it serves no connection.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/idle.h"

#include <stdbool.h>

#include "core/clock.h"
#include "core/listener_queue.h"
#include "core/listeners.h"
#include "core/log.h"
#include "core/shm.h"
#include "monitor/fleet.h"
#include "monitor/state.h"

/* idle_timeout is set and every listener was passed by systemd. */
static bool
idle_enabled(const struct monitor *m)
{
    return m->s->idle_timeout > 0 && m->ls->activated;
}

/* Requests served since the start, by workers that exited included. */
static uint64_t
idle_requests(const struct monitor *m)
{
    uint64_t n = m->requests_retired;

    for (int i = 0; i < m->hiwater; i++)
        n += atomic_load(&m->slots[i].requests);
    return n;
}

/* A worker holds a connection (from accept to the end of its request). */
static bool
idle_busy(const struct monitor *m)
{
    for (int i = 0; i < m->hiwater; i++)
        if (atomic_load(&m->slots[i].state) == SHM_BUSY)
            return true;
    return false;
}

/* No boot, reload or refork in progress. */
static bool
idle_settled(const struct monitor *m)
{
    return m->announced_ready && !m->reloading && !m->reforking &&
           m->next_mold.pid == 0;
}

void
idle_start(struct monitor *m, int64_t now)
{
    m->idle_since = now;
    m->idle_requests = idle_requests(m);
    if (m->s->idle_timeout > 0 && !m->ls->activated)
        log_warn("idle_timeout=%g is ignored: the listening sockets were "
                 "not passed by systemd (socket activation), so after an "
                 "idle exit nothing would accept the next connection",
                 m->s->idle_timeout);
}

/* Whether a connection waits to be accepted; an unknown queue (logged
 * once by listener_queue_depth) counts as empty: systemd keeps what
 * waits there anyway. */
static bool
idle_queued(const struct monitor *m)
{
    unsigned depth = 0;

    return listener_queue_depth(m->ls, &depth) == 0 && depth > 0;
}

void
idle_tick(struct monitor *m, int64_t now)
{
    uint64_t requests;
    int64_t timeout;

    if (!idle_enabled(m) || m->stopping)
        return;
    requests = idle_requests(m);
    if (requests != m->idle_requests || idle_busy(m) || !idle_settled(m)) {
        m->idle_requests = requests;
        m->idle_since = now;
        return;
    }
    timeout = (int64_t)(m->s->idle_timeout * CLOCK_NS_PER_SEC);
    if (now - m->idle_since < timeout)
        return;
    /* Read last, and only at the deadline: it costs system calls. */
    if (idle_queued(m)) {
        m->idle_since = now;
        return;
    }
    log_event(LOGL_INFO, "idle-exit",
              LOG_FIELDS(LOG_DOUBLE("IDLE_TIMEOUT", m->s->idle_timeout),
                         LOG_UINT("REQUESTS", requests)),
              "no request for %g s (idle_timeout): stopping; systemd "
              "starts the service again at the next connection",
              m->s->idle_timeout);
    fleet_stop(m, false, now);
}
