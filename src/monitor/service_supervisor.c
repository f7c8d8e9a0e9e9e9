/*
 * The monitor's side of the service worker: when the current mold runs a
 * configuration file that defines before_service_worker_ready (its
 * CTL_READY carries CTL_HOOK_SERVICE), the monitor keeps one service
 * worker, asked from that mold like a worker and reparented to the
 * monitor.  It is not one of the workers: no worker number, not in the
 * ready count, never promoted.
 *
 * Policy: a service worker that dies is replaced by the current mold; one
 * of a generation older than the rollout (after a refork or a reload) is
 * told to stop, and its replacement is asked for only once it was reaped,
 * so that two never run at once; one whose heartbeat in its slot is older
 * than timeout + cleanup_timeout is killed.  A service worker that exits
 * before it reported ready is a spawn error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/service_supervisor.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/children.h"
#include "monitor/fleet.h"
#include "monitor/state.h"

#define SERVICE_ROLE LOG_STR("CHILD_ROLE", "service")

/* The current mold asks for a service worker, and the server runs. */
static bool
service_supervisor_wanted(const struct monitor *m)
{
    return !m->stopping && m->mold.pid > 0 && m->mold.ready &&
           m->mold.ctl_fd >= 0 && (m->mold.hooks & CTL_HOOK_SERVICE) != 0;
}

/* SIGKILL to the service worker. */
static void
service_supervisor_kill(struct monitor *m)
{
    struct child *sv = &m->service;

    if (m->ops->kill(m, sv->pid, SIGKILL) < 0 && errno != ESRCH)
        log_syswarn("kill service worker pid %ld", (long)sv->pid);
    sv->killed = true;
}

void
service_supervisor_request(struct monitor *m, int64_t now)
{
    struct child *sv = &m->service;
    struct ctl_msg msg = {CTL_SPAWN, CTL_NR_SERVICE, m->generation, 0, 0};

    if (!service_supervisor_wanted(m) || sv->pid != 0 || sv->spawn_ns != 0)
        return;
    if (m->ops->send(m, m->mold.ctl_fd, &msg) < 0) {
        log_syserr("ask the mold for the service worker");
        return;
    }
    sv->spawn_ns = now;
}

void
service_supervisor_mold_changed(struct monitor *m)
{
    if (m->service.pid == 0)
        m->service.spawn_ns = 0; /* asked from a mold that is gone */
}

void
service_supervisor_spawned(struct monitor *m, const struct ctl_msg *msg,
                           const int *fds, size_t nfds, int64_t now)
{
    struct child *sv = &m->service;

    if (nfds != 1 || sv->pid != 0 || msg->pid <= 0 ||
        children_was_reaped(m, msg->pid, now)) {
        log_warn("ignoring a spawn report for the service worker pid %d",
                 msg->pid);
        children_close_fds(m, fds, nfds);
        if (sv->pid == 0)
            sv->spawn_ns = 0;
        if (msg->pid > 0 && msg->pid != sv->pid &&
            !children_was_reaped(m, msg->pid, now))
            (void)m->ops->kill(m, msg->pid, SIGKILL); /* ESRCH: gone */
        return;
    }
    children_clear(sv);
    sv->pid = msg->pid;
    sv->ctl_fd = fds[0];
    sv->generation = msg->generation;
    sv->spawn_ns = now;
    log_event_for(LOGL_INFO, "spawn", -1, msg->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", msg->pid), SERVICE_ROLE),
                  "service worker spawned as pid %d (gen %u)", msg->pid,
                  msg->generation);
    if (m->ops->watch(m, sv->ctl_fd, TAG_SERVICE, 0) < 0)
        children_close(m, sv);
    if (m->stopping)
        children_tell_stop(m, sv); /* asked for just before the shutdown */
}

void
service_supervisor_ready(struct monitor *m)
{
    struct child *sv = &m->service;

    if (sv->ready)
        return;
    sv->ready = true;
    sv->spawn_ns = 0;
    fleet_spawn_ok(m);
    log_event_for(LOGL_INFO, "ready", -1, sv->generation,
                  LOG_FIELDS(SERVICE_ROLE),
                  "service worker pid %ld ready (gen %u)", (long)sv->pid,
                  sv->generation);
}

void
service_supervisor_reaped(struct monitor *m, int wait_status, int64_t now)
{
    struct child *sv = &m->service;
    char how[96];
    bool was_ready = sv->ready, expected = sv->stopping || m->stopping;
    struct shm_slot *slot = &m->slots[SHM_SERVICE_SLOT];
    struct log_field field = children_describe_exit(wait_status, how,
                                                    sizeof(how));

    log_event_for(expected ? LOGL_INFO : LOGL_WARN, "exit", -1, sv->generation,
                  LOG_FIELDS(field, SERVICE_ROLE),
                  "service worker pid %ld (gen %u) %s", (long)sv->pid,
                  sv->generation, how);
    children_close(m, sv);
    children_clear(sv);
    memset(slot, 0, sizeof(*slot));
    fleet_spawn_error(m, was_ready, now);
    service_supervisor_request(m, now);
}

/* Its heartbeat (the deadline in its slot, renewed every timeout / 2) is
 * late: log once past the timeout, SIGKILL past timeout + cleanup. */
static void
service_supervisor_heartbeat(struct monitor *m, int64_t now)
{
    struct child *sv = &m->service;
    int64_t dl = atomic_load(&m->slots[SHM_SERVICE_SLOT].deadline_ns);
    int64_t grace = (int64_t)(m->s->cleanup_timeout * CLOCK_NS_PER_SEC);

    if (sv->pid <= 0 || sv->killed || dl <= 0 || now <= dl)
        return;
    if (sv->timeout_logged != dl) {
        sv->timeout_logged = dl;
        log_event_for(LOGL_WARN, "timeout", -1, sv->generation,
                      LOG_FIELDS(LOG_INT("CHILD_PID", sv->pid), SERVICE_ROLE),
                      "service worker pid %ld missed its heartbeat: it gets "
                      "SIGKILL %g s later unless it catches up",
                      (long)sv->pid, m->s->cleanup_timeout);
    }
    if (now <= dl + grace)
        return;
    log_event_for(LOGL_ERR, "kill", -1, sv->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", sv->pid), SERVICE_ROLE),
                  "service worker pid %ld passed timeout + cleanup without "
                  "a heartbeat: SIGKILL",
                  (long)sv->pid);
    service_supervisor_kill(m);
}

/* Not ready within spawn_timeout: killed (the reaping counts the spawn
 * error), or asked again when the mold never reported it. */
static void
service_supervisor_spawn_timeout(struct monitor *m, int64_t now)
{
    struct child *sv = &m->service;
    int64_t spawn = (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC);

    if (sv->spawn_ns <= 0 || sv->ready || sv->killed ||
        now <= sv->spawn_ns + spawn)
        return;
    log_event_for(LOGL_ERR, "timeout", -1,
                  sv->pid ? sv->generation : m->generation,
                  LOG_FIELDS(SERVICE_ROLE),
                  "service worker not ready within spawn_timeout%s",
                  sv->pid ? ": SIGKILL" : "");
    if (sv->pid == 0) {
        sv->spawn_ns = 0;
        fleet_spawn_error(m, false, now);
        return;
    }
    service_supervisor_kill(m);
}

/* A service worker older than the rollout, or one the current mold no
 * longer asks for (a reload loaded a file without the hook), stops. */
static void
service_supervisor_retire(struct monitor *m)
{
    struct child *sv = &m->service;
    bool outdated = sv->generation < m->rollout_gen;

    if (sv->pid <= 0 || sv->stopping || m->stopping || !m->mold.ready)
        return;
    if (!outdated && (m->mold.hooks & CTL_HOOK_SERVICE) != 0)
        return;
    log_event_for(LOGL_INFO, NULL, -1, sv->generation,
                  LOG_FIELDS(SERVICE_ROLE),
                  "stopping service worker pid %ld (gen %u): %s",
                  (long)sv->pid, sv->generation,
                  outdated ? "its mold is outdated"
                           : "the current mold has no service worker");
    children_tell_stop(m, sv);
}

void
service_supervisor_tick(struct monitor *m, int64_t now)
{
    service_supervisor_heartbeat(m, now);
    service_supervisor_spawn_timeout(m, now);
    service_supervisor_retire(m);
    service_supervisor_request(m, now);
}
