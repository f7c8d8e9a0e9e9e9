/*
 * Unit tests of refork_after with an injected clock and recorders in
 * place of the system (tests/monitor_fixture.c): a promotion after each
 * generation's threshold, the slot of a promoted worker given back clean
 * (a no_longer_fork_safe! in its last request does not stick to the next
 * worker of that slot, its requests are counted once), why a worker past
 * its threshold waits said at debug level once per reason, and the ring
 * of reaped unknown pids forgetting old entries.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/log.h"
#include "monitor/children.h"
#include "monitor/molds.h"
#include "monitor/refork.h"
#include "monitor/rollout.h"
#include "monitor/workers.h"
#include "monitor_fixture.h"
#include "tap.h"

/* refork_after a,b,false */
static void
fx_refork_after(uint64_t a, uint64_t b)
{
    fx_settings.refork_after[0] = a;
    fx_settings.refork_after[1] = b;
    fx_settings.nrefork_after = 2;
    fx_settings.refork_repeat_last = false;
}

/* The next mold is ready and every older worker is replaced. */
static void
fx_complete_refork(struct monitor *m, int64_t now)
{
    int seen = 0;

    molds_ready(m, &m->next_mold, 0, now);
    for (int round = 0; round < 20; round++) {
        fx_reap_stopping(m, now);
        fx_answer_spawns(m, &seen, now);
        rollout_tick(m);
    }
}

/* The app called no_longer_fork_safe! in the last request of the worker
 * being promoted: the worker that next takes its slot is eligible. */
static void
test_fork_unsafe_slot(void)
{
    struct monitor *m = fx_init(1);
    int64_t now = FX_T0;

    fx_refork_after(2, 2);
    atomic_store(&m->slots[0].requests, 2);
    refork_tick(m, now);
    is_int(fx_sent(-1, CTL_PROMOTE), 1, "gen 0: promoted after 2 requests");
    atomic_store(&m->slots[0].fork_unsafe, 1); /* in its last request */
    fx_complete_refork(m, now + FX_SEC);
    ok(m->generation == 1 && fx_of_gen(m, 1) == 1,
       "gen 1: its mold and worker 0 are up");
    is_int(atomic_load(&m->slots[0].fork_unsafe), 0,
           "the slot of the promoted worker is clean for the next one");
    atomic_store(&m->slots[0].requests, 2);
    refork_tick(m, now + 2 * FX_SEC);
    is_int(fx_sent(-1, CTL_PROMOTE), 2, "gen 1: promoted after 2 requests");
}

/* A promoted worker's requests, its last one included, count once. */
static void
test_promoted_requests(void)
{
    struct monitor *m = fx_init(2);
    int64_t now = FX_T0;

    fx_refork_after(20, 20);
    atomic_store(&m->slots[0].requests, 20);
    atomic_store(&m->slots[1].requests, 5);
    refork_tick(m, now);
    is_int(fx_sent(-1, CTL_PROMOTE), 1, "worker 0 is promoted");
    atomic_store(&m->slots[0].requests, 21); /* its request in flight */
    molds_ready(m, &m->next_mold, 0, now + FX_SEC);
    ok(fx_notified("STATUS=gen 1 · 1/2 workers ready · 26 requests · "
                   "queue 0") > 0,
       "STATUS= counts 26 requests (20 + 1 in flight + 5), once each");
    is_int((int)m->requests_retired, 21, "the promoted worker's 21 retired");
}

/* Debug lines: why a worker past its threshold waits, once a reason. */
static void
test_wait_reasons(void)
{
    struct monitor *m = fx_init(2);
    int64_t now = FX_T0;

    log_init(LOG_TARGET_JOURNAL, true);
    fx_refork_after(10, 10);
    atomic_store(&m->slots[1].requests, 12);
    atomic_store(&m->slots[1].fork_unsafe, 1);
    for (int i = 0; i < 5; i++)
        refork_tick(m, now + i * 100 * FX_MS);
    is_int(fx_logged(NULL, "not promoting worker 1 (gen 0), past "
                           "refork_after 10 with 12 requests: the worker "
                           "called no_longer_fork_safe!"),
           1, "fork-unsafe: said once in five ticks");
    is_int(fx_sent(-1, CTL_PROMOTE), 0, "and not promoted");

    m->refork_not_before = now + 10 * FX_SEC;
    atomic_store(&m->slots[1].fork_unsafe, 0);
    refork_tick(m, now + FX_SEC);
    refork_tick(m, now + 2 * FX_SEC);
    is_int(fx_logged(NULL, "less than spawn_timeout ago"), 1,
           "a backoff after a failed refork: said once");
    m->mold.ready = false;
    refork_tick(m, now + 3 * FX_SEC);
    is_int(fx_logged(NULL, "the mold is not ready"), 1,
           "the mold not ready: said once");
    m->mold.ready = true;
    refork_tick(m, now + 11 * FX_SEC);
    is_int(fx_sent(-1, CTL_PROMOTE), 1, "then promoted");
    refork_tick(m, now + 12 * FX_SEC);
    is_int(fx_logged(NULL, "not promoting"), 3, "and nothing more said");
    atomic_store(&m->slots[0].requests, 10);
    refork_tick(m, now + 13 * FX_SEC);
    is_int(fx_logged(NULL, "a refork or reload is in progress"), 1,
           "another past it while a refork is in progress: said");
    log_init(LOG_TARGET_JOURNAL, false);
}

int
main(void)
{
    test_fork_unsafe_slot();
    test_promoted_requests();
    test_wait_reasons();
    return done_testing();
}
