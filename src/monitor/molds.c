/*
 * The current mold and the next one.  The current mold forks the
 * workers; when it dies a worker is promoted to replace it (reforking
 * on) or a fresh one boots, and one that dies before it was ever ready
 * stops the server.  The next mold is either booted from the code on disk
 * (a HUP reload) or a promoted worker (refork.c); once it reports ready
 * it becomes the current mold, the old one is told to stop and the
 * rollout begins (rollout.c).  One that dies or misses spawn_timeout
 * leaves the current generation serving.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/molds.h"

#include <signal.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/children.h"
#include "monitor/fleet.h"
#include "monitor/health.h"
#include "monitor/refork.h"
#include "monitor/rollout.h"
#include "monitor/service_supervisor.h"
#include "monitor/state.h"
#include "monitor/workers.h"

/* Workers whose slot was reserved for a promotion can be spawned again. */
static void
molds_release_slots(struct monitor *m)
{
    for (int i = 0; i < m->hiwater; i++)
        if (m->workers[i].pid == 0)
            m->workers[i].spawn_ns = 0;
}

/* Keep old, a mold just told to stop, until it is reaped (see
 * molds_tick).  With RETIRED_MOLDS of them still running, the one told
 * first gets SIGKILL and leaves its place. */
static void
molds_retire(struct monitor *m, const struct child *old, int64_t now)
{
    struct child *r = NULL;

    for (int i = 0; i < RETIRED_MOLDS; i++) {
        if (m->retired[i].pid == 0) {
            r = &m->retired[i];
            break;
        }
        if (r == NULL || m->retired[i].spawn_ns < r->spawn_ns)
            r = &m->retired[i];
    }
    if (r->pid != 0) {
        log_warn("%d retired molds still running: SIGKILL to pid %ld "
                 "(gen %u)",
                 RETIRED_MOLDS, (long)r->pid, r->generation);
        children_kill(m, r, SIGKILL);
    }
    *r = *old;
    r->ctl_fd = -1; /* closed by the caller */
    r->stopping = true;
    r->killed = false;
    r->spawn_ns = now;
}

/* The next mold is ready: make it current and start the rollout. */
static void
molds_next_ready(struct monitor *m, int64_t now)
{
    struct child old = m->mold;

    if (old.pid > 0) {
        children_tell(m, &old, CTL_STOP);
        children_close(m, &old);
        molds_retire(m, &old, now);
    }
    m->mold = m->next_mold;
    children_clear(&m->next_mold);
    if (m->ops->watch(m, m->mold.ctl_fd, TAG_MOLD, 0) < 0)
        children_close(m, &m->mold);
    m->generation = m->mold.generation;
    rollout_begin(m);
    refork_release_slot(m);
    molds_release_slots(m);
    service_supervisor_mold_changed(m);
    workers_request(m, now);
    health_status(m);
}

void
molds_ready(struct monitor *m, struct child *c, uint32_t hooks, int64_t now)
{
    if (c->ready)
        return;
    c->ready = true;
    c->promoting = false;
    c->hooks = hooks;
    health_mold_ready(m, c);
    log_event_for(LOGL_INFO, "ready", -1, c->generation, NULL,
                  "mold pid %ld ready (gen %u)", (long)c->pid, c->generation);
    if (c == &m->next_mold) {
        molds_next_ready(m, now);
        return;
    }
    m->generation = c->generation;
    workers_request(m, now);
}

/* The next mold died or timed out before it was ready (how says which):
 * the current generation keeps serving. */
static void
molds_next_failed(struct monitor *m, const char *how, int64_t now)
{
    rollout_abort(m, how);
    refork_backoff(m, now);
    molds_release_slots(m);
    /* The mold died meanwhile: without one nothing can be respawned. */
    if (m->mold.pid == 0 && !m->stopping)
        children_boot(m, &m->mold, now);
    workers_request(m, now);
    health_status(m);
}

void
molds_reaped(struct monitor *m, int st, int64_t now)
{
    char how[96];
    bool was_ready = m->mold.ready;
    struct log_field field = children_describe_exit(st, how, sizeof(how));

    log_event_for(m->stopping ? LOGL_INFO : LOGL_WARN, "exit", -1,
                  m->mold.generation, LOG_FIELDS(field),
                  "mold pid %ld (gen %u) %s", (long)m->mold.pid,
                  m->mold.generation, how);
    children_close(m, &m->mold);
    children_clear(&m->mold);
    for (int i = 0; i < m->nworkers; i++)
        if (m->workers[i].pid == 0)
            m->workers[i].spawn_ns = 0;
    service_supervisor_mold_changed(m);
    if (!was_ready && !m->announced_ready) {
        log_err("the application failed to boot: stopping");
        m->status = 1;
        m->stopping = true;
        return;
    }
    fleet_spawn_error(m, was_ready, now);
    if (!m->stopping && m->next_mold.pid == 0 &&
        refork_replace_mold(m, now) < 0)
        children_boot(m, &m->mold, now);
}

void
molds_next_reaped(struct monitor *m, int st, int64_t now)
{
    char how[96];

    (void)children_describe_exit(st, how, sizeof(how));
    /* A promoted worker's slot holds its last request: count it, and
     * its deadline is not the next one's. */
    refork_release_slot(m);
    children_close(m, &m->next_mold);
    children_clear(&m->next_mold);
    molds_next_failed(m, how, now);
}

void
molds_reload(struct monitor *m, int64_t now)
{
    if (m->next_mold.pid != 0) {
        /* A deploy must not be lost to an automatic refork that happened
         * to be under way: the reload waits for it, once. */
        if (!m->reload_pending)
            log_info("HUP: a %s is in progress; reloading once its mold "
                     "is ready or has failed",
                     m->reloading ? "reload" : "refork");
        m->reload_pending = true;
        return;
    }
    m->reload_pending = false;
    log_event(LOGL_INFO, "reload", NULL,
              "reloading: booting a new mold from the application on disk");
    m->counts.reloads++;
    rollout_reload_begin(m);
    if (children_boot(m, &m->next_mold, now) < 0)
        molds_next_failed(m, "could not be forked", now);
}

bool
molds_retired_reaped(struct monitor *m, pid_t pid, int st)
{
    char how[96];

    for (int i = 0; i < RETIRED_MOLDS; i++) {
        struct child *r = &m->retired[i];
        struct log_field field;
        if (r->pid != pid || pid <= 0)
            continue;
        field = children_describe_exit(st, how, sizeof(how));
        log_event_for(st == 0 ? LOGL_INFO : LOGL_WARN, "exit", -1,
                      r->generation, LOG_FIELDS(field),
                      "retired mold pid %ld (gen %u) %s", (long)pid,
                      r->generation, how);
        children_clear(r);
        return true;
    }
    return false;
}

/* A retired mold still running timeout + cleanup_timeout after it was
 * told to stop gets SIGKILL, once. */
static void
molds_retired_tick(struct monitor *m, int64_t now)
{
    int64_t grace = (int64_t)((m->s->timeout + m->s->cleanup_timeout) *
                              CLOCK_NS_PER_SEC);

    for (int i = 0; i < RETIRED_MOLDS; i++) {
        struct child *r = &m->retired[i];
        if (r->pid <= 0 || r->killed || now <= r->spawn_ns + grace)
            continue;
        log_event_for(LOGL_ERR, "kill", -1, r->generation, NULL,
                      "retired mold pid %ld (gen %u) still running timeout "
                      "+ cleanup after it was told to stop: SIGKILL",
                      (long)r->pid, r->generation);
        children_kill(m, r, SIGKILL);
        r->killed = true;
    }
}

void
molds_tick(struct monitor *m, int64_t now)
{
    int64_t spawn = (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC);
    struct child *molds[] = {&m->mold, &m->next_mold};

    molds_retired_tick(m, now);
    if (refork_promotion_overdue(m, now)) {
        log_event_for(LOGL_ERR, "kill", -1, m->next_mold.generation, NULL,
                      "promoted worker pid %ld passed timeout + cleanup in "
                      "its last request: SIGKILL",
                      (long)m->next_mold.pid);
        children_kill(m, &m->next_mold, SIGKILL);
        m->next_mold.killed = true;
    }
    for (int i = 0; i < 2; i++) {
        struct child *c = molds[i];
        if (c->pid > 0 && !c->ready && !c->killed &&
            now > c->spawn_ns + spawn) {
            log_event_for(LOGL_ERR, "timeout", -1, c->generation, NULL,
                          "mold pid %ld not ready within spawn_timeout: "
                          "SIGKILL",
                          (long)c->pid);
            children_kill(m, c, SIGKILL);
            c->killed = true;
        }
    }
    if (m->reload_pending && m->next_mold.pid == 0 && !m->stopping)
        molds_reload(m, now);
}
