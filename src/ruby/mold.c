/*
 * The mold: boots Ruby and the application, compacts its heap, then
 * serves spawn requests from the monitor.  A spawn is a double fork
 * through Ruby's own Process.fork (so _fork hooks run): the short-lived
 * intermediate reports the worker's pid and control socket to the
 * monitor and exits, which reparents the worker to the monitor.
 *
 * Roles come back to one shallow dispatcher (mold_main) so the stack does
 * not grow when a process changes role.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/mold.h"

#include <errno.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ruby.h>

#include "core/cgroup_worker.h"
#include "core/control.h"
#include "core/listeners.h"
#include "core/log.h"
#include "core/proctitle.h"
#include "core/settings.h"
#include "core/shm.h"
#include "core/workdir.h"
#include "ruby/bundle.h"
#include "ruby/config_eval.h"
#include "ruby/hooks.h"
#include "ruby/info.h"
#include "ruby/pfruby.h"
#include "ruby/service_worker.h"
#include "ruby/vm.h"
#include "ruby/worker.h"

enum mold_role { ROLE_MOLD, ROLE_WORKER, ROLE_SERVICE, ROLE_EXIT };

struct mold {
    const struct mold_args *a;
    int ctl_fd;
    unsigned generation;
    VALUE app;
    int worker_nr; /* set in a forked worker (or CTL_NR_SERVICE) */
    int worker_fd; /* its control socket */
    int exit_status;
    pid_t monitor_pid; /* the parent of the first mold */
};

/* Put every signal the monitor handled back to its default action. */
static void
mold_reset_signals(void)
{
    static const int sigs[] = {SIGINT,  SIGTERM, SIGQUIT, SIGHUP,  SIGUSR1,
                               SIGUSR2, SIGTTIN, SIGTTOU, SIGWINCH};
    struct sigaction sa = {.sa_handler = SIG_DFL};

    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            log_syswarn("sigaction %d to SIG_DFL", sigs[i]);
}

/*
 * GC.compact, a full GC that also moves live objects together, so that
 * workers share the most pages (measured: the copy-on-write loss per
 * worker is more than halved).  A promoted mold's heap has served
 * requests: a GC.start first frees that garbage before the compaction
 * fills the holes, and the tree shares more (measured: 4-5 MiB less in all
 * after a refork on the copy-on-write benchmark).  A freshly booted heap
 * gains nothing from it (same PSS) and its first request would wait for
 * it (120 ms there).  Then hand the malloc heap's free pages back to the
 * kernel: what a mold does not hold no worker inherits (measured: 6 MiB
 * less per generation on that benchmark, whose warm heap is 245 MiB).
 *
 * Where Ruby has Process.warmup (3.3 and later), it does all of that and
 * also frees the object heap's pages the compaction emptied: since Ruby
 * 3.2 short strings live in the object heap, and GC.compact alone left
 * their pages in the mold (measured on Ruby 3.3 with 60 MB of 300-byte
 * strings freed at boot).
 */
static VALUE
mold_compact_body(VALUE warm)
{
    VALUE gc = rb_const_get(rb_cObject, rb_intern("GC"));
    VALUE process = rb_const_get(rb_cObject, rb_intern("Process"));
    bool can_compact = rb_respond_to(gc, rb_intern("compact"));

    if (can_compact && rb_respond_to(process, rb_intern("warmup"))) {
        rb_funcall(process, rb_intern("warmup"), 0);
        return Qnil;
    }
    if (RTEST(warm) || !can_compact)
        rb_funcall(gc, rb_intern("start"), 0);
    if (can_compact)
        rb_funcall(gc, rb_intern("compact"), 0);
#ifdef HAVE_MALLOC_TRIM
    malloc_trim(0);
#endif
    return Qnil;
}

/* WARM: the mold is a promoted worker, not a freshly booted one. */
static void
mold_compact(const struct settings *s, bool warm)
{
    int state = 0;

    if (!s->mold_compact)
        return;
    pfruby_protect(mold_compact_body, warm ? Qtrue : Qfalse, &state);
    if (state)
        log_warn("GC.compact in the mold failed; workers share less memory");
}

/*
 * After Ruby booted, the mold owns these signals with a handler that does
 * nothing: the monitor drives the mold over its control socket, and a
 * stray TERM (a terminal's Ctrl-C, "systemctl kill") must neither kill
 * the mold mid-fork nor raise a Ruby exception in C.  A handler, unlike
 * SIG_IGN, is reset by exec, so the app's subprocesses get the defaults.
 */
static void
mold_on_signal(int sig)
{
    (void)sig;
}

static void
mold_own_signals(void)
{
    static const int sigs[] = {SIGINT,  SIGTERM, SIGQUIT, SIGHUP,
                               SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU};
    struct sigaction sa = {.sa_handler = mold_on_signal};

    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            log_syswarn("sigaction %s in the mold", strsignal(sigs[i]));
}

struct mold_wait {
    int fd;
    int rc;
    int err;
};

/* Both calls may raise a pending interrupt: run them protected. */
static VALUE
mold_wait_body(VALUE arg)
{
    struct mold_wait *w = (struct mold_wait *)arg;
    struct pollfd p = {.fd = w->fd, .events = POLLIN};

    w->rc = pfruby_poll(&p, 1, -1);
    w->err = errno;
    rb_thread_check_ints();
    return Qnil;
}

/* Wait for the control socket without holding the GVL, so the app's
 * threads in the mold keep running.  Returns 1 readable, -1 on error. */
static int
mold_wait(int fd)
{
    struct mold_wait w;

    for (;;) {
        w = (struct mold_wait){fd, -1, EINTR};
        pfruby_protect(mold_wait_body, (VALUE)&w, NULL);
        if (w.rc > 0)
            return 1;
        if (w.rc < 0 && w.err != EINTR) {
            errno = w.err;
            log_syserr("poll on the mold's control socket");
            return -1;
        }
    }
}

/* Wait for the intermediate; Ruby's SIGCHLD handler has no SA_RESTART. */
static void
mold_reap_intermediate(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            log_syswarn("waitpid intermediate %ld", (long)pid);
            return;
        }
    }
}

/* In the intermediate: fork the worker (or the service worker, nr
 * CTL_NR_SERVICE) and report it, then _exit. */
static enum mold_role
mold_intermediate(struct mold *m, int nr, int sp[2])
{
    struct ctl_msg msg = {CTL_SPAWNED, nr, m->generation, 0, 0};
    pid_t pid = vm_fork();

    if (pid == 0) {
        (void)close(sp[0]); /* the monitor's end */
        (void)close(m->ctl_fd);
        m->worker_nr = nr;
        m->worker_fd = sp[1];
        return nr == CTL_NR_SERVICE ? ROLE_SERVICE : ROLE_WORKER;
    }
    if (pid > 0) {
        msg.pid = pid;
        if (control_send(m->ctl_fd, &msg, &sp[0], 1) < 0) {
            log_syserr("report worker %d to the monitor", nr);
            (void)kill(pid, SIGKILL); /* an orphan nobody supervises */
        }
    }
    _exit(pid > 0 ? 0 : 1);
}

static enum mold_role
mold_spawn(struct mold *m, int nr)
{
    int sp[2];
    pid_t mid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        log_syserr("socketpair for worker %d", nr);
        return ROLE_MOLD;
    }
    /* An exit from before_fork is not the mold's to take: it goes on. */
    hooks_run(HOOK_BEFORE_FORK, 0, NULL, NULL);
    mid = vm_fork();
    if (mid == 0)
        return mold_intermediate(m, nr, sp);
    (void)close(sp[0]); /* the mold keeps neither end */
    (void)close(sp[1]);
    if (mid > 0)
        mold_reap_intermediate(mid);
    return ROLE_MOLD;
}

/*
 * The hooks upstream runs in its monitor, run here when the monitor tells
 * the mold what happened.  An exit from them is ignored: the mold serves
 * the monitor, not the hook.
 */
static void
mold_told(const struct ctl_msg *msg)
{
    VALUE argv[2];

    switch (msg->type) {
    case CTL_MONITOR_READY:
        hooks_run(HOOK_AFTER_MONITOR_READY, 0, NULL, NULL);
        break;
    case CTL_HARD_TIMEOUT:
        if (!hooks_defined(HOOK_AFTER_WORKER_HARD_TIMEOUT))
            break;
        argv[0] = hooks_worker(msg->nr, msg->generation, msg->pid, false);
        hooks_run(HOOK_AFTER_WORKER_HARD_TIMEOUT, 1, argv, NULL);
        break;
    case CTL_WORKER_EXITED:
        if (!hooks_defined(HOOK_AFTER_WORKER_EXIT))
            break;
        argv[0] = hooks_worker(msg->nr, msg->generation, msg->pid, false);
        argv[1] = hooks_exit_status(msg->pid, (int)msg->arg);
        hooks_run(HOOK_AFTER_WORKER_EXIT, 2, argv, NULL);
        RB_GC_GUARD(argv[0]);
        RB_GC_GUARD(argv[1]);
        break;
    }
}

/* Serve the monitor's requests until a worker or the service worker is
 * forked (the role of this process is then theirs) or a stop. */
static enum mold_role
mold_loop(struct mold *m)
{
    proctitle_set("pitchfork (gen:%u) mold", m->generation);
    for (;;) {
        struct ctl_msg msg;
        enum mold_role role;
        int rc;
        if (mold_wait(m->ctl_fd) < 0)
            return ROLE_EXIT;
        rc = control_recv_bare(m->ctl_fd, &msg);
        if (rc < 0 && errno == EAGAIN)
            continue;
        if (rc <= 0 || msg.type == CTL_STOP) {
            if (rc < 0)
                log_syserr("read the mold's control socket");
            return ROLE_EXIT;
        }
        if (msg.type == CTL_SPAWN &&
            (role = mold_spawn(m, msg.nr)) != ROLE_MOLD)
            return role;
        mold_told(&msg);
    }
}

/* after_mold_fork(server, mold) in a new mold; returns -1 when the hook
 * asked to exit (the mold is then discarded with that status). */
static int
mold_after_fork(struct mold *m)
{
    VALUE mold;
    int status = 1;

    if (!hooks_defined(HOOK_AFTER_MOLD_FORK))
        return 0;
    mold = hooks_worker(-1, m->generation, getpid(), false);
    if (hooks_run(HOOK_AFTER_MOLD_FORK, 1, &mold, &status) == 1) {
        log_err("after_mold_fork asked to exit: discarding this mold");
        m->exit_status = status != 0 ? status : 1;
        return -1;
    }
    RB_GC_GUARD(mold);
    return 0;
}

/* Report to the monitor that this process is a ready mold. */
static int
mold_ready(struct mold *m)
{
    struct ctl_msg msg = {CTL_READY, -1, m->generation, 0, 0};

    msg.pid = getpid();
    if (hooks_defined(HOOK_AFTER_MONITOR_READY))
        msg.arg |= CTL_HOOK_MONITOR_READY;
    if (hooks_defined(HOOK_AFTER_WORKER_EXIT))
        msg.arg |= CTL_HOOK_WORKER_EXITED;
    if (hooks_defined(HOOK_AFTER_WORKER_HARD_TIMEOUT))
        msg.arg |= CTL_HOOK_HARD_TIMEOUT;
    if (hooks_defined(HOOK_BEFORE_SERVICE_WORKER_READY))
        msg.arg |= CTL_HOOK_SERVICE;
    if (control_send(m->ctl_fd, &msg, NULL, 0) < 0) {
        log_syserr("report the mold ready to the monitor");
        return -1;
    }
    return 0;
}

/*
 * A worker told to become the next mold: its control socket becomes the
 * mold's, and the monitor wrote the new generation into its slot.
 */
static enum mold_role
mold_promoted(struct mold *m, struct shm_slot *slot)
{
    m->ctl_fd = m->worker_fd;
    m->worker_fd = -1;
    m->generation = atomic_load(&slot->generation);
    log_set_role("mold", -1, m->generation);
    /* A mold is held to the service's limit, not to a worker's. */
    if (m->a->settings->worker_memory_hard_max && cgroup_worker_leave() < 0)
        log_syswarn("worker %d promoted to mold: leave its cgroup for the "
                    "monitor's; it keeps worker_memory_hard_max",
                    m->worker_nr);
    log_event(LOGL_INFO, "promote", NULL, "worker %d is now the mold",
              m->worker_nr);
    m->worker_nr = -1;
    mold_own_signals();
    if (mold_after_fork(m) < 0)
        return ROLE_EXIT;
    mold_compact(m->a->settings, true);
    if (mold_ready(m) < 0) {
        m->exit_status = 1;
        return ROLE_EXIT;
    }
    return ROLE_MOLD;
}

/*
 * In a fresh worker, before it runs a hook or serves: enter the cgroup
 * the monitor made with the worker_memory_hard_max limit.  The worker
 * moves itself, so that no request is ever served outside it; the
 * monitor, which learns the pid only from the mold's report, could move
 * it only once it may already be serving.  Without it the worker serves
 * with the soft cap alone.
 */
static void
mold_worker_cgroup(const struct mold *m)
{
    char dir[4400];

    if (m->a->settings->worker_memory_hard_max == 0 ||
        cgroup_worker_enter(m->worker_nr) == 0)
        return;
    cgroup_worker_dir(m->worker_nr, dir, sizeof(dir));
    log_syswarn("worker %d: enter the cgroup %s of worker_memory_hard_max; "
                "it serves without that limit",
                m->worker_nr, dir);
}

/* In a fresh worker: announce it and serve. */
static enum mold_role
mold_worker(struct mold *m)
{
    struct ctl_msg ready = {CTL_READY, m->worker_nr, m->generation, 0, 0};
    struct worker w = {
        m->worker_nr, m->generation,  m->worker_fd,
        m->a->ls,     m->a->settings, &m->a->slots[m->worker_nr],
        m->app,       m->monitor_pid, Qnil};
    enum worker_result r;
    int status = 1;

    log_set_role("worker", m->worker_nr, m->generation);
    mold_worker_cgroup(m);
    if (m->a->settings->setpgid && setpgid(0, 0) < 0)
        log_syswarn("setpgid in worker %d", m->worker_nr);
    w.obj = hooks_worker(w.nr, w.generation, getpid(), true);
    /* A worker whose after_worker_fork failed (say, no database
     * connection) must not serve: it exits, a failed spawn. */
    switch (hooks_run(HOOK_AFTER_WORKER_FORK, 1, &w.obj, &status)) {
    case 1: m->exit_status = status; return ROLE_EXIT;
    case -1:
        log_err("after_worker_fork raised: worker %d exits", w.nr);
        m->exit_status = 1;
        return ROLE_EXIT;
    default: break;
    }
    ready.pid = getpid();
    /* Counts first: the monitor reads a slot once it shows our pid. */
    atomic_store(&w.slot->requests, 0);
    for (int b = 0; b < LATENCY_BUCKETS; b++)
        atomic_store(&w.slot->latency[b], 0);
    atomic_store(&w.slot->latency_sum_ns, 0);
    atomic_store(&w.slot->pid, ready.pid);
    atomic_store(&w.slot->generation, m->generation);
    atomic_store(&w.slot->deadline_ns, 0);
    if (control_send(w.ctl_fd, &ready, NULL, 0) < 0) {
        log_syserr("report ready to the monitor");
        m->exit_status = 1;
        return ROLE_EXIT;
    }
    r = worker_run(&w);
    if (r == WORKER_PROMOTE)
        return mold_promoted(m, w.slot);
    m->exit_status = r == WORKER_EXIT_ERROR ? 1 : 0;
    hooks_run(HOOK_BEFORE_WORKER_EXIT, 1, &w.obj, NULL);
    return ROLE_EXIT;
}

/*
 * In a fresh service worker: no after_worker_fork, no listener; its
 * hooks and its wait are service_worker.c's.  It never becomes a mold.
 */
static enum mold_role
mold_service(struct mold *m)
{
    struct service_worker sv = {m->generation,
                                m->worker_fd,
                                m->a->ls,
                                m->a->settings,
                                &m->a->slots[SHM_SERVICE_SLOT],
                                m->monitor_pid};

    m->exit_status = service_worker_run(&sv);
    return ROLE_EXIT;
}

/*
 * Boot Ruby and the app; report readiness or failure.  The working
 * directory is entered afresh first, so that a symlink switched to a
 * new release since the last mold booted is followed: the Gemfile, the
 * configuration file and config.ru are that release's.
 */
static int
mold_boot(struct mold *m)
{
    const struct settings *s = m->a->settings;
    char err[1024];

    if (workdir_enter(s->working_directory, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return -1;
    }
    if (vm_boot(s) < 0)
        return -1;
    if (bundle_summary() != NULL)
        log_info("%s", bundle_summary());
    if (s->config_file != NULL && config_eval_load(s->config_file) < 0)
        return -1;
    hooks_load();
    info_boot(m->a->slots, s->workers);
    m->app = vm_load_app(s);
    if (NIL_P(m->app))
        return -1;
    mold_own_signals();
    if (mold_after_fork(m) < 0)
        return -1;
    mold_compact(s, false);
    return mold_ready(m);
}

void
mold_main(const struct mold_args *a)
{
    PFRUBY_INIT_STACK;
    struct mold m = {a, a->ctl_fd, a->generation, Qnil, -1, -1, 0, getppid()};
    enum mold_role role = ROLE_MOLD;

    log_set_role("mold", -1, a->generation);
    proctitle_set("pitchfork (gen:%u) mold - booting", a->generation);
    mold_reset_signals();
    if (mold_boot(&m) < 0)
        _exit(m.exit_status != 0 ? m.exit_status : 1);
    while (role != ROLE_EXIT) {
        if (role == ROLE_MOLD)
            role = mold_loop(&m);
        else if (role == ROLE_WORKER)
            role = mold_worker(&m);
        else
            role = mold_service(&m);
    }
    vm_exit(m.exit_status);
}
