/*
 * Health of the fleet, seen from the monitor: each worker's private
 * memory (USS, read round-robin a few workers per tick) against the
 * worker memory cap, and the STATUS= line systemd shows: generation,
 * workers ready, requests served and the listen-queue depth.  (The
 * cgroup's memory pressure triggers a refork: refork.c.)
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/health.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/cgroup.h"
#include "core/listener_queue.h"
#include "core/log.h"
#include "monitor/children.h"
#include "monitor/fleet.h"
#include "monitor/state.h"

/* The monitor is a single process with a single loop: file-scope state. */
static struct {
    uint64_t cap;     /* worker memory cap in bytes; 0 = none */
    bool cap_fixed;   /* cap known (explicit, or auto derived) */
    int cursor;       /* next worker to measure */
    char status[256]; /* last STATUS= sent */
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
    uint64_t rss, uss, pss;

    if (w->pid <= 0 || !w->ready || w->stopping || w->killed)
        return;
    if (cgroup_process_memory_pss(w->pid, &rss, &uss, &pss) < 0)
        return; /* exited: the reaper reports it */
    atomic_store(&m->slots[nr].memory, uss);
    atomic_store(&m->slots[nr].pss, pss);
    if (hs.cap == 0 || uss <= hs.cap)
        return;
    log_event_for(LOGL_WARN, "memory", nr, w->generation,
                  LOG_FIELDS(LOG_UINT("RSS", rss), LOG_UINT("USS", uss),
                             LOG_UINT("MEMORY_MAX", hs.cap)),
                  "worker %d pid %ld has %llu private bytes, above "
                  "worker_memory_max %llu: replacing it after its request",
                  nr, (long)w->pid, (unsigned long long)uss,
                  (unsigned long long)hs.cap);
    m->counts.memory_replacements++;
    children_tell_stop(m, w);
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

static void
health_status_text(struct monitor *m, char *buf, size_t size)
{
    uint64_t requests = m->requests_retired;
    unsigned queue = 0;
    char q[16] = "?";

    for (int i = 0; i < m->hiwater; i++)
        requests += atomic_load(&m->slots[i].requests);
    if (listener_queue_depth(m->ls, &queue) == 0)
        snprintf(q, sizeof(q), "%u", queue);
    snprintf(buf, size,
             "gen %u · %d/%d workers ready · %llu requests · queue %s%s%s%s",
             m->generation, fleet_ready_count(m), m->nworkers,
             (unsigned long long)requests, q,
             m->reloading ? " · reloading" : "",
             m->next_mold.pid && !m->reloading ? " · reforking" : "",
             m->stopping ? " · stopping" : "");
}

/* Remember text as the last STATUS= and send it. */
static void
health_status_send(struct monitor *m, const char *text)
{
    char line[sizeof(hs.status) + 8];

    snprintf(hs.status, sizeof(hs.status), "%s", text);
    snprintf(line, sizeof(line), "STATUS=%s", hs.status);
    m->ops->notify(m, line);
}

void
health_status(struct monitor *m)
{
    char text[sizeof(hs.status)];

    health_status_text(m, text, sizeof(text));
    health_status_send(m, text);
}

void
health_status_refresh(struct monitor *m)
{
    char text[sizeof(hs.status)];

    health_status_text(m, text, sizeof(text));
    if (strcmp(text, hs.status) != 0)
        health_status_send(m, text);
}

void
health_tick(struct monitor *m)
{
    health_memory_round(m);
}
