/*
 * Unit tests of the monitor's rollout policy with an injected clock and
 * recorders in place of the system (tests/monitor_fixture.c): the first
 * READY=1, a HUP reload and a USR2 refork replacing the workers at most
 * refork_max_unavailable at a time with one RELOADING=1 ... READY=1
 * pair each, the default of 10% of the workers, the order in which
 * older workers stop (the one that became ready last first), a next
 * mold that dies before it is ready, and a HUP that waits for the
 * refork or reload under way.
 *
 * This program links src/libmonitor.a and src/libcore.a without libruby:
 * that it links at all proves the monitor free of Ruby.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>

#include "monitor/molds.h"
#include "monitor/refork.h"
#include "monitor/rollout.h"
#include "monitor/workers.h"
#include "monitor_fixture.h"
#include "tap.h"

/* Run the rollout to its end as the loop would: reap the workers told
 * to stop, let the mold answer their spawn requests, tick.  Returns the
 * rounds it took; *most_down is the most workers down after any tick;
 * *early is set when a worker was told to stop while the replacements
 * of others were not ready, or READY=1 came before every worker ran
 * gen.  Every spawn request since fx_init() is answered, once. */
static int
roll(struct monitor *m, unsigned gen, int64_t now, int *most_down, bool *early)
{
    int seen = 0, rounds = 0;

    *most_down = fx_down(m);
    *early = false;
    while (fx_of_gen(m, gen) < m->nworkers && rounds < 100) {
        fx_reap_stopping(m, now);
        rollout_tick(m); /* the replacements are not ready yet */
        rollout_refork_tick(m);
        if (fx_stopping(m) != 0)
            *early = true;
        fx_answer_spawns(m, &seen, now);
        if (fx_notified("READY=1") > 0 && fx_of_gen(m, gen) < m->nworkers)
            *early = true;
        rollout_tick(m);
        rollout_refork_tick(m);
        if (fx_down(m) > *most_down)
            *most_down = fx_down(m);
        now += FX_SEC;
        rounds++;
    }
    return rounds;
}

static void
test_first_ready(void)
{
    struct monitor *m = fx_init(3);

    m->announced_ready = false;
    for (int i = 0; i < 3; i++) {
        m->workers[i].ready = false;
        m->workers[i].spawn_ns = FX_T0;
    }
    workers_ready(m, 0);
    workers_ready(m, 2);
    is_int(fx_notified("READY=1"), 0, "no READY=1 while a worker boots");
    workers_ready(m, 1);
    is_int(fx_notified("READY=1"), 1, "READY=1 once every worker is ready");
    ok(fx_logged("ready", "3 workers ready (gen 0)"),
       "logged: 3 workers ready (gen 0)");
    workers_ready(m, 1);
    rollout_tick(m);
    rollout_refork_tick(m);
    is_int(fx_notified("READY=1"), 1, "and only once");
    is_int(fx_notified("RELOADING=1"), 0, "no RELOADING=1 without a reload");
}

static void
test_reload(void)
{
    struct monitor *m = fx_init(6);
    int64_t now = FX_T0;
    int old_mold_fd = m->mold.ctl_fd, most_down, rounds;
    bool early;

    fx_settings.refork_max_unavailable = 2;
    molds_reload(m, now);
    is_int(fx_notified("RELOADING=1"), 1, "HUP: RELOADING=1");
    is_int(fx_count(FX_FORK), 1, "HUP: a new mold is forked");
    ok(m->reloading && m->next_mold.pid == FX_MOLD_PID + 1,
       "it is the next mold, booting");
    rollout_tick(m);
    is_int(fx_stopping(m), 0, "no worker stops before the new mold is ready");

    now += FX_SEC;
    molds_ready(m, &m->next_mold, 0, now);
    is_int(m->generation, 1, "the new mold is current: gen 1");
    is_int(fx_sent(old_mold_fd, CTL_STOP), 1, "the old mold is told to stop");
    is_int(m->next_mold.pid, 0, "no next mold any more");
    rollout_tick(m);
    is_int(fx_stopping(m), 2, "refork_max_unavailable 2: two workers stop");
    rollout_tick(m);
    is_int(fx_stopping(m), 2, "and no more while they run");
    is_int(fx_notified("READY=1"), 0, "no READY=1 yet");

    rounds = roll(m, 1, now, &most_down, &early);
    is_int(fx_of_gen(m, 1), 6, "every worker runs gen 1");
    is_int(rounds, 3, "six workers two at a time: three rounds");
    is_int(most_down, 2, "never more than two workers down");
    ok(!early, "nothing stops before its replacements serve, no early "
               "READY=1");
    is_int(fx_notified("READY=1"), 1, "READY=1 once the reload is rolled out");
    ok(fx_logged("ready", "reload done: every worker is gen 1"),
       "logged: reload done: every worker is gen 1");
    ok(!m->reloading, "the reload is over");
    is_int(fx_notified("RELOADING=1"), 1, "one RELOADING=1 in all");
}

static void
test_default_max_unavailable(void)
{
    static const int counts[] = {1, 10, 11, 25};

    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        struct monitor *m = fx_init(counts[i]);

        fx_settings.refork_max_unavailable = 0;
        molds_reload(m, FX_T0);
        molds_ready(m, &m->next_mold, 0, FX_T0);
        rollout_tick(m);
        is_int(fx_stopping(m), (counts[i] + 9) / 10,
               "refork_max_unavailable unset, %d workers: %d at a time",
               counts[i], (counts[i] + 9) / 10);
    }
}

static void
test_refork(void)
{
    struct monitor *m = fx_init(4);
    int64_t now = FX_T0;
    int promoted_fd = m->workers[2].ctl_fd, most_down, rounds;
    pid_t promoted_pid = m->workers[2].pid;
    const struct fx_event *e;
    bool early;

    fx_settings.refork_max_unavailable = 1;
    for (int i = 0; i < 4; i++)
        atomic_store(&m->slots[i].requests, i == 2 ? 50 : 10);
    rollout_refork_tick(m);
    is_int(fx_notified("RELOADING=1"), 0, "no RELOADING=1 before a refork");

    refork_manual(m, now);
    e = fx_last_sent(CTL_PROMOTE);
    ok(e != NULL && e->fd == promoted_fd && e->msg.generation == 1,
       "USR2: the busiest worker (2) is told to become the mold of gen 1");
    ok(m->next_mold.pid == promoted_pid && m->next_mold.promoting,
       "it is the next mold, promoting");
    ok(m->workers[2].pid == 0 && m->workers[2].spawn_ns == -1,
       "its slot is kept for the new mold");
    ok(fx_logged("promote", "promoting worker 2"), "logged: promoting");
    refork_manual(m, now);
    is_int(fx_sent(-1, CTL_PROMOTE), 1, "a second USR2 promotes no other");
    rollout_refork_tick(m);
    rollout_refork_tick(m);
    is_int(fx_notified("RELOADING=1"), 1, "RELOADING=1 once for the refork");

    now += FX_SEC;
    molds_ready(m, &m->next_mold, 0, now);
    is_int(m->generation, 1, "the promoted worker is the mold of gen 1");
    e = fx_last_sent(CTL_SPAWN);
    ok(e != NULL && e->fd == promoted_fd && e->msg.nr == 2,
       "the new mold is asked for worker 2");
    rollout_tick(m);
    is_int(fx_stopping(m), 0, "slot 2 is down: no older worker stops yet");

    rounds = roll(m, 1, now, &most_down, &early);
    is_int(fx_of_gen(m, 1), 4, "every worker runs gen 1");
    is_int(rounds, 4, "slot 2, then three older workers one at a time");
    is_int(most_down, 1, "never more than one worker down");
    ok(!early, "no early stop, no early READY=1");
    is_int(fx_notified("READY=1"), 1, "READY=1 once the refork is rolled out");
    ok(fx_logged("ready", "refork done: every worker is gen 1"),
       "logged: refork done: every worker is gen 1");
    rollout_refork_tick(m);
    is_int(fx_notified("RELOADING=1") + fx_notified("READY=1"), 2,
           "one RELOADING=1 ... READY=1 pair in all");
}

/* A worker that cannot be told to become the mold stays what it was. */
static void
test_promote_send_fails(void)
{
    struct monitor *m = fx_init(2);
    int64_t now = FX_T0;
    pid_t pid = m->workers[1].pid;

    atomic_store(&m->slots[0].requests, 10);
    atomic_store(&m->slots[1].requests, 50);
    fx_send_errno = EPIPE;
    refork_manual(m, now);
    fx_send_errno = 0;
    ok(m->next_mold.pid == 0 && m->workers[1].pid == pid,
       "the promotion failed: no next mold, worker 1 keeps its slot");
    is_int(atomic_load(&m->slots[1].generation), 0,
           "its slot still says gen 0");
    is_int((int)m->requests_retired, 0, "its requests are not retired");
    workers_reaped(m, 1, fx_exited(0), now);
    is_int((int)m->requests_retired, 50,
           "reaped later: its 50 requests are counted once");
}

static void
test_reload_fails(void)
{
    struct monitor *m = fx_init(2);
    int64_t now = FX_T0;

    molds_reload(m, now);
    now += FX_SEC;
    molds_next_reaped(m, fx_exited(1), now);
    is_int(fx_notified("READY=1"), 1,
           "the new mold died: READY=1 ends the reload");
    ok(!m->reloading && m->next_mold.pid == 0, "no reload, no next mold");
    ok(fx_logged("reload", "the next mold exited with status 1 before it "
                           "was ready; gen 0 keeps serving"),
       "logged: the next mold exited ... gen 0 keeps serving");
    is_int(m->refork_not_before - now,
           (int64_t)(fx_settings.spawn_timeout * FX_SEC),
           "no automatic refork for spawn_timeout");
    rollout_tick(m);
    is_int(fx_stopping(m), 0, "gen 0 keeps serving: no worker stops");
}

/* The worker stopped at each round, as a string of slot numbers. */
static void
stop_order(struct monitor *m, int64_t now, char *order, size_t size)
{
    int seen = 0;
    size_t n = 0;

    for (int round = 0; round < m->nworkers && n + 1 < size; round++) {
        rollout_tick(m);
        for (int i = 0; i < m->nworkers && n + 1 < size; i++)
            if (m->workers[i].pid > 0 && m->workers[i].stopping)
                order[n++] = (char)('0' + i);
        fx_reap_stopping(m, now);
        fx_answer_spawns(m, &seen, now);
    }
    order[n] = '\0';
}

/* Idle workers take connections in the order they started waiting, so
 * the one ready first carries a light load: it stops last, and the
 * load moves once, to the new generation, not from one cold worker to
 * the next. */
static void
test_stop_order(void)
{
    struct monitor *m = fx_init(4);
    static const int ready[4] = {3, 1, 4, 2}; /* slot 1 ready first */
    char order[8];

    fx_settings.refork_max_unavailable = 1;
    for (int i = 0; i < 4; i++) {
        m->workers[i].ready = false;
        m->workers[i].ready_seq = 0;
    }
    for (int r = 1; r <= 4; r++)
        for (int i = 0; i < 4; i++)
            if (ready[i] == r)
                workers_ready(m, i);
    ok(m->workers[1].ready_seq < m->workers[3].ready_seq &&
           m->workers[3].ready_seq < m->workers[0].ready_seq &&
           m->workers[0].ready_seq < m->workers[2].ready_seq,
       "each worker's place in the order of readiness is kept");
    molds_reload(m, FX_T0);
    molds_ready(m, &m->next_mold, 0, FX_T0 + FX_SEC);
    stop_order(m, FX_T0 + FX_SEC, order, sizeof(order));
    is_str(order, "2031", "a reload stops the workers newest first: 2 0 3 1");
    is_int(fx_of_gen(m, 1), 4, "and every worker runs gen 1");
    ok(m->workers[1].ready_seq > m->workers[2].ready_seq,
       "the replacements are ready in the order they were started");
}

/* A HUP while a refork or another reload is under way is not lost: the
 * reload starts once that next mold is ready or has failed. */
static void
test_reload_waits(void)
{
    struct monitor *m = fx_init(4);
    int64_t now = FX_T0;
    int forks;

    atomic_store(&m->slots[1].requests, 50);
    refork_manual(m, now);
    forks = fx_count(FX_FORK);
    molds_reload(m, now);
    molds_reload(m, now);
    molds_tick(m, now);
    is_int(fx_count(FX_FORK), forks, "HUP during a refork: no mold boots yet");
    ok(m->reload_pending && !m->reloading, "the reload is pending");
    is_int(fx_logged(NULL, "HUP: a refork is in progress; reloading once its "
                           "mold is ready or has failed"),
           1, "logged once for two HUPs");

    now += FX_SEC;
    molds_ready(m, &m->next_mold, 0, now);
    is_int(m->generation, 1, "the refork's mold is current: gen 1");
    molds_tick(m, now);
    is_int(fx_count(FX_FORK), forks + 1, "then the reload boots a new mold");
    ok(m->reloading && !m->reload_pending && m->next_mold.pid > 0,
       "it is the next mold, and nothing is pending");

    molds_reload(m, now);
    ok(m->reload_pending, "a HUP during that reload is pending too");
    now += FX_SEC;
    molds_next_reaped(m, fx_exited(1), now);
    molds_tick(m, now);
    is_int(fx_count(FX_FORK), forks + 2,
           "the reload's mold died: the pending one boots another");
    ok(m->reloading && !m->reload_pending, "and it is under way");
}

int
main(void)
{
    test_first_ready();
    test_reload();
    test_default_max_unavailable();
    test_refork();
    test_stop_order();
    test_promote_send_fails();
    test_reload_fails();
    test_reload_waits();
    return done_testing();
}
