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

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/monitor_internal.h"

#define SERVICE_ROLE LOG_STR("CHILD_ROLE", "service")

static const struct child service_none = {.pid = 0, .ctl_fd = -1};

/* The current mold asks for a service worker, and the server runs. */
static bool
monitor_service_wanted(const struct monitor *m)
{
    return !m->stopping && m->mold.pid > 0 && m->mold.ready &&
           m->mold.ctl_fd >= 0 && (m->mold.hooks & CTL_HOOK_SERVICE) != 0;
}

void
monitor_service_request(struct monitor *m)
{
    struct child *sv = &m->service;
    struct ctl_msg msg = {CTL_SPAWN, CTL_NR_SERVICE, m->generation, 0, 0};

    if (!monitor_service_wanted(m) || sv->pid != 0 || sv->spawn_ns != 0)
        return;
    if (control_send(m->mold.ctl_fd, &msg, NULL, 0) < 0) {
        log_syserr("ask the mold for the service worker");
        return;
    }
    sv->spawn_ns = clock_now_ns();
}

void
monitor_service_mold_changed(struct monitor *m)
{
    if (m->service.pid == 0)
        m->service.spawn_ns = 0; /* asked from a mold that is gone */
}

void
monitor_service_spawned(struct monitor *m, const struct ctl_msg *msg,
                        int *fds, size_t nfds)
{
    struct child *sv = &m->service;

    if (nfds != 1 || sv->pid != 0 || msg->pid <= 0 ||
        monitor_was_reaped(m, msg->pid)) {
        log_warn("ignoring a spawn report for the service worker pid %d",
                 msg->pid);
        monitor_close_fds(fds, nfds);
        if (sv->pid == 0)
            sv->spawn_ns = 0;
        if (msg->pid > 0 && msg->pid != sv->pid &&
            !monitor_was_reaped(m, msg->pid))
            (void)kill(msg->pid, SIGKILL); /* unwanted; ESRCH: gone */
        return;
    }
    *sv = service_none;
    sv->pid = msg->pid;
    sv->ctl_fd = fds[0];
    sv->generation = msg->generation;
    sv->spawn_ns = clock_now_ns();
    log_event_for(LOGL_INFO, "spawn", -1, msg->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", msg->pid), SERVICE_ROLE),
                  "service worker spawned as pid %d (gen %u)", msg->pid,
                  msg->generation);
    if (monitor_epoll_add(m, sv->ctl_fd, TAG_SERVICE, 0) < 0)
        monitor_close_child(m, sv);
    if (m->stopping)
        monitor_service_stop(m); /* asked for just before the shutdown */
}

void
monitor_service_message(struct monitor *m)
{
    struct child *sv = &m->service;
    struct ctl_msg msg;
    int fds[CTL_MAX_FDS];
    size_t nfds = 0;

    if (!monitor_recv(m, sv, &msg, fds, &nfds))
        return;
    monitor_close_fds(fds, nfds);
    if (msg.type != CTL_READY || sv->ready)
        return;
    sv->ready = true;
    sv->spawn_ns = 0;
    m->spawn_errors = 0;
    log_event_for(LOGL_INFO, "ready", -1, sv->generation,
                  LOG_FIELDS(SERVICE_ROLE),
                  "service worker pid %ld ready (gen %u)", (long)sv->pid,
                  sv->generation);
}

void
monitor_service_reaped(struct monitor *m, int wait_status)
{
    struct child *sv = &m->service;
    char how[96];
    bool was_ready = sv->ready, expected = sv->stopping || m->stopping;
    struct shm_slot *slot = &m->slots[SHM_SERVICE_SLOT];
    struct log_field field =
        monitor_describe_exit(wait_status, how, sizeof(how));

    log_event_for(expected ? LOGL_INFO : LOGL_WARN, "exit", -1,
                  sv->generation, LOG_FIELDS(field, SERVICE_ROLE),
                  "service worker pid %ld (gen %u) %s", (long)sv->pid,
                  sv->generation, how);
    monitor_close_child(m, sv);
    *sv = service_none;
    memset(slot, 0, sizeof(*slot));
    monitor_count_spawn_error(m, was_ready);
    monitor_service_request(m);
}

void
monitor_service_stop(struct monitor *m)
{
    monitor_tell_stop(m, &m->service);
}

/* Its heartbeat (the deadline in its slot, renewed every timeout / 2) is
 * late: log once past the timeout, SIGKILL past timeout + cleanup. */
static void
monitor_service_heartbeat(struct monitor *m, int64_t now)
{
    struct child *sv = &m->service;
    int64_t dl = atomic_load(&m->slots[SHM_SERVICE_SLOT].deadline_ns);
    int64_t grace = (int64_t)(m->s->cleanup_timeout * NS_PER_SEC);

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
    if (kill(sv->pid, SIGKILL) < 0 && errno != ESRCH)
        log_syswarn("kill service worker pid %ld", (long)sv->pid);
    sv->killed = true;
}

/* Not ready within spawn_timeout: killed (the reaping counts the spawn
 * error), or asked again when the mold never reported it. */
static void
monitor_service_spawn_timeout(struct monitor *m, int64_t now)
{
    struct child *sv = &m->service;
    int64_t spawn = (int64_t)(m->s->spawn_timeout * NS_PER_SEC);

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
        monitor_count_spawn_error(m, false);
        return;
    }
    if (kill(sv->pid, SIGKILL) < 0 && errno != ESRCH)
        log_syswarn("kill service worker pid %ld", (long)sv->pid);
    sv->killed = true;
}

/* A service worker older than the rollout, or one the current mold no
 * longer asks for (a reload loaded a file without the hook), stops. */
static void
monitor_service_retire(struct monitor *m)
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
    monitor_service_stop(m);
}

void
monitor_service_tick(struct monitor *m, int64_t now)
{
    monitor_service_heartbeat(m, now);
    monitor_service_spawn_timeout(m, now);
    monitor_service_retire(m);
    monitor_service_request(m);
}
