/*
 * Health of the fleet, seen from the monitor: each worker's private
 * memory (USS, read round-robin a few workers per tick) against the
 * worker memory cap, the cgroup's memory.current against its limit
 * (which triggers a refork, as reforking re-shares memory), and what
 * systemd is told about it: STATUS= about once a second, RELOADING=1
 * ... READY=1 around a refork, EXTEND_TIMEOUT_USEC= during a slow boot,
 * reload or refork.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/health.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/cgroup.h"
#include "core/control.h"
#include "core/listeners.h"
#include "core/log.h"
#include "monitor/monitor_internal.h"
#include "core/sdnotify.h"

/* Extra start time granted beyond a pending spawn's own deadline, for
 * the monitor to notice, kill and report a boot that is too slow. */
#define HEALTH_EXTEND_SLACK_NS (5 * NS_PER_SEC)

/* The monitor is a single process with a single loop: file-scope state. */
static struct {
    uint64_t cap;             /* worker memory cap in bytes; 0 = none */
    bool cap_fixed;           /* cap known (explicit, or auto derived) */
    int cursor;               /* next worker to measure */
    int64_t next_second;      /* next once-a-second duty */
    int64_t pressure_not_before;
    bool reforking;           /* RELOADING=1 sent for a refork */
    unsigned generation;      /* generation when no refork was going on */
    char status[256];         /* last STATUS= sent */
} hs;

/* Derive an "auto" cap from the cgroup limit, the mold's private memory
 * and the wanted worker count; log it when it changes, and at a reload. */
static void
health_derive_cap(struct monitor *m, const struct child *mold)
{
    struct cgroup_limits cg;
    uint64_t uss = cgroup_private_memory(mold->pid), cap;

    if (cgroup_read_self(&cg) < 0 || cg.memory_max == CGROUP_UNLIMITED) {
        if (!hs.cap_fixed)
            log_info("worker_memory_max=auto: the cgroup has no memory "
                     "limit, so workers have no memory cap");
        hs.cap = 0;
        return;
    }
    cap = cgroup_worker_cap(cg.memory_max, uss, m->nworkers);
    if (hs.cap_fixed && cap == hs.cap && !m->reloading)
        return;
    hs.cap = cap;
    log_event_for(LOGL_INFO, NULL, -1, mold->generation,
                  LOG_FIELDS(LOG_UINT("MEMORY_MAX", cap),
                             LOG_UINT("CGROUP_MEMORY_MAX", cg.memory_max),
                             LOG_UINT("MOLD_USS", uss)),
                  "worker_memory_max=auto: %llu bytes = (memory limit %llu "
                  "- mold %llu) / (%d workers + 1)%s",
                  (unsigned long long)cap, (unsigned long long)cg.memory_max,
                  (unsigned long long)uss, m->nworkers,
                  cap == 0 ? ": the mold alone fills the limit, no cap" : "");
}

void
health_mold_ready(struct monitor *m, const struct child *mold)
{
    atomic_store(&m->slots[SHM_MOLD_SLOT].memory,
                 cgroup_private_memory(mold->pid));
    /* A reload boots the application afresh: its size may have changed. */
    if (hs.cap_fixed && !m->reloading)
        return;
    if (m->s->worker_memory_auto)
        health_derive_cap(m, mold);
    else
        hs.cap = m->s->worker_memory_max;
    hs.cap_fixed = true;
}

void
health_workers_changed(struct monitor *m)
{
    if (m->s->worker_memory_auto && hs.cap_fixed && m->mold.pid > 0 &&
        m->mold.ready)
        health_derive_cap(m, &m->mold);
}

/* Measure worker nr; over the cap, it finishes its request and exits. */
static void
health_check_worker(struct monitor *m, int nr)
{
    struct child *w = &m->workers[nr];
    uint64_t rss, uss;

    if (w->pid <= 0 || !w->ready || w->stopping || w->killed)
        return;
    if (cgroup_process_memory(w->pid, &rss, &uss) < 0)
        return; /* exited: the reaper reports it */
    atomic_store(&m->slots[nr].memory, uss);
    if (hs.cap == 0 || uss <= hs.cap)
        return;
    log_event_for(LOGL_WARN, "memory", nr, w->generation,
                  LOG_FIELDS(LOG_UINT("RSS", rss), LOG_UINT("USS", uss),
                             LOG_UINT("MEMORY_MAX", hs.cap)),
                  "worker %d pid %ld has %llu private bytes, above "
                  "worker_memory_max %llu: replacing it after its request",
                  nr, (long)w->pid, (unsigned long long)uss,
                  (unsigned long long)hs.cap);
    monitor_tell_stop(m, w);
}

/* One worker per tick, two with more than ten workers: reading
 * smaps_rollup walks the page tables and took 5-9 ms for a 400 MiB
 * worker on a loaded 2-CPU machine, so the loop's 100 ms tick spends at
 * most about a fifth on it.  Each worker is measured every n/10 s (up
 * to 10 workers: at most once a second) or n/20 s. */
static void
health_memory_round(struct monitor *m)
{
    int n = m->nworkers, per = n > 10 ? 2 : 1;

    for (int i = 0; i < per && n > 0; i++) {
        if (hs.cursor >= n) {
            hs.cursor = 0;
            if (m->mold.pid > 0)
                atomic_store(&m->slots[SHM_MOLD_SLOT].memory,
                             cgroup_private_memory(m->mold.pid));
        }
        health_check_worker(m, hs.cursor++);
    }
}

/* The ready worker of the current generation that served the most. */
static int
health_busiest(const struct monitor *m, int skip)
{
    uint64_t most = 0;
    int best = -1;

    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        uint64_t r = atomic_load(&m->slots[i].requests);
        if (i != skip && w->pid > 0 && w->ready && !w->stopping &&
            w->generation == m->generation && (best < 0 || r > most)) {
            best = i;
            most = r;
        }
    }
    return best;
}

/* The cgroup's working set (memory.current less inactive page cache)
 * within 10% of memory.high (or of the limit): refork, at most once per
 * spawn_timeout, when reforking is on. */
static void
health_pressure(struct monitor *m, int64_t now)
{
    struct cgroup_limits cg;
    uint64_t limit, used;
    char why[96];
    int nr;

    if (m->s->nrefork_after == 0 || m->next_mold.pid != 0 ||
        !m->mold.ready || now < hs.pressure_not_before ||
        cgroup_read_self(&cg) < 0)
        return;
    limit = cg.memory_high != CGROUP_UNLIMITED ? cg.memory_high
                                               : cg.memory_max;
    used = cgroup_working_set(&cg);
    if (limit == CGROUP_UNLIMITED || used < limit / 10 * 9)
        return;
    hs.pressure_not_before =
        now + (int64_t)(m->s->spawn_timeout * NS_PER_SEC);
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
    nr = health_busiest(m, -1);
    if (nr < 0 || (refork_promote(m, nr, why) < 0 &&
                   ((nr = health_busiest(m, nr)) < 0 ||
                    refork_promote(m, nr, why) < 0)))
        log_warn("no worker of gen %u can be promoted for a refork",
                 m->generation);
}

/* Every wanted worker runs the rollout's generation and is ready. */
static bool
health_rolled_out(const struct monitor *m)
{
    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        if (w->pid <= 0 || !w->ready || w->generation < m->rollout_gen)
            return false;
    }
    return m->next_mold.pid == 0;
}

/* RELOADING=1 when a refork starts (HUP reloads send their own), READY=1
 * once every worker runs the new generation or the refork failed.  A
 * refork has started when a next mold exists or the generation moved:
 * a quick promotion can complete between two ticks. */
static void
health_refork_notify(struct monitor *m)
{
    bool started = m->next_mold.pid != 0 || m->generation != hs.generation;

    if (m->reloading || !m->announced_ready || m->stopping) {
        hs.generation = m->generation;
        hs.reforking = false; /* a reload's READY=1 covers a refork */
        return;
    }
    if (!hs.reforking && started) {
        hs.reforking = true;
        sdnotify_reloading();
    }
    if (hs.reforking && health_rolled_out(m)) {
        hs.reforking = false;
        hs.generation = m->generation;
        log_event(LOGL_INFO, "ready", NULL,
                  "refork done: every worker is gen %u", m->generation);
        sdnotify("READY=1");
    }
}

/* The latest time a pending boot may take: a mold or worker not ready
 * yet gets spawn_timeout from its spawn. */
static int64_t
health_pending_deadline(const struct monitor *m, int64_t deadline)
{
    int64_t spawn = (int64_t)(m->s->spawn_timeout * NS_PER_SEC);
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

/* While the initial boot, a reload or a refork is pending (between
 * READY=1's), let systemd's start or reload timeout run to the latest
 * spawn deadline pitchfork itself allows, plus some slack. */
static void
health_extend_timeout(const struct monitor *m, int64_t now)
{
    int64_t deadline;

    if (m->stopping)
        return;
    if (!m->announced_ready)
        deadline = health_pending_deadline(
            m, now + (int64_t)(m->s->spawn_timeout * NS_PER_SEC));
    else if (m->reloading || hs.reforking)
        deadline = health_pending_deadline(m, now);
    else
        return;
    if (deadline > now)
        sdnotify("EXTEND_TIMEOUT_USEC=%lld",
                 (long long)((deadline - now + HEALTH_EXTEND_SLACK_NS) /
                             1000));
}

static void
health_status_text(struct monitor *m, char *buf, size_t size)
{
    uint64_t requests = m->requests_retired;
    unsigned queue = 0;
    char q[16] = "?";
    int ready = 0;

    for (int i = 0; i < m->hiwater; i++)
        requests += atomic_load(&m->slots[i].requests);
    for (int i = 0; i < m->nworkers; i++)
        ready += m->workers[i].pid > 0 && m->workers[i].ready;
    if (listeners_queue_depth(m->ls, &queue) == 0)
        snprintf(q, sizeof(q), "%u", queue);
    snprintf(buf, size,
             "gen %u · %d/%d workers ready · %llu requests · queue %s%s%s%s",
             m->generation, ready, m->nworkers, (unsigned long long)requests,
             q, m->reloading ? " · reloading" : "",
             m->next_mold.pid && !m->reloading ? " · reforking" : "",
             m->stopping ? " · stopping" : "");
}

void
health_status(struct monitor *m)
{
    health_status_text(m, hs.status, sizeof(hs.status));
    sdnotify("STATUS=%s", hs.status);
}

/* STATUS= again when it changed. */
static void
health_status_refresh(struct monitor *m)
{
    char now[sizeof(hs.status)];

    health_status_text(m, now, sizeof(now));
    if (strcmp(now, hs.status) == 0)
        return;
    memcpy(hs.status, now, sizeof(hs.status));
    sdnotify("STATUS=%s", hs.status);
}

void
health_tick(struct monitor *m, int64_t now)
{
    health_refork_notify(m);
    if (m->stopping)
        return;
    health_memory_round(m);
    if (now < hs.next_second)
        return;
    hs.next_second = now + NS_PER_SEC;
    health_pressure(m, now);
    health_extend_timeout(m, now);
    health_status_refresh(m);
}
