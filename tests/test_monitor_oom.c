/*
 * Unit tests of worker_memory_hard_max in the monitor, with recorders in
 * place of the cgroups (tests/monitor_fixture.c): a worker's cgroup is
 * made before the mold is asked for it, a SIGKILL with the cgroup's
 * oom_kill counter moved is an OOM kill (logged, counted in oom_kills,
 * the worker replaced), a SIGKILL without it or a counter that moved
 * before the worker are not, the cgroup is removed at every reaping,
 * and without the setting no cgroup is touched.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <signal.h>

#include "core/control.h"
#include "monitor/hard_cap.h"
#include "monitor/workers.h"
#include "monitor_fixture.h"
#include "tap.h"

/* Events of kind for worker nr. */
static int
cgroup_events(enum fx_kind kind, int nr)
{
    int n = 0;

    for (int i = 0; i < fx_nevents(); i++)
        n += fx_event(i)->kind == kind && fx_event(i)->nr == (uint32_t)nr;
    return n;
}

/* The index of the first event of kind (and message type), or -1. */
static int
first(enum fx_kind kind, uint32_t type)
{
    for (int i = 0; i < fx_nevents(); i++)
        if (fx_event(i)->kind == kind &&
            (kind != FX_SEND || fx_event(i)->msg.type == type))
            return i;
    return -1;
}

static void
test_oom_kill(void)
{
    struct monitor *m = fx_init(2);
    struct child *w = &m->workers[1];
    pid_t pid = w->pid;

    fx_settings.worker_memory_hard_max = 64 << 20;
    fx_oom_kills[1] = 1; /* the kernel killed it at its limit */
    workers_reaped(m, 1, fx_signaled(SIGKILL), FX_T0);
    ok(fx_logged("oom", "worker 1 pid") &&
           fx_logged("oom", "(gen 0) was killed by the kernel at "
                            "worker_memory_hard_max 67108864 bytes: "
                            "replacing it"),
       "PITCHFORK_EVENT=oom names the worker, its generation, the limit");
    is_int((long long)m->oom_kills, 1, "counted in oom_kills");
    is_int(cgroup_events(FX_CGROUP_REMOVE, 1), 1, "its cgroup is removed");
    ok(m->workers[1].pid == 0 && pid != 0, "the slot is free");
    is_int(cgroup_events(FX_CGROUP_MAKE, 1), 1,
           "a new cgroup is made for its replacement");
    ok(first(FX_CGROUP_MAKE, 0) >= 0 &&
           first(FX_CGROUP_MAKE, 0) < first(FX_SEND, CTL_SPAWN),
       "before the mold is asked for it");
    is_int(fx_sent(m->mold.ctl_fd, CTL_SPAWN), 1, "the worker is replaced");
    is_int(cgroup_events(FX_CGROUP_MAKE, 0), 0,
           "worker 0, still up, keeps its cgroup");
}

static void
test_not_oom(void)
{
    struct monitor *m = fx_init(2);

    fx_settings.worker_memory_hard_max = 64 << 20;
    workers_reaped(m, 0, fx_signaled(SIGKILL), FX_T0);
    is_int(fx_logged("oom", ""), 0, "SIGKILL, counter unmoved: no oom");
    is_int((long long)m->oom_kills, 0, "nothing counted");
    is_int(cgroup_events(FX_CGROUP_REMOVE, 0), 1, "its cgroup is removed");

    /* The replacement's cgroup says 3 when it is made: a reused one. */
    fx_oom_kills[0] = 3;
    hard_cap_prepare(m, 0);
    fx_worker_up(m, 0, 0);
    workers_reaped(m, 0, fx_signaled(SIGKILL), FX_T0);
    is_int(fx_logged("oom", ""), 0,
           "a counter that moved before the worker is not its OOM kill");
    fx_oom_kills[1] = 1;
    workers_reaped(m, 1, fx_exited(0), FX_T0);
    is_int(fx_logged("oom", ""), 0,
           "an exit with a status is no OOM kill, whatever the counter");
    ok(hard_cap_oom(2, 3) && !hard_cap_oom(3, 3),
       "the counter moving is what tells");
}

static void
test_off(void)
{
    struct monitor *m = fx_init(2);

    fx_oom_kills[0] = 1;
    workers_reaped(m, 0, fx_signaled(SIGKILL), FX_T0);
    is_int(fx_count(FX_CGROUP_MAKE) + fx_count(FX_CGROUP_REMOVE), 0,
           "without worker_memory_hard_max no cgroup is touched");
    is_int(fx_logged("oom", ""), 0, "and nothing is called an oom");
    is_int(fx_sent(m->mold.ctl_fd, CTL_SPAWN), 1, "the worker is replaced");
}

int
main(void)
{
    plan(17);
    test_oom_kill();
    test_not_oom();
    test_off();
    return done_testing();
}
