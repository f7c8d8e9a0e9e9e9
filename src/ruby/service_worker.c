/*
 * The service worker's life (see service_worker.h).  Like a worker it owns its
 * signals (child_signals.h, installed before the hook, so that the app's
 * own traps win), waits on its control
 * socket without the GVL so the app's threads run, and asks for SIGTERM
 * when the monitor dies.  Unlike a worker it closes the listeners and
 * keeps a heartbeat instead of a request deadline in its slot: a service
 * worker whose main thread stops (stuck in C, SIGSTOP) is killed by the
 * monitor at timeout + cleanup_timeout.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/service_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <ruby.h>

#include "core/child_signals.h"
#include "core/clock.h"
#include "core/control.h"
#include "core/listeners.h"
#include "core/log.h"
#include "core/proctitle.h"
#include "core/settings.h"
#include "core/shm.h"
#include "ruby/hooks.h"
#include "ruby/info.h"
#include "ruby/pfruby.h"

struct service_state {
    int pipe_rd;
    bool stop;   /* graceful: run before_service_worker_exit, exit */
    bool pdeath; /* PR_SET_PDEATHSIG is set */
    VALUE obj;   /* its Pitchfork::Service (pinned) */
};

static int
service_setup(struct service_worker *sv, struct service_state *st)
{
    int fl;

    /* It never accepts: the listeners are closed so that neither it
     * nor the programs it may start hold them. */
    listeners_close(sv->ls);
    if (sv->settings->setpgid && setpgid(0, 0) < 0)
        log_syswarn("setpgid in the service worker");
    atomic_store(&sv->slot->pid, (int32_t)getpid());
    atomic_store(&sv->slot->generation, sv->generation);
    atomic_store(&sv->slot->requests, 0);
    atomic_store(&sv->slot->deadline_ns, 0);
    atomic_store(&sv->slot->state, SHM_BOOTING);
    fl = fcntl(sv->ctl_fd, F_GETFL);
    if (fl < 0 || fcntl(sv->ctl_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_syserr("fcntl O_NONBLOCK on the control socket fd %d", sv->ctl_fd);
        return -1;
    }
    return child_signals_setup(&st->pipe_rd);
}

/* ---- the heartbeat and the wait ---------------------------------------- */

struct service_wait {
    struct shm_slot *slot;
    int64_t timeout_ns;
    int fds[2]; /* control socket, signal pipe */
    int wait_ms;
    int rc;
    int err;
    short revents[2];
};

/* Renew the deadline, then one poll of at most half the timeout (a Ruby
 * interrupt ends it early with EINTR).  Both the poll and the check may
 * raise a pending interrupt (an app thread's Thread.main.raise, a trap
 * handler): run protected. */
static VALUE
service_wait_body(VALUE arg)
{
    struct service_wait *w = (struct service_wait *)arg;
    struct pollfd p[2] = {{.fd = w->fds[0], .events = POLLIN},
                          {.fd = w->fds[1], .events = POLLIN}};

    atomic_store(&w->slot->deadline_ns, clock_now_ns() + w->timeout_ns);
    w->rc = pfruby_poll(p, 2, w->wait_ms);
    w->err = errno;
    w->revents[0] = p[0].revents;
    w->revents[1] = p[1].revents;
    rb_thread_check_ints();
    return Qnil;
}

/* Half the timeout in milliseconds, at least 1. */
static int
service_heartbeat_ms(const struct settings *s)
{
    double ms = s->timeout * 500.0;

    if (ms < 1)
        return 1;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ---- events ------------------------------------------------------------ */

static void
service_control(struct service_worker *sv, struct service_state *st)
{
    for (;;) {
        struct ctl_msg m;
        int r = control_recv_bare(sv->ctl_fd, &m);

        if (r == 0) {
            log_event(LOGL_INFO, "exit", NULL,
                      "the monitor is gone: the service worker exits");
            st->stop = true;
            return;
        }
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_syserr("read the service worker's control socket");
                st->stop = true;
            }
            return;
        }
        if (m.type == CTL_STOP)
            st->stop = true;
        else
            log_warn("unexpected control message type %u from the monitor",
                     m.type);
    }
}

/* Once reparented to the monitor, ask for SIGTERM when it dies (as a
 * worker does; see worker_parent_death). */
static void
service_parent_death(struct service_worker *sv, struct service_state *st)
{
    if (st->pdeath || sv->monitor_pid <= 0 || getppid() != sv->monitor_pid)
        return;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) {
        log_syswarn("prctl PR_SET_PDEATHSIG");
        return;
    }
    st->pdeath = true;
    if (getppid() != sv->monitor_pid)
        st->stop = true;
}

/* Wait once and handle what woke it up. */
static void
service_step(struct service_worker *sv, struct service_state *st)
{
    struct service_wait w = {sv->slot,
                             (int64_t)(sv->settings->timeout * 1e9),
                             {sv->ctl_fd, st->pipe_rd},
                             service_heartbeat_ms(sv->settings),
                             -1,
                             EINTR,
                             {0, 0}};
    VALUE exc;

    pfruby_asan_landed(); /* the last wait may have raised */
    pfruby_protect_exc(service_wait_body, (VALUE)&w, &exc);
    if (!NIL_P(exc)) {
        if (pfruby_exc_is_exit(exc)) {
            log_info("the service worker was asked to exit (SystemExit "
                     "or a signal)");
            st->stop = true;
        } else {
            pfruby_log_exception(LOGL_ERR, "service worker", exc);
        }
    }
    if (w.rc < 0 && w.err != EINTR) {
        errno = w.err;
        log_syserr("poll in the service worker");
        st->stop = true;
    }
    if (w.rc > 0 && w.revents[1] != 0)
        child_signals_drain(st->pipe_rd);
    if (w.rc > 0 && w.revents[0] != 0)
        service_control(sv, st);
}

static void
service_loop(struct service_worker *sv, struct service_state *st)
{
    while (!st->stop) {
        if (child_signals_stop())
            st->stop = true;
        service_parent_death(sv, st);
        if (!st->stop)
            service_step(sv, st);
    }
}

/* ---- life -------------------------------------------------------------- */

/* before_service_worker_ready; returns 0, or the exit status. */
static int
service_ready_hook(struct service_worker *sv, struct service_state *st)
{
    int status = 1;
    int r;

    st->obj = hooks_service(sv->generation, getpid());
    if (NIL_P(st->obj))
        return 1;
    r = hooks_run(HOOK_BEFORE_SERVICE_WORKER_READY, 1, &st->obj, &status);
    if (r == 0)
        return 0;
    if (r < 0)
        log_err("before_service_worker_ready failed: the service worker "
                "exits");
    return r < 0 || status == 0 ? 1 : status;
}

static int
service_report_ready(struct service_worker *sv)
{
    struct ctl_msg ready = {CTL_READY, CTL_NR_SERVICE, sv->generation, 0, 0};

    ready.pid = getpid();
    if (control_send(sv->ctl_fd, &ready, NULL, 0) < 0) {
        log_syserr("report the service worker ready to the monitor");
        return -1;
    }
    atomic_store(&sv->slot->state, SHM_IDLE);
    proctitle_set("pitchfork (gen:%u) service - ready", sv->generation);
    log_event(LOGL_DEBUG, "ready", NULL, "service worker ready");
    return 0;
}

/* Stopping: the exit hook gets a fresh timeout + cleanup_timeout. */
static void
service_exit_hook(struct service_worker *sv, struct service_state *st)
{
    int64_t timeout = (int64_t)(sv->settings->timeout * 1e9);

    info_shutting_down();
    proctitle_set("pitchfork (gen:%u) service - stopping", sv->generation);
    atomic_store(&sv->slot->state, SHM_STOPPING);
    atomic_store(&sv->slot->deadline_ns, clock_now_ns() + timeout);
    hooks_run(HOOK_BEFORE_SERVICE_WORKER_EXIT, 1, &st->obj, NULL);
}

int
service_worker_run(struct service_worker *sv)
{
    struct service_state st = {-1, false, false, Qnil};
    int status = 1;

    log_set_role("service", -1, sv->generation);
    proctitle_set("pitchfork (gen:%u) service - booting", sv->generation);
    if (service_setup(sv, &st) == 0 &&
        (status = service_ready_hook(sv, &st)) == 0) {
        status = service_report_ready(sv) < 0 ? 1 : 0;
        if (status == 0) {
            service_loop(sv, &st);
            service_exit_hook(sv, &st);
        }
    }
    child_signals_teardown(st.pipe_rd);
    RB_GC_GUARD(st.obj);
    return status;
}
