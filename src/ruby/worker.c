/*
 * A worker's loop: its signals on a self-pipe (child_signals.h); epoll
 * over the listeners (EPOLLEXCLUSIVE), the control socket and the
 * self-pipe, waited without the GVL; accept4, then each connection handed
 * to connection_serve(); the shared slot kept current (state, requests,
 * deadline) and the after_request_complete hook run.
 *
 * Signals: when it starts, Ruby installs handlers (without SA_RESTART)
 * for INT, HUP, QUIT, TERM, ALRM, USR1 and USR2 that raise Ruby
 * exceptions; the worker installs its own, which only write to its
 * self-pipe, so that even a signal delivered to an app thread ends the
 * wait without an exception.  TERM and QUIT finish the request and exit,
 * INT exits at once, the other signals the server owns are ignored here.
 * CHLD and VTALRM stay Ruby's: its waitpid needs its SIGCHLD handler, and
 * Thread#raise interrupts a wait without the GVL with SIGVTALRM.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ruby/thread.h>

#include "core/child_signals.h"
#include "core/control.h"
#include "core/latency.h"
#include "core/listeners.h"
#include "core/log.h"
#include "core/proctitle.h"
#include "core/settings.h"
#include "core/shm.h"
#include "ruby/connection.h"
#include "ruby/hooks.h"
#include "ruby/info.h"
#include "ruby/pfruby.h"
#include "ruby/rack_env.h"

#define WORKER_EVENTS 16
#define WORKER_ACCEPT_BATCH 16 /* accepts before looking at epoll again */
#define EV_CTL 0xfffffff0u
#define EV_PIPE 0xfffffff1u

/* What the loop keeps between requests. */
struct worker_state {
    int epfd;
    int pipe_rd;
    bool stop;                /* graceful: no new connection */
    bool promote;             /* CTL_PROMOTE received */
    bool error;               /* unrecoverable: exit with an error */
    bool pdeath;              /* PR_SET_PDEATHSIG is set */
    bool starved;             /* accept4 ran out of descriptors or memory */
    uint64_t titled;          /* request count shown in the title */
    struct connection_buf cb; /* lent to each connection in turn */
};

/* ---- setup -------------------------------------------------------------- */

static int
worker_nonblock(int fd, const char *what)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0) {
        log_syserr("fcntl F_GETFL %s fd %d", what, fd);
        return -1;
    }
    if ((fl & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_syserr("fcntl O_NONBLOCK %s fd %d", what, fd);
        return -1;
    }
    return 0;
}

static int
worker_epoll_add(int epfd, int fd, uint32_t events, uint32_t tag)
{
    struct epoll_event ev = {.events = events, .data.u32 = tag};

    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_syserr("epoll_ctl ADD fd %d", fd);
        return -1;
    }
    return 0;
}

static int
worker_epoll_setup(struct worker *w, struct worker_state *ws)
{
    ws->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ws->epfd < 0) {
        log_syserr("epoll_create1");
        return -1;
    }
    for (size_t i = 0; i < w->ls->n; i++) {
        const struct listener *l = &w->ls->l[i];

        if (!listeners_serve(l, w->nr))
            continue; /* another worker's queue (listen_queues) */
        /* Accepting must never block: another worker may win the race. */
        if (worker_nonblock(l->fd, l->addr) < 0 ||
            worker_epoll_add(ws->epfd, l->fd, EPOLLIN | EPOLLEXCLUSIVE,
                             (uint32_t)i) < 0)
            return -1;
    }
    if (worker_nonblock(w->ctl_fd, "control socket") < 0 ||
        worker_epoll_add(ws->epfd, w->ctl_fd, EPOLLIN, EV_CTL) < 0 ||
        worker_epoll_add(ws->epfd, ws->pipe_rd, EPOLLIN, EV_PIPE) < 0)
        return -1;
    return 0;
}

static VALUE
worker_ruby_setup(VALUE arg)
{
    struct worker *w = (struct worker *)arg;
    VALUE worker_obj, timeout_obj;

    info_worker_start(w, &worker_obj, &timeout_obj);
    rack_env_worker_init(w->ls, worker_obj, timeout_obj);
    return Qnil;
}

static int
worker_setup(struct worker *w, struct worker_state *ws)
{
    int state = 0;

    ws->epfd = -1;
    ws->pipe_rd = -1;
    if (connection_buf_init(&ws->cb) < 0)
        return -1;
    if (child_signals_setup(&ws->pipe_rd) < 0 || worker_epoll_setup(w, ws) < 0)
        return -1;
    pfruby_protect(worker_ruby_setup, (VALUE)w, &state);
    return state == 0 ? 0 : -1;
}

/* Close this worker's own fds; the handlers stay but stop writing (the
 * fd number may be reused by whoever runs next, e.g. a promoted mold). */
static void
worker_teardown(struct worker_state *ws)
{
    child_signals_teardown(ws->pipe_rd);
    if (ws->epfd >= 0 && close(ws->epfd) < 0)
        log_syswarn("close epoll fd");
    connection_buf_free(&ws->cb);
}

/* ---- the slot and the title --------------------------------------------- */

/* deadline 0 clears it, except after a soft timeout: the monitor then
 * still sees the passed deadline when it reaps the worker (and logs the
 * timeout), and kills it if it does not exit within cleanup_timeout. */
static void
worker_slot_state(struct worker *w, enum shm_state st, int64_t deadline)
{
    if (w->slot == NULL)
        return;
    if (deadline == 0 && info_timed_out())
        deadline = atomic_load(&w->slot->deadline_ns);
    atomic_store(&w->slot->deadline_ns, deadline);
    atomic_store(&w->slot->state, (uint32_t)st);
}

static uint64_t
worker_requests(const struct worker *w)
{
    return w->slot != NULL ? atomic_load(&w->slot->requests) : 0;
}

static void
worker_title(struct worker *w, struct worker_state *ws, bool force)
{
    uint64_t n = worker_requests(w);

    if (!force && n == ws->titled)
        return;
    ws->titled = n;
    proctitle_set("pitchfork (gen:%u) worker[%d] - requests: %llu, waiting",
                  w->generation, w->nr, (unsigned long long)n);
}

/* ---- control messages --------------------------------------------------- */

static void
worker_control(struct worker *w, struct worker_state *ws)
{
    for (;;) {
        struct ctl_msg m;
        int r = control_recv_bare(w->ctl_fd, &m);

        if (r == 0) {
            log_event(LOGL_INFO, "exit", NULL,
                      "the monitor is gone: exiting after this request");
            ws->stop = true;
            return;
        }
        if (r < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                log_syserr("control_recv from the monitor");
                ws->stop = ws->error = true;
            }
            return;
        }
        if (m.type == CTL_STOP) {
            ws->stop = true;
            info_shutting_down();
        } else if (m.type == CTL_PROMOTE) {
            ws->promote = true;
        } else {
            log_warn("unexpected control message type %u from the monitor",
                     m.type);
        }
    }
}

/* ---- waiting ------------------------------------------------------------ */

struct worker_wait {
    int epfd;
    struct epoll_event ev[WORKER_EVENTS];
    int n;
    int err;
};

static void *
worker_wait_nogvl(void *arg)
{
    struct worker_wait *ww = arg;

    ww->n = epoll_wait(ww->epfd, ww->ev, WORKER_EVENTS, -1);
    ww->err = errno;
    return NULL;
}

/* rb_thread_call_without_gvl may raise a pending interrupt (Thread#raise
 * from an app thread), so it runs under the protected-call wrapper. */
static VALUE
worker_wait_body(VALUE arg)
{
    rb_thread_call_without_gvl(worker_wait_nogvl, (void *)arg, RUBY_UBF_IO,
                               NULL);
    return Qnil;
}

static int
worker_wait(struct worker_state *ws, struct worker_wait *ww)
{
    int state = 0;

    ww->epfd = ws->epfd;
    ww->n = -1;
    ww->err = EINTR;
    pfruby_protect(worker_wait_body, (VALUE)ww, &state);
    if (ww->n < 0 && ww->err != EINTR) {
        errno = ww->err;
        log_syserr("epoll_wait");
        return -1;
    }
    return ww->n < 0 ? 0 : ww->n;
}

/* ---- one connection ----------------------------------------------------- */

/* after_request_complete(server, worker, env) for requests the app saw;
 * an exit from it stops the worker after this request. */
static void
worker_request_complete(struct worker *w, struct worker_state *ws,
                        struct rack_conn *c)
{
    VALUE argv[2] = {w->obj, c->env};

    if (!hooks_defined(HOOK_AFTER_REQUEST_COMPLETE) ||
        !RB_TYPE_P(c->env, T_HASH))
        return;
    if (hooks_run(HOOK_AFTER_REQUEST_COMPLETE, 2, argv, NULL) == 1)
        ws->stop = true;
}

/* connection_opts.slot_deadline: the deadline the monitor and the soft
 * timeout see, kept once the soft timeout fired (see above). */
static void
worker_slot_deadline(void *arg, int64_t deadline_ns)
{
    struct worker *w = arg;

    if (w->slot != NULL && !info_timed_out())
        atomic_store(&w->slot->deadline_ns, deadline_ns);
}

/* connection_opts.answered: the request duration histogram of the slot. */
static void
worker_answered(void *arg, int64_t ns)
{
    struct worker *w = arg;

    latency_record(w->slot, ns);
}

static enum connection_result
worker_serve(struct worker *w, struct worker_state *ws, struct rack_conn *c)
{
    const struct connection_opts o = {
        .app = w->app,
        .check_client = w->settings->check_client_connection,
        .header_timeout = w->settings->header_timeout,
        .timeout = w->settings->timeout,
        .slot_deadline = worker_slot_deadline,
        .answered = worker_answered,
        .arg = w,
    };
    enum connection_result r;

    pfruby_asan_landed(); /* forget the last request's unwinding */
    /* The deadline is connection_serve's to set, before any wait. */
    if (w->slot != NULL)
        atomic_store_explicit(&w->slot->listener, (uint32_t)c->listener_index,
                              memory_order_relaxed);
    worker_slot_state(w, SHM_BUSY, 0);
    r = connection_serve(c, &ws->cb, &o);
    if (w->slot != NULL && r != CONNECTION_SILENT)
        atomic_fetch_add(&w->slot->requests, 1);
    worker_request_complete(w, ws, c);
    if (info_timed_out())
        r = CONNECTION_EXIT; /* SystemExit may have been rescued */
    worker_slot_state(w, ws->stop ? SHM_STOPPING : SHM_IDLE, 0);
    return r;
}

static void *
worker_nap_nogvl(void *unused)
{
    (void)unused;
    /* EINTR only shortens the back-off. */
    (void)nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    return NULL;
}

static VALUE
worker_nap_body(VALUE unused)
{
    (void)unused;
    rb_thread_call_without_gvl(worker_nap_nogvl, NULL, RUBY_UBF_IO, NULL);
    return Qnil;
}

/* 50 ms without the GVL, so that the app's threads can give
 * descriptors back meanwhile. */
static void
worker_nap(void)
{
    int state = 0;

    pfruby_protect(worker_nap_body, Qnil, &state);
}

/*
 * accept4 on ADDR failed with ERR: when the worker or the system is out of
 * descriptors or memory, back off 50 ms (the connection stays queued for
 * this worker or another one) and return true.  Only the first failure
 * of a run is logged: the worker retries 20 times a second.
 */
static bool
worker_starved(struct worker_state *ws, const char *addr, int err)
{
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return false;
    if (!ws->starved) {
        errno = err;
        log_syserr("accept4 on %s, backing off until descriptors or memory "
                   "are free (logged once)",
                   addr);
        ws->starved = true;
    }
    worker_nap();
    return true;
}

/*
 * Accept and serve up to WORKER_ACCEPT_BATCH connections from listener
 * i, stopping at EAGAIN (another worker was faster, or none left) or when
 * a signal or the app asks to stop.  Returns false when the worker must
 * leave its loop.
 */
static bool
worker_accept(struct worker *w, struct worker_state *ws, size_t i)
{
    const struct listener *l = &w->ls->l[i];

    for (int k = 0; k < WORKER_ACCEPT_BATCH; k++) {
        struct rack_conn c;

        if (child_signals_stop() || ws->stop || ws->promote)
            return true;
        connection_prepare(&c, l, (int)i);
        c.fd = accept4(l->fd, (struct sockaddr *)&c.peer, &c.peerlen,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c.fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            if (worker_starved(ws, l->addr, errno))
                return true;
            log_syserr("accept4 on %s", l->addr);
            return true;
        }
        if (ws->starved) {
            ws->starved = false;
            log_info("accept4 on %s: accepting again", l->addr);
        }
        if (worker_serve(w, ws, &c) == CONNECTION_EXIT) {
            log_event(LOGL_INFO, "exit", NULL,
                      "the app asked to exit (SystemExit or a signal)");
            return false;
        }
    }
    return true;
}

/* ---- the loop ----------------------------------------------------------- */

/*
 * Once the worker has been reparented to the monitor (its intermediate
 * exited), ask for SIGTERM when the monitor dies: the worker then
 * finishes its request and exits, even before it would notice the EOF on
 * its control socket.  Set earlier, the intermediate's own exit would
 * send it.  The second getppid() closes the race with a monitor that died
 * in between.
 */
static void
worker_parent_death(struct worker *w, struct worker_state *ws)
{
    if (ws->pdeath || w->monitor_pid <= 0 || getppid() != w->monitor_pid)
        return;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) {
        log_syswarn("prctl PR_SET_PDEATHSIG");
        return;
    }
    ws->pdeath = true;
    if (getppid() != w->monitor_pid)
        ws->stop = true;
}

static enum worker_result
worker_loop(struct worker *w, struct worker_state *ws)
{
    struct worker_wait ww;

    worker_slot_state(w, SHM_IDLE, 0);
    worker_title(w, ws, true);
    for (;;) {
        bool ready[LISTENERS_MAX] = {false};
        int n;

        /* The soft timeout's SystemExit may land after the request, in
         * a wait, where nothing else would end the worker. */
        if (info_timed_out())
            return WORKER_EXIT_OK;
        if (child_signals_stop() && !ws->stop) {
            ws->stop = true;
            info_shutting_down();
        }
        if (ws->error)
            return WORKER_EXIT_ERROR;
        if (ws->promote)
            return WORKER_PROMOTE;
        worker_parent_death(w, ws);
        if (ws->stop)
            return WORKER_EXIT_OK;
        worker_title(w, ws, false);
        if ((n = worker_wait(ws, &ww)) < 0)
            return WORKER_EXIT_ERROR;
        for (int i = 0; i < n; i++) {
            uint32_t tag = ww.ev[i].data.u32;

            if (tag == EV_PIPE)
                child_signals_drain(ws->pipe_rd);
            else if (tag == EV_CTL)
                worker_control(w, ws);
            else if (tag < LISTENERS_MAX)
                ready[tag] = true;
        }
        for (size_t i = 0; i < w->ls->n && i < LISTENERS_MAX; i++)
            if (ready[i] && !worker_accept(w, ws, i))
                return WORKER_EXIT_OK;
    }
}

enum worker_result
worker_run(struct worker *w)
{
    struct worker_state ws;
    enum worker_result r = WORKER_EXIT_ERROR;

    memset(&ws, 0, sizeof(ws));
    if (worker_setup(w, &ws) == 0) {
        log_event(LOGL_DEBUG, "ready", NULL, "worker serving");
        if (hooks_run(HOOK_AFTER_WORKER_READY, 1, &w->obj, NULL) == 1)
            ws.stop = true;
        r = worker_loop(w, &ws);
    }
    if (r == WORKER_PROMOTE)
        worker_slot_state(w, SHM_BOOTING, 0);
    else
        worker_slot_state(w, SHM_STOPPING, 0);
    worker_teardown(&ws);
    info_worker_done();
    return r;
}
