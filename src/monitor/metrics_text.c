/*
 * The Prometheus text exposition format (version 0.0.4) of the monitor's
 * state (monitor/metrics_text.h): the worker slots (requests, request
 * durations, states, memory), the totals of retired workers and the
 * monitor's own counters (monitor/tally.h, state.h), the listen queues,
 * and the build.  Every family has its HELP and TYPE lines.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/metrics_text.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/latency.h"
#include "core/listener_queue.h"
#include "core/listeners.h"
#include "core/log.h"
#include "monitor/state.h"
#include "monitor/tally.h"

static bool
metrics_text_grow(struct metrics_text *t, size_t need)
{
    size_t cap = t->cap ? t->cap : 4096;
    char *b;

    while (cap < t->len + need + 1)
        cap *= 2;
    if (cap == t->cap)
        return true;
    if ((b = realloc(t->buf, cap)) == NULL) {
        t->failed = true;
        return false;
    }
    t->buf = b;
    t->cap = cap;
    return true;
}

void
metrics_text_printf(struct metrics_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->failed || n < 0 || !metrics_text_grow(t, (size_t)n))
        return;
    va_start(ap, fmt);
    (void)vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap); /* sized */
    va_end(ap);
    t->len += (size_t)n;
}

void
metrics_text_label(struct metrics_text *t, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            metrics_text_printf(t, "\\\\");
        else if (*s == '"')
            metrics_text_printf(t, "\\\"");
        else if (*s == '\n')
            metrics_text_printf(t, "\\n");
        else
            metrics_text_printf(t, "%c", *s);
    }
}

void
metrics_text_free(struct metrics_text *t)
{
    free(t->buf);
    *t = (struct metrics_text){0};
}

static void
metrics_text_head(struct metrics_text *t, const char *name, const char *type,
                  const char *help)
{
    metrics_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                        type);
}

static void
metrics_text_one(struct metrics_text *t, const char *name, const char *type,
                 const char *help, unsigned long long v)
{
    metrics_text_head(t, name, type, help);
    metrics_text_printf(t, "%s %llu\n", name, v);
}

static void
metrics_text_requests(struct metrics_text *t, struct monitor *m)
{
    metrics_text_head(t, "pitchfork_requests_total", "counter",
                      "Requests served, by worker number (kept across "
                      "the worker's replacements).");
    for (int i = 0; i < m->hiwater; i++) {
        uint64_t n = m->counts.requests[i];
        if (tally_slot_counted(m, i))
            n += atomic_load(&m->slots[i].requests);
        metrics_text_printf(t,
                            "pitchfork_requests_total{worker=\"%d\"} %llu\n",
                            i, (unsigned long long)n);
    }
}

static void
metrics_text_histogram(struct metrics_text *t, struct monitor *m)
{
    static const char *const name = "pitchfork_request_duration_seconds";
    uint64_t b[LATENCY_BUCKETS], sum = m->counts.latency_sum_ns, cum = 0;

    memcpy(b, m->counts.latency, sizeof(b));
    for (int i = 0; i < m->hiwater; i++) {
        if (!tally_slot_counted(m, i))
            continue;
        for (int k = 0; k < LATENCY_BUCKETS; k++)
            b[k] += atomic_load_explicit(&m->slots[i].latency[k],
                                         memory_order_relaxed);
        sum += atomic_load_explicit(&m->slots[i].latency_sum_ns,
                                    memory_order_relaxed);
    }
    metrics_text_head(t, name, "histogram",
                      "Time from the request head parsed to the response "
                      "written, in the worker.");
    for (int k = 0; k < LATENCY_BUCKETS; k++) {
        cum += b[k];
        metrics_text_printf(t, "%s_bucket{le=\"%s\"} %llu\n", name,
                            latency_bound_labels[k], (unsigned long long)cum);
    }
    metrics_text_printf(t, "%s_sum %.9f\n%s_count %llu\n", name,
                        (double)sum / 1e9, name, (unsigned long long)cum);
}

static void
metrics_text_workers(struct metrics_text *t, struct monitor *m)
{
    static const char *const states[] = {"spawning", "idle", "busy"};
    int n[3] = {0, 0, 0};

    for (int i = 0; i < m->hiwater; i++) {
        const struct child *w = &m->workers[i];
        uint32_t st = atomic_load(&m->slots[i].state);
        if (w->pid <= 0 && w->spawn_ns <= 0)
            continue;
        if (!w->ready || !tally_slot_live(m, i))
            n[0]++;
        else if (st == SHM_BUSY)
            n[2]++;
        else if (st == SHM_IDLE)
            n[1]++;
    }
    metrics_text_head(t, "pitchfork_workers", "gauge",
                      "Worker processes by state.");
    for (int k = 0; k < 3; k++)
        metrics_text_printf(t, "pitchfork_workers{state=\"%s\"} %d\n",
                            states[k], n[k]);
}

static void
metrics_text_memory(struct metrics_text *t, struct monitor *m)
{
    metrics_text_head(t, "pitchfork_worker_memory_bytes", "gauge",
                      "Each worker's memory at its last reading: unique "
                      "(uss) and proportional (pss) set size.");
    for (int i = 0; i < m->hiwater; i++) {
        if (!tally_slot_live(m, i))
            continue;
        metrics_text_printf(
            t,
            "pitchfork_worker_memory_bytes{worker=\"%d\",kind=\"uss\"} %llu\n"
            "pitchfork_worker_memory_bytes{worker=\"%d\",kind=\"pss\"} %llu\n",
            i, (unsigned long long)atomic_load(&m->slots[i].memory), i,
            (unsigned long long)atomic_load(&m->slots[i].pss));
    }
}

/* Busy workers that accepted their connection on listener li. */
static int
metrics_text_active(struct monitor *m, size_t li)
{
    int n = 0;

    for (int i = 0; i < m->hiwater; i++)
        if (tally_slot_live(m, i) &&
            atomic_load(&m->slots[i].state) == SHM_BUSY &&
            atomic_load(&m->slots[i].listener) == li)
            n++;
    return n;
}

/* The listener label of listener l: its address, and "#N" for queue N
 * of an address bound listen_queues times. */
static void
metrics_text_listener(struct metrics_text *t, const struct listener *l,
                      const char *kind)
{
    metrics_text_printf(t, "pitchfork_listen_queue{listener=\"");
    metrics_text_label(t, l->addr);
    if (l->nqueues > 1)
        metrics_text_printf(t, "#%d", l->queue);
    metrics_text_printf(t, "\",kind=\"%s\"} ", kind);
}

static void
metrics_text_queues(struct metrics_text *t, struct monitor *m)
{
    metrics_text_head(t, "pitchfork_listen_queue", "gauge",
                      "Connections per listener: waiting to be accepted "
                      "(queued) and being served (active).");
    for (size_t i = 0; m->ls != NULL && i < m->ls->n; i++) {
        unsigned q = 0;
        if (listener_queue_of(m->ls, i, &q) == 0) {
            metrics_text_listener(t, &m->ls->l[i], "queued");
            metrics_text_printf(t, "%u\n", q);
        }
        metrics_text_listener(t, &m->ls->l[i], "active");
        metrics_text_printf(t, "%d\n", metrics_text_active(m, i));
    }
}

static void
metrics_text_counters(struct metrics_text *t, struct monitor *m)
{
    metrics_text_one(t, "pitchfork_generation", "gauge",
                     "Generation of the current mold.", m->generation);
    metrics_text_one(t, "pitchfork_reforks_total", "counter",
                     "Workers promoted to mold.", m->counts.reforks);
    metrics_text_one(t, "pitchfork_reloads_total", "counter",
                     "Reloads of the application from disk (HUP).",
                     m->counts.reloads);
    metrics_text_head(t, "pitchfork_worker_timeouts_total", "counter",
                      "Requests past timeout (soft), and workers killed "
                      "past timeout + cleanup_timeout (hard).");
    metrics_text_printf(
        t,
        "pitchfork_worker_timeouts_total{kind=\"soft\"} %llu\n"
        "pitchfork_worker_timeouts_total{kind=\"hard\"} %llu\n",
        (unsigned long long)m->counts.timeouts_soft,
        (unsigned long long)m->counts.timeouts_hard);
    metrics_text_one(t, "pitchfork_worker_memory_replacements_total",
                     "counter", "Workers replaced for worker_memory_max.",
                     m->counts.memory_replacements);
    metrics_text_one(t, "pitchfork_spawn_errors_total", "counter",
                     "Workers, molds and service workers that failed to "
                     "start.",
                     m->counts.spawn_errors);
    metrics_text_one(t, "pitchfork_worker_oom_kills_total", "counter",
                     "Workers the kernel killed at worker_memory_hard_max.",
                     m->oom_kills);
    metrics_text_one(t, "pitchfork_log_lines_dropped_total", "counter",
                     "Log lines the monitor dropped because the log was "
                     "not read.",
                     log_dropped_total());
}

int
metrics_text_write(struct metrics_text *t, struct monitor *m)
{
    metrics_text_requests(t, m);
    metrics_text_histogram(t, m);
    metrics_text_workers(t, m);
    metrics_text_memory(t, m);
    metrics_text_queues(t, m);
    metrics_text_counters(t, m);
    metrics_text_head(t, "pitchfork_build_info", "gauge",
                      "The pitchfork build: its version and the Ruby it "
                      "embeds.");
    metrics_text_printf(t, "pitchfork_build_info{version=\"");
    metrics_text_label(t, PACKAGE_VERSION);
    metrics_text_printf(t, "\",ruby_version=\"");
    metrics_text_label(t, PF_RUBY_VERSION);
    metrics_text_printf(t, "\"} 1\n");
    return t->failed ? -1 : 0;
}
