/*
 * Unit tests of the Prometheus exposition the monitor writes
 * (src/monitor/metrics_text.c), over the monitor fixture's state: the
 * request counters per worker, the histogram's cumulative buckets, sum
 * and count from the slots' per-bucket counters, counts kept when a
 * worker is reaped and its slot reused or promoted to mold, a slot that
 * is not the known worker's left out, the monitor's counters as its
 * modules count timeouts, reforks, reloads and spawn errors, label values
 * escaped, and a HELP and TYPE line for every family.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/latency.h"
#include "core/listeners.h"
#include "monitor/fleet.h"
#include "monitor/metrics_text.h"
#include "monitor/molds.h"
#include "monitor/refork.h"
#include "monitor/workers.h"
#include "monitor_fixture.h"
#include "tap.h"

#define MS (FX_SEC / 1000)

static struct metrics_text text;

/* The exposition of m, in text.buf. */
static const char *
expose(struct monitor *m)
{
    metrics_text_free(&text);
    if (metrics_text_write(&text, m) < 0)
        bail("metrics_text_write ran out of memory");
    return text.buf;
}

/* Whether the exposition has the whole line want. */
static bool
has_line(const char *want)
{
    size_t n = strlen(want);

    for (const char *p = text.buf; p != NULL && *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == n && memcmp(p, want, n) == 0)
            return true;
        p = nl ? nl + 1 : NULL;
    }
    diag("no line \"%s\" in:\n%s", want, text.buf);
    return false;
}

static int
count_prefix(const char *prefix)
{
    int n = 0;

    for (const char *p = text.buf; p && *p;
         p = strchr(p, '\n'), p = p ? p + 1 : p)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    return n;
}

static void
test_histogram(void)
{
    struct monitor *m = fx_init(2);

    latency_record(&m->slots[0], MS / 2);      /* 0.5 ms: le 0.001 */
    latency_record(&m->slots[0], 3 * MS);      /* le 0.005 */
    latency_record(&m->slots[1], 90 * FX_SEC); /* +Inf */
    atomic_store(&m->slots[0].requests, 2);
    atomic_store(&m->slots[1].requests, 1);
    expose(m);
    ok(has_line("pitchfork_requests_total{worker=\"0\"} 2") &&
           has_line("pitchfork_requests_total{worker=\"1\"} 1"),
       "requests per worker from the slots");
    ok(has_line("pitchfork_request_duration_seconds_bucket{le=\"0.001\"} 1") &&
           has_line(
               "pitchfork_request_duration_seconds_bucket{le=\"0.0025\"} 1") &&
           has_line(
               "pitchfork_request_duration_seconds_bucket{le=\"0.005\"} 2") &&
           has_line(
               "pitchfork_request_duration_seconds_bucket{le=\"60\"} 2") &&
           has_line(
               "pitchfork_request_duration_seconds_bucket{le=\"+Inf\"} 3"),
       "the buckets are cumulative, from 1 ms to +Inf");
    ok(has_line("pitchfork_request_duration_seconds_sum 90.003500000") &&
           has_line("pitchfork_request_duration_seconds_count 3"),
       "sum in seconds, and count");
    ok(has_line("pitchfork_workers{state=\"idle\"} 2") &&
           has_line("pitchfork_workers{state=\"busy\"} 0"),
       "workers by state");

    /* Worker 0 exits and a new one takes its slot. */
    workers_reaped(m, 0, 0, FX_T0);
    fx_worker_up(m, 0, 0);
    latency_record(&m->slots[0], 20 * MS);
    atomic_store(&m->slots[0].requests, 1);
    expose(m);
    ok(has_line("pitchfork_requests_total{worker=\"0\"} 3"),
       "a reaped worker's requests stay in its number's counter");
    ok(has_line("pitchfork_request_duration_seconds_count 4") &&
           has_line(
               "pitchfork_request_duration_seconds_bucket{le=\"0.005\"} 2") &&
           has_line(
               "pitchfork_request_duration_seconds_bucket{le=\"0.025\"} 3"),
       "and its durations in the histogram");

    /* A slot written by a process the monitor does not know (yet). */
    atomic_store(&m->slots[1].pid, fx_new_pid());
    expose(m);
    ok(has_line("pitchfork_requests_total{worker=\"1\"} 0") &&
           has_line("pitchfork_request_duration_seconds_count 3"),
       "a slot that is not the known worker's is left out");
}

static void
test_families(void)
{
    struct monitor *m = fx_init(1);

    m->counts.timeouts_hard = 2;
    m->counts.reforks = 5;
    m->generation = 5;
    expose(m);
    is_int(count_prefix("# HELP pitchfork_"), 14, "14 families have HELP");
    is_int(count_prefix("# TYPE pitchfork_"), 14, "and TYPE");
    ok(has_line("pitchfork_worker_timeouts_total{kind=\"hard\"} 2") &&
           has_line("pitchfork_reforks_total 5") &&
           has_line("pitchfork_generation 5"),
       "the monitor's counters");
    ok(count_prefix("pitchfork_build_info{version=\"" PACKAGE_VERSION
                    "\",ruby_version=\"" PF_RUBY_VERSION "\"} 1") == 1,
       "pitchfork_build_info names the version and Ruby's");
}

/* The monitor's modules count what they do: soft and hard timeouts
 * (workers.c), a refork (refork.c) whose promoted worker's requests stay
 * counted, a reload (molds.c), a spawn error (fleet.c). */
static void
test_counters(void)
{
    struct monitor *m = fx_init(3);
    int64_t dl = FX_T0 + 10 * FX_SEC;

    fx_settings.timeout = 10;
    fx_settings.cleanup_timeout = 5;
    fx_settings.max_consecutive_spawn_errors = 10;
    atomic_store(&m->slots[1].state, SHM_BUSY);
    atomic_store(&m->slots[1].deadline_ns, dl);
    workers_tick(m, dl + FX_MS);
    workers_tick(m, dl + 5 * FX_SEC + FX_MS);
    expose(m);
    ok(has_line("pitchfork_worker_timeouts_total{kind=\"soft\"} 1") &&
           has_line("pitchfork_worker_timeouts_total{kind=\"hard\"} 1"),
       "a worker past its timeout, then killed: one soft, one hard");

    m = fx_init(3);
    atomic_store(&m->slots[2].requests, 50);
    latency_record(&m->slots[2], 2 * MS);
    refork_manual(m, FX_T0);
    expose(m);
    ok(m->next_mold.promoting && has_line("pitchfork_reforks_total 1"),
       "a promotion is a refork");
    ok(has_line("pitchfork_requests_total{worker=\"2\"} 50") &&
           has_line("pitchfork_request_duration_seconds_count 1"),
       "the promoted worker's requests and durations stay counted");

    m = fx_init(1);
    molds_reload(m, FX_T0);
    fleet_spawn_error(m, false, FX_T0);
    expose(m);
    ok(has_line("pitchfork_reloads_total 1") &&
           has_line("pitchfork_spawn_errors_total 1"),
       "a reload and a spawn error are counted");
}

/* Busy workers are "active" on the listener they accepted on; each queue
 * of an address bound twice has a label of its own. */
static void
test_queues(void)
{
    static struct listeners ls;
    struct monitor *m = fx_init(3);

    ls.n = 2;
    for (int i = 0; i < 2; i++) {
        ls.l[i] = (struct listener){.fd = -1, .nqueues = 2, .queue = i};
        snprintf(ls.l[i].addr, sizeof(ls.l[i].addr), "127.0.0.1:1");
    }
    m->ls = &ls;
    for (int i = 0; i < 3; i++) {
        atomic_store(&m->slots[i].state, i < 2 ? SHM_BUSY : SHM_IDLE);
        atomic_store(&m->slots[i].listener, 1);
    }
    expose(m);
    ok(has_line("pitchfork_listen_queue{listener=\"127.0.0.1:1#1\","
                "kind=\"active\"} 2") &&
           has_line("pitchfork_listen_queue{listener=\"127.0.0.1:1#0\","
                    "kind=\"active\"} 0") &&
           has_line("pitchfork_listen_queue{listener=\"127.0.0.1:1#1\","
                    "kind=\"queued\"} 0"),
       "busy workers are active on their listener, each queue labelled");
    m->ls = NULL;
}

static void
test_label(void)
{
    metrics_text_free(&text);
    metrics_text_label(&text, "a\"b\\c\nd");
    is_str(text.buf, "a\\\"b\\\\c\\nd", "label values are escaped");
}

int
main(void)
{
    plan(17);
    test_histogram();
    test_families();
    test_counters();
    test_queues();
    test_label();
    metrics_text_free(&text);
    return done_testing();
}
