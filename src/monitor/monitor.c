/*
 * The monitor's loop, on top of its modules (monitor/state.h has the
 * map): one epoll over a signalfd and every child's control socket.  It
 * reads the signals and the messages and hands each to the module that
 * owns it, reaps children, and about every 100 ms runs each module's
 * periodic duties; it reads the clock and passes the time down.  It runs
 * the modules with the real system calls (system_ops.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/monitor.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "core/log_output.h"
#include "core/sdnotify.h"
#include "monitor/children.h"
#include "monitor/fleet.h"
#include "monitor/health.h"
#include "monitor/idle.h"
#include "monitor/metrics.h"
#include "monitor/molds.h"
#include "monitor/refork.h"
#include "monitor/rollout.h"
#include "monitor/service_supervisor.h"
#include "monitor/state.h"
#include "monitor/system_ops.h"
#include "monitor/workers.h"

/* A message from mold c: the spawn reports of the current mold, and
 * readiness. */
static void
monitor_mold_message(struct monitor *m, struct child *c, int64_t now)
{
    struct ctl_msg msg;
    int fds[CTL_MAX_FDS];
    size_t nfds = 0;

    if (!children_recv(m, c, &msg, fds, &nfds))
        return;
    if (msg.type == CTL_SPAWNED && c == &m->mold) {
        if (msg.nr == CTL_NR_SERVICE)
            service_supervisor_spawned(m, &msg, fds, nfds, now);
        else
            workers_spawned(m, &msg, fds, nfds, now);
        return;
    }
    children_close_fds(m, fds, nfds);
    if (msg.type == CTL_READY)
        molds_ready(m, c, (uint32_t)msg.arg, now);
}

/* A message from worker nr, or from the service worker (nr -1): only
 * CTL_READY means something. */
static void
monitor_child_message(struct monitor *m, int nr)
{
    struct child *c = nr < 0 ? &m->service : &m->workers[nr];
    struct ctl_msg msg;
    int fds[CTL_MAX_FDS];
    size_t nfds = 0;

    if (!children_recv(m, c, &msg, fds, &nfds))
        return;
    children_close_fds(m, fds, nfds);
    if (msg.type != CTL_READY)
        return;
    if (nr < 0)
        service_supervisor_ready(m);
    else
        workers_ready(m, nr);
}

/* Process pid ended with wait status st: tell the module that owns it. */
static void
monitor_reaped(struct monitor *m, pid_t pid, int st, int64_t now)
{
    for (int i = 0; i < m->hiwater; i++) {
        if (m->workers[i].pid == pid) {
            workers_reaped(m, i, st, now);
            return;
        }
    }
    if (pid == m->mold.pid)
        molds_reaped(m, st, now);
    else if (pid == m->service.pid)
        service_supervisor_reaped(m, st, now);
    else if (pid == m->next_mold.pid)
        molds_next_reaped(m, st, now);
    else if (molds_retired_reaped(m, pid, st))
        return;
    else
        children_reaped_unknown(m, pid, now);
}

static void
monitor_reap(struct monitor *m, int64_t now)
{
    pid_t pid;
    int st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        monitor_reaped(m, pid, st, now);
    if (pid < 0 && errno != ECHILD)
        log_syswarn("waitpid");
}

static void
monitor_signal(struct monitor *m, int sig, int64_t now)
{
    switch (sig) {
    case SIGCHLD: monitor_reap(m, now); break;
    case SIGINT: fleet_stop(m, true, now); break;
    case SIGTERM:
    case SIGQUIT: fleet_stop(m, false, now); break;
    case SIGHUP:
        if (!m->stopping)
            molds_reload(m, now);
        break;
    case SIGUSR2:
        if (!m->stopping)
            refork_manual(m, now);
        break;
    case SIGTTIN:
    case SIGTTOU:
        if (!m->stopping)
            workers_scale(m, sig == SIGTTIN ? 1 : -1, now);
        break;
    default: log_info("ignoring signal %s", strsignal(sig));
    }
}

static void
monitor_signals_read(struct monitor *m, int64_t now)
{
    struct signalfd_siginfo si;
    ssize_t n;

    while ((n = read(m->sigfd, &si, sizeof(si))) == sizeof(si))
        monitor_signal(m, (int)si.ssi_signo, now);
    if (n < 0 && errno != EAGAIN)
        log_syswarn("read signalfd");
}

/* Once a second while running: a refork under memory pressure, systemd's
 * timeout during a pending boot, STATUS= when it changed. */
static void
monitor_second(struct monitor *m, int64_t now)
{
    if (now < m->next_second)
        return;
    m->next_second = now + CLOCK_NS_PER_SEC;
    refork_pressure(m, now);
    rollout_extend_timeout(m, now);
    health_status_refresh(m);
}

/* The periodic duties, in this order: timeouts first, then the rollout
 * and the refork triggers, the service worker, what systemd is told, and
 * the stop after idle_timeout. */
static void
monitor_tick(struct monitor *m, int64_t now)
{
    workers_tick(m, now);
    molds_tick(m, now);
    if (!m->stopping) {
        rollout_tick(m);
        refork_tick(m, now);
    }
    service_supervisor_tick(m, now);
    rollout_refork_tick(m);
    if (!m->stopping) {
        health_tick(m);
        monitor_second(m, now);
        idle_tick(m, now);
    }
    fleet_tick(m, now);
    metrics_tick(m, now);
    if (m->watchdog_ns > 0 && now >= m->watchdog_next) {
        m->ops->notify(m, "WATCHDOG=1");
        m->watchdog_next = now + m->watchdog_ns / 2;
    }
}

static void
monitor_dispatch(struct monitor *m, const struct epoll_event *ev, int64_t now)
{
    uint32_t tag = (uint32_t)(ev->data.u64 >> 32);
    uint32_t nr = (uint32_t)ev->data.u64;

    if (tag == TAG_SIGNAL)
        monitor_signals_read(m, now);
    else if (tag == TAG_MOLD && m->mold.ctl_fd >= 0)
        monitor_mold_message(m, &m->mold, now);
    else if (tag == TAG_NEXT_MOLD && m->next_mold.ctl_fd >= 0)
        monitor_mold_message(m, &m->next_mold, now);
    else if (tag == TAG_SERVICE && m->service.ctl_fd >= 0)
        monitor_child_message(m, -1);
    else if (tag == TAG_METRICS)
        metrics_event(m, nr, ev->events, now);
    else if (tag == TAG_WORKER && nr < (uint32_t)m->hiwater &&
             m->workers[nr].ctl_fd >= 0)
        monitor_child_message(m, (int)nr);
}

static int
monitor_loop(struct monitor *m)
{
    struct epoll_event ev[32];

    while (!m->stopping || fleet_alive(m)) {
        int n = epoll_wait(m->epfd, ev, 32, 100);
        int64_t now = clock_now_ns();

        if (n < 0 && errno != EINTR) {
            log_syserr("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++)
            monitor_dispatch(m, &ev[i], now);
        monitor_tick(m, clock_now_ns());
        sdnotify_flush();     /* what systemd's full queue made wait */
        log_report_dropped(); /* the log's reader may be back */
    }
    log_event(LOGL_INFO, "exit", NULL, "monitor exiting with status %d",
              m->status);
    return m->status;
}

static int
monitor_signals(struct monitor *m)
{
    static const int sigs[] = {SIGCHLD, SIGINT,  SIGTERM, SIGQUIT, SIGHUP,
                               SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU, SIGWINCH};
    sigset_t set;

    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
        log_syserr("sigprocmask");
        return -1;
    }
    m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m->sigfd < 0) {
        log_syserr("signalfd");
        return -1;
    }
    return m->ops->watch(m, m->sigfd, TAG_SIGNAL, 0);
}

int
monitor_run(const struct settings *s, struct listeners *ls,
            mold_main_fn mold_main)
{
    static struct monitor m;

    m = (struct monitor){.s = s,
                         .ls = ls,
                         .mold_main = mold_main,
                         .ops = &system_ops,
                         .nworkers = s->workers,
                         .hiwater = s->workers,
                         .epfd = -1,
                         .sigfd = -1};
    children_clear(&m.mold);
    children_clear(&m.next_mold);
    children_clear(&m.service);
    for (int i = 0; i < RETIRED_MOLDS; i++)
        children_clear(&m.retired[i]);
    for (int i = 0; i < SETTINGS_MAX_WORKERS; i++)
        children_clear(&m.workers[i]);
    /* The monitor never waits for its log's reader. */
    if (log_output_nonblocking(true) < 0)
        log_syswarn("open standard error without blocking for the log");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        log_syswarn("prctl PR_SET_CHILD_SUBREAPER");
    m.slots = shm_create();
    m.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m.epfd < 0)
        log_syserr("epoll_create1");
    if (m.slots == NULL || m.epfd < 0 || monitor_signals(&m) < 0 ||
        metrics_open(&m) < 0)
        return 1;
    m.watchdog_ns = (int64_t)sdnotify_watchdog_usec() * 1000;
    m.ops->notify(&m, "STATUS=booting the application");
    idle_start(&m, clock_now_ns());
    if (children_boot(&m, &m.mold, clock_now_ns()) < 0)
        return 1;
    return monitor_loop(&m);
}
