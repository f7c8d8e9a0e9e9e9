/*
 * Unit tests of the monitor's timeouts with an injected clock and
 * recorders in place of the system (tests/monitor_fixture.c): the soft
 * timeout logged once per request, SIGKILL at timeout + cleanup_timeout,
 * spawn_timeout for workers and molds, max_consecutive_spawn_errors, and
 * a promoted worker overdue in its last request.  Each deadline is
 * checked on both sides, a millisecond apart.
 *
 * This program links src/libmonitor.a and src/libcore.a without libruby:
 * that it links at all proves the monitor free of Ruby.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <signal.h>
#include <sys/wait.h>

#include "monitor/children.h"
#include "monitor/fleet.h"
#include "monitor/molds.h"
#include "monitor/refork.h"
#include "monitor/workers.h"
#include "monitor_fixture.h"
#include "tap.h"

static void
test_hard_timeout(void)
{
    struct monitor *m = fx_init(3);
    struct child *w = &m->workers[1];
    int64_t dl = FX_T0 + 10 * FX_SEC, grace;
    const struct fx_event *e;

    fx_settings.timeout = 10;
    fx_settings.cleanup_timeout = 5;
    grace = 5 * FX_SEC;
    m->mold.hooks = CTL_HOOK_HARD_TIMEOUT;
    atomic_store(&m->slots[1].state, SHM_BUSY);
    atomic_store(&m->slots[1].deadline_ns, dl);

    workers_tick(m, dl);
    is_int(fx_count(FX_LOG) + fx_count(FX_KILL), 0,
           "at its deadline: nothing yet");
    workers_tick(m, dl + FX_MS);
    is_int(fx_logged("timeout", "passed its timeout: it exits, or gets "
                                "SIGKILL 5 s later"),
           1, "1 ms past it: the soft timeout is logged");
    ok(fx_logged("timeout", "worker 1 pid"), "naming worker 1");
    is_int(fx_count(FX_KILL), 0, "no signal at the soft timeout");
    workers_tick(m, dl + 2 * FX_SEC);
    is_int(fx_logged("timeout", "passed its timeout"), 1,
           "logged once per request");
    workers_tick(m, dl + grace);
    is_int(fx_count(FX_KILL), 0, "at timeout + cleanup: no SIGKILL yet");
    workers_tick(m, dl + grace + FX_MS);
    is_int(fx_killed(w->pid, SIGKILL), 1, "1 ms later: SIGKILL");
    ok(w->killed, "the worker is marked killed");
    ok(fx_logged("kill", "worker 1 pid") &&
           fx_logged("kill", "passed timeout + cleanup: SIGKILL"),
       "logged: worker 1 ... passed timeout + cleanup: SIGKILL");
    e = fx_last_sent(CTL_HARD_TIMEOUT);
    ok(e != NULL && e->fd == m->mold.ctl_fd && e->msg.nr == 1 &&
           e->msg.pid == w->pid,
       "the mold is told, for after_worker_hard_timeout");
    workers_tick(m, dl + grace + FX_SEC);
    is_int(fx_count(FX_KILL), 1, "SIGKILL once");
    is_int(fx_killed(m->workers[0].pid, SIGKILL) +
               fx_killed(m->workers[2].pid, SIGKILL),
           0, "the other workers, without a deadline, are left alone");
}

static void
test_timeout_slot_owner(void)
{
    struct monitor *m = fx_init(1);
    struct child *w = &m->workers[0];
    int64_t dl = FX_T0;

    /* The slot still holds the predecessor's pid and deadline. */
    atomic_store(&m->slots[0].pid, w->pid + 1000);
    atomic_store(&m->slots[0].deadline_ns, dl);
    workers_tick(m, dl + 60 * FX_SEC);
    is_int(fx_count(FX_LOG) + fx_count(FX_KILL), 0,
           "a deadline in a slot the worker has not taken yet is not its");
    atomic_store(&m->slots[0].pid, w->pid);
    workers_reaped(m, 0, fx_exited(0), dl + FX_MS);
    ok(fx_logged("timeout", "worker 0 pid"),
       "a worker reaped past its deadline before a tick: still logged");
}

static void
test_spawn_timeout(void)
{
    struct monitor *m = fx_init(2);
    int64_t spawn, now = FX_T0;
    struct ctl_msg report;
    pid_t pid;
    int fd;

    fx_settings.spawn_timeout = 20;
    fx_settings.max_consecutive_spawn_errors = 10;
    spawn = 20 * FX_SEC;
    for (int i = 0; i < 2; i++)
        children_clear(&m->workers[i]);
    workers_request(m, now);
    is_int(fx_sent(m->mold.ctl_fd, CTL_SPAWN), 2,
           "the mold is asked for workers 0 and 1");
    /* Worker 0 is reported a second later; worker 1 never is. */
    pid = fx_new_pid();
    fd = fx_new_fd();
    report = (struct ctl_msg){CTL_SPAWNED, 0, 0, pid, 0};
    workers_spawned(m, &report, &fd, 1, now + FX_SEC);

    workers_tick(m, now + spawn);
    is_int(fx_logged("timeout", "not ready within spawn_timeout"), 0,
           "at spawn_timeout: nothing yet");
    fx_clear();
    workers_tick(m, now + spawn + FX_MS);
    is_int(fx_logged("timeout", "worker 1 not ready within spawn_timeout"), 1,
           "1 ms past it: worker 1, never reported, timed out");
    is_int(m->spawn_errors, 1, "one spawn error");
    ok(fx_last_sent(CTL_SPAWN) != NULL && fx_last_sent(CTL_SPAWN)->msg.nr == 1,
       "worker 1 is asked for again");
    is_int(fx_count(FX_KILL), 0, "no process to kill");
    is_int(fx_killed(pid, SIGKILL), 0, "worker 0 still has a second");

    workers_tick(m, now + FX_SEC + spawn + FX_MS);
    is_int(fx_killed(pid, SIGKILL), 1,
           "worker 0, reported but not ready within spawn_timeout: SIGKILL");
    is_int(m->spawn_errors, 2, "two consecutive spawn errors");
    workers_tick(m, now + 2 * spawn);
    is_int(fx_killed(pid, SIGKILL), 1, "killed once");
    workers_reaped(m, 0, fx_signaled(SIGKILL), now + 2 * spawn);
    is_int(m->spawn_errors, 2,
           "reaping the worker killed at spawn_timeout is no second error");
}

/* Worker nr is spawned and reaped before it was ready. */
static void
spawn_dies(struct monitor *m, int nr, int64_t now)
{
    struct ctl_msg report = {CTL_SPAWNED, nr, 0, fx_new_pid(), 0};
    int fd = fx_new_fd();

    workers_spawned(m, &report, &fd, 1, now);
    workers_reaped(m, nr, fx_exited(1), now);
}

static void
test_spawn_errors(void)
{
    struct monitor *m = fx_init(2);
    int64_t now = FX_T0;
    int mold_fd = m->mold.ctl_fd;
    struct ctl_msg report;
    int fd;

    fx_settings.max_consecutive_spawn_errors = 3;
    children_clear(&m->workers[0]);
    children_clear(&m->workers[1]);
    spawn_dies(m, 0, now);
    spawn_dies(m, 1, now);
    is_int(m->spawn_errors, 2, "two workers died before they were ready");
    report = (struct ctl_msg){CTL_SPAWNED, 0, 0, fx_new_pid(), 0};
    fd = fx_new_fd();
    workers_spawned(m, &report, &fd, 1, now);
    workers_ready(m, 0);
    is_int(m->spawn_errors, 0, "a ready worker: no longer consecutive");

    spawn_dies(m, 1, now);
    spawn_dies(m, 1, now);
    ok(!m->stopping && m->status == 0, "two errors of three: still running");
    fx_clear();
    spawn_dies(m, 1, now);
    ok(fx_logged(NULL, "3 consecutive spawn errors "
                       "(max_consecutive_spawn_errors): giving up"),
       "the third: giving up");
    ok(m->stopping && m->status == 1, "stopping, with exit status 1");
    is_int(fx_notified("STOPPING=1"), 1, "STOPPING=1");
    is_int(fx_sent(mold_fd, CTL_STOP), 1, "the mold is told to stop");
    is_int(fx_sent(m->workers[0].ctl_fd, CTL_STOP), 1,
           "the ready worker finishes its request and stops");
    is_int(fx_sent(-1, CTL_SPAWN), 0, "nothing more is asked for");
}

static void
test_promotion_overdue(void)
{
    struct monitor *m = fx_init(3);
    int64_t now = FX_T0, dl = FX_T0 + 10 * FX_SEC, grace = 5 * FX_SEC;
    int64_t spawn = FX_SEC, done;
    pid_t pid = m->workers[1].pid;

    fx_settings.timeout = 10;
    fx_settings.cleanup_timeout = 5;
    fx_settings.spawn_timeout = 1;
    atomic_store(&m->slots[1].requests, 100);
    atomic_store(&m->slots[1].state, SHM_BUSY);
    atomic_store(&m->slots[1].deadline_ns, dl);
    refork_manual(m, now);
    ok(m->next_mold.pid == pid && m->next_mold.promoting,
       "worker 1, busy in a request, is promoted");

    molds_tick(m, now + 3 * spawn);
    is_int(fx_count(FX_KILL), 0,
           "past spawn_timeout, still in its request: no SIGKILL");
    is_int(m->next_mold.spawn_ns, now + 3 * spawn,
           "its spawn_timeout clock is held");
    molds_tick(m, dl + grace);
    is_int(fx_count(FX_KILL), 0, "at timeout + cleanup: no SIGKILL yet");
    molds_tick(m, dl + grace + FX_MS);
    is_int(fx_killed(pid, SIGKILL), 1, "1 ms past timeout + cleanup: SIGKILL");
    ok(fx_logged("kill", "passed timeout + cleanup in its last request"),
       "logged: promoted worker ... in its last request: SIGKILL");
    molds_tick(m, dl + grace + FX_SEC);
    is_int(fx_count(FX_KILL), 1, "SIGKILL once");

    /* Another promotion whose request ends in time: spawn_timeout runs
     * from the end of the request. */
    m = fx_init(3);
    fx_settings.spawn_timeout = 1;
    pid = m->workers[0].pid;
    atomic_store(&m->slots[0].state, SHM_BUSY);
    atomic_store(&m->slots[0].deadline_ns, dl);
    refork_manual(m, now);
    done = now + 4 * FX_SEC;
    molds_tick(m, done);
    atomic_store(&m->slots[0].state, SHM_IDLE);
    molds_tick(m, done + spawn);
    is_int(fx_count(FX_KILL), 0,
           "request done: spawn_timeout from then, not from the promotion");
    molds_tick(m, done + spawn + FX_MS);
    is_int(fx_killed(pid, SIGKILL), 1,
           "not a mold within spawn_timeout of its request's end: SIGKILL");
    ok(fx_logged("timeout", "not ready within spawn_timeout: SIGKILL"),
       "logged: mold pid ... not ready within spawn_timeout: SIGKILL");
}

static void
test_mold_spawn_timeout(void)
{
    struct monitor *m = fx_init(1);
    int64_t now = FX_T0, spawn;
    pid_t pid;

    fx_settings.spawn_timeout = 30;
    spawn = 30 * FX_SEC;
    molds_reload(m, now);
    pid = m->next_mold.pid;
    molds_tick(m, now + spawn);
    is_int(fx_count(FX_KILL), 0, "a booting mold at spawn_timeout: not yet");
    molds_tick(m, now + spawn + FX_MS);
    is_int(fx_killed(pid, SIGKILL), 1, "1 ms later: SIGKILL");
    molds_tick(m, now + 2 * spawn);
    is_int(fx_count(FX_KILL), 1, "once");
    molds_next_reaped(m, W_EXITCODE(0, SIGKILL), now + 2 * spawn);
    ok(fx_logged("reload", "killed by signal 9"),
       "reaped: the reload failed, the next mold was killed by signal 9");
    is_int(fx_notified("READY=1"), 1, "and READY=1 ends the reload");
}

/* A spawn report from a pid reaped before it arrived is refused; after
 * spawn_timeout the pid may be another process's, and its report is. */
static void
test_reaped_ring_expires(void)
{
    struct monitor *m = fx_init(2);
    int64_t now = FX_T0;
    pid_t pid = fx_new_pid();
    struct ctl_msg report = {CTL_SPAWNED, 1, 0, pid, 0};
    int fd = fx_new_fd();

    workers_reaped(m, 1, fx_exited(0), now);
    children_reaped_unknown(m, pid, now);
    workers_spawned(m, &report, &fd, 1, now);
    ok(m->workers[1].pid == 0, "a report from a pid reaped before is refused");
    is_int(fx_killed(pid, SIGKILL), 0, "and the gone pid gets no signal");
    now += (int64_t)(fx_settings.spawn_timeout * FX_SEC) + FX_SEC;
    fd = fx_new_fd();
    workers_spawned(m, &report, &fd, 1, now);
    ok(m->workers[1].pid == pid,
       "spawn_timeout later, a report from that pid (reused) is accepted");
}

/* The mold told to stop after a refork stays known until reaped: it is
 * SIGKILLed if still running timeout + cleanup later, a shutdown waits
 * for it and kills it with the rest, and its exit is logged. */
static void
test_retired_mold(void)
{
    struct monitor *m = fx_init(2);
    int64_t now = FX_T0;
    int64_t grace =
        (int64_t)((fx_settings.timeout + fx_settings.cleanup_timeout) *
                  FX_SEC);

    atomic_store(&m->slots[0].requests, 9);
    refork_manual(m, now);
    molds_ready(m, &m->next_mold, 0, now);
    is_int(fx_sent(-1, CTL_STOP), 1, "the gen 0 mold is told to stop");
    molds_tick(m, now + grace - FX_SEC);
    is_int(fx_killed(FX_MOLD_PID, SIGKILL), 0, "not killed before");
    molds_tick(m, now + grace + FX_SEC);
    molds_tick(m, now + grace + 2 * FX_SEC);
    is_int(fx_killed(FX_MOLD_PID, SIGKILL), 1,
           "SIGKILL once, timeout + cleanup after it was told to stop");
    ok(fx_logged("kill", "retired mold pid 4500000 (gen 0) still running"),
       "logged: the retired mold still running");

    children_clear(&m->mold);
    for (int i = 0; i < m->nworkers; i++)
        children_clear(&m->workers[i]);
    ok(fleet_alive(m), "a shutdown waits for the retired mold");
    fleet_kill_all(m, SIGKILL);
    is_int(fx_killed(FX_MOLD_PID, SIGKILL), 2, "and kills it at its end");
    ok(molds_retired_reaped(m, FX_MOLD_PID, fx_signaled(SIGKILL)),
       "reaped: it was the retired mold");
    ok(fx_logged("exit", "retired mold pid 4500000 (gen 0) killed by "
                         "signal 9"),
       "logged: retired mold ... killed by signal 9");
    ok(!fleet_alive(m), "then nothing is left");
}

int
main(void)
{
    test_hard_timeout();
    test_timeout_slot_owner();
    test_spawn_timeout();
    test_spawn_errors();
    test_promotion_overdue();
    test_mold_spawn_timeout();
    test_reaped_ring_expires();
    test_retired_mold();
    return done_testing();
}
