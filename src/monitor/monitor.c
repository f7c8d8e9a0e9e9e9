/*
 * The monitor's supervision loop: one epoll over a signalfd, the molds'
 * control sockets and every worker's control socket.  It boots the mold,
 * asks it for workers, reaps and replaces children, enforces the hard
 * request timeout, shuts down on signals and keeps systemd informed.
 * The refork, reload and rollout policy lives in refork.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/monitor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/control.h"
#include "monitor/health.h"
#include "core/listeners.h"
#include "core/log.h"
#include "monitor/monitor_internal.h"
#include "core/sdnotify.h"

static const struct child no_child = {0, -1, 0, false, 0, false, false,
                                      false, 0, 0};

/*
 * Spawn requests the mold has not answered yet, at most: each direction of
 * a control socket holds a few hundred messages, and a monitor blocked on
 * a full one would never read the answers that drain the other.
 */
#define SPAWNS_IN_FLIGHT 32

static void monitor_stop(struct monitor *m, bool quick);

int
monitor_epoll_add(struct monitor *m, int fd, enum monitor_tag tag,
                  uint32_t nr)
{
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = ((uint64_t)tag << 32) | nr};

    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        log_syserr("epoll_ctl ADD fd %d", fd);
        return -1;
    }
    return 0;
}

int
monitor_epoll_retag(struct monitor *m, int fd, enum monitor_tag tag,
                    uint32_t nr)
{
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = ((uint64_t)tag << 32) | nr};

    if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
        log_syserr("epoll_ctl MOD fd %d", fd);
        return -1;
    }
    return 0;
}

void
monitor_close_child(struct monitor *m, struct child *c)
{
    if (c->ctl_fd >= 0) {
        /* closing also removes it from the epoll set */
        if (close(c->ctl_fd) < 0)
            log_syswarn("close control socket of pid %ld", (long)c->pid);
        c->ctl_fd = -1;
    }
}

/* Send a bare message; a child that cannot be told is stopped hard. */
void
monitor_send(struct monitor *m, struct child *c, uint32_t type)
{
    struct ctl_msg msg = {type, -1, m->next_gen, 0, 0};

    if (c->pid <= 0)
        return; /* no such child, nothing to tell */
    if (c->ctl_fd < 0)
        log_warn("pid %ld has no control socket (message %u); sending "
                 "SIGTERM",
                 (long)c->pid, type);
    else if (control_send(c->ctl_fd, &msg, NULL, 0) == 0)
        return;
    else
        log_syswarn("tell pid %ld (message %u); sending SIGTERM",
                    (long)c->pid, type);
    if (kill(c->pid, SIGTERM) < 0 && errno != ESRCH)
        log_syswarn("kill pid %ld", (long)c->pid);
}

void
monitor_tell_stop(struct monitor *m, struct child *c)
{
    if (c->pid <= 0 || c->stopping)
        return;
    monitor_send(m, c, CTL_STOP);
    c->stopping = true;
}

int
monitor_ready_count(const struct monitor *m)
{
    int n = 0;

    for (int i = 0; i < m->nworkers; i++)
        n += m->workers[i].pid > 0 && m->workers[i].ready;
    return n;
}

void
monitor_status(struct monitor *m)
{
    health_status(m); /* the STATUS= line and its once-a-second refresh */
}

/* Asked for and not reported yet (-1 is a slot kept for a promotion). */
static int
monitor_spawns_in_flight(const struct monitor *m)
{
    int n = 0;

    for (int i = 0; i < m->hiwater; i++)
        n += m->workers[i].pid == 0 && m->workers[i].spawn_ns > 0;
    return n;
}

/* Ask the current mold for the missing workers, SPAWNS_IN_FLIGHT at most
 * at a time; each report asks for more. */
void
monitor_request_workers(struct monitor *m)
{
    int64_t now = clock_now_ns();
    int in_flight = monitor_spawns_in_flight(m);

    if (m->stopping || m->mold.pid == 0 || !m->mold.ready)
        return;
    for (int nr = 0; nr < m->nworkers && in_flight < SPAWNS_IN_FLIGHT;
         nr++) {
        struct child *w = &m->workers[nr];
        struct ctl_msg msg = {CTL_SPAWN, nr, m->generation, 0, 0};
        if (w->pid != 0 || w->spawn_ns != 0)
            continue;
        if (control_send(m->mold.ctl_fd, &msg, NULL, 0) < 0) {
            log_syserr("ask the mold for worker %d", nr);
            return;
        }
        w->spawn_ns = now;
        in_flight++;
    }
    monitor_service_request(m); /* after the workers: they serve */
}

bool
monitor_was_reaped(struct monitor *m, pid_t pid)
{
    for (size_t i = 0; i < REAPED_RING; i++)
        if (m->reaped[i] == pid)
            return true;
    return false;
}

void
monitor_close_fds(int *fds, size_t nfds)
{
    for (size_t i = 0; i < nfds; i++)
        (void)close(fds[i]); /* descriptors nobody will use */
}

/* CTL_SPAWNED: a worker exists; take its control socket. */
static void
monitor_worker_spawned(struct monitor *m, const struct ctl_msg *msg,
                       int *fds, size_t nfds)
{
    struct child *w;

    if (msg->nr < 0 || msg->nr >= m->nworkers || nfds != 1 ||
        m->workers[msg->nr].pid != 0 || monitor_was_reaped(m, msg->pid)) {
        log_warn("ignoring a spawn report for worker %d pid %d", msg->nr,
                 msg->pid);
        monitor_close_fds(fds, nfds);
        /* Also a slot TTOU removed while its spawn was pending. */
        if (msg->nr >= 0 && msg->nr < m->hiwater &&
            m->workers[msg->nr].pid == 0)
            m->workers[msg->nr].spawn_ns = 0;
        if (msg->pid > 0 && !monitor_was_reaped(m, msg->pid))
            (void)kill(msg->pid, SIGKILL); /* unwanted; ESRCH: gone */
        monitor_request_workers(m);
        return;
    }
    w = &m->workers[msg->nr];
    *w = no_child;
    w->pid = msg->pid;
    w->ctl_fd = fds[0];
    w->generation = msg->generation;
    w->spawn_ns = clock_now_ns();
    log_event_for(LOGL_INFO, "spawn", msg->nr, msg->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", msg->pid)),
                  "worker %d spawned as pid %d (gen %u)", msg->nr, msg->pid,
                  msg->generation);
    if (monitor_epoll_add(m, w->ctl_fd, TAG_WORKER, (uint32_t)msg->nr) < 0)
        monitor_close_child(m, w);
    if (m->stopping)
        monitor_tell_stop(m, w); /* asked for before the stop */
    monitor_request_workers(m);
}

static void
monitor_all_ready(struct monitor *m)
{
    if (m->announced_ready || monitor_ready_count(m) < m->nworkers)
        return;
    m->announced_ready = true;
    log_event(LOGL_INFO, "ready", NULL, "%d workers ready (gen %u)",
              m->nworkers, m->generation);
    sdnotify("READY=1");
    monitor_hooks_ready(m);
}

/* Read one message from c; returns 1, or 0 after closing c on EOF. */
int
monitor_recv(struct monitor *m, struct child *c, struct ctl_msg *msg,
             int *fds, size_t *nfds)
{
    int rc = control_recv(c->ctl_fd, msg, fds, nfds);

    if (rc < 0 && errno == EAGAIN)
        return 0;
    /* ECONNRESET: the child exited with our last message unread. */
    if (rc < 0 && errno != ECONNRESET)
        log_syswarn("read the control socket of pid %ld", (long)c->pid);
    if (rc <= 0)
        monitor_close_child(m, c);
    return rc > 0;
}

static void
monitor_mold_message(struct monitor *m, struct child *c)
{
    struct ctl_msg msg;
    int fds[CTL_MAX_FDS];
    size_t nfds = 0;

    if (!monitor_recv(m, c, &msg, fds, &nfds))
        return;
    if (msg.type == CTL_SPAWNED && c == &m->mold) {
        if (msg.nr == CTL_NR_SERVICE)
            monitor_service_spawned(m, &msg, fds, nfds);
        else
            monitor_worker_spawned(m, &msg, fds, nfds);
        return;
    }
    monitor_close_fds(fds, nfds);
    if (msg.type != CTL_READY || c->ready)
        return;
    c->ready = true;
    c->promoting = false;
    c->hooks = (uint32_t)msg.arg;
    health_mold_ready(m, c);
    log_event_for(LOGL_INFO, "ready", -1, c->generation, NULL,
                  "mold pid %ld ready (gen %u)", (long)c->pid, c->generation);
    if (c == &m->next_mold) {
        refork_mold_ready(m);
        return;
    }
    m->generation = c->generation;
    monitor_request_workers(m);
}

static void
monitor_worker_message(struct monitor *m, int nr)
{
    struct child *w = &m->workers[nr];
    struct ctl_msg msg;
    int fds[CTL_MAX_FDS];
    size_t nfds = 0;

    if (!monitor_recv(m, w, &msg, fds, &nfds))
        return;
    monitor_close_fds(fds, nfds);
    if (msg.type == CTL_READY && !w->ready) {
        w->ready = true;
        w->spawn_ns = 0;
        m->spawn_errors = 0;
        log_event_for(LOGL_INFO, "ready", nr, w->generation, NULL,
                      "worker %d pid %ld ready (gen %u)", nr, (long)w->pid,
                      w->generation);
        monitor_all_ready(m);
        monitor_status(m);
    }
}

/* Describe a wait status: "exited with 1" / "killed by signal 9". */
struct log_field
monitor_describe_exit(int st, char *buf, size_t size)
{
    if (WIFEXITED(st)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(st));
        return LOG_INT("EXIT_STATUS", WEXITSTATUS(st));
    }
    snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(st),
             strsignal(WTERMSIG(st)));
    return LOG_INT("EXIT_SIGNAL", WTERMSIG(st));
}

void
monitor_count_spawn_error(struct monitor *m, bool was_ready)
{
    if (was_ready || m->stopping)
        return;
    if (++m->spawn_errors >= m->s->max_consecutive_spawn_errors) {
        log_err("%d consecutive spawn errors (max_consecutive_spawn_errors"
                "): giving up",
                m->spawn_errors);
        m->status = 1;
        monitor_stop(m, false); /* requests in progress finish */
    }
}

static void monitor_soft_timeout(struct monitor *m, int nr, int64_t now);

static void
monitor_reaped_worker(struct monitor *m, int nr, int st)
{
    struct child *w = &m->workers[nr];
    char how[96];
    bool was_ready = w->ready, expected = w->stopping || m->stopping;
    struct log_field field;

    monitor_soft_timeout(m, nr, clock_now_ns()); /* it may have been quick */

    field = monitor_describe_exit(st, how, sizeof(how));
    log_event_for(expected ? LOGL_INFO : LOGL_WARN, "exit", nr,
                  w->generation,
                  LOG_FIELDS(field, LOG_UINT("REQUESTS",
                                             atomic_load(
                                                 &m->slots[nr].requests))),
                  "worker %d pid %ld (gen %u) %s", nr, (long)w->pid,
                  w->generation, how);
    monitor_hooks_worker_exited(m, nr, w, st);
    monitor_close_child(m, w);
    *w = no_child;
    m->requests_retired += atomic_load(&m->slots[nr].requests);
    memset(&m->slots[nr], 0, sizeof(m->slots[nr]));
    monitor_count_spawn_error(m, was_ready);
    monitor_request_workers(m);
    monitor_status(m);
}

static void
monitor_reaped_mold(struct monitor *m, int st)
{
    char how[96];
    bool was_ready = m->mold.ready;
    struct log_field field = monitor_describe_exit(st, how, sizeof(how));

    log_event_for(m->stopping ? LOGL_INFO : LOGL_WARN, "exit", -1,
                  m->mold.generation, LOG_FIELDS(field),
                  "mold pid %ld (gen %u) %s", (long)m->mold.pid,
                  m->mold.generation, how);
    monitor_close_child(m, &m->mold);
    m->mold = no_child;
    for (int i = 0; i < m->nworkers; i++)
        if (m->workers[i].pid == 0)
            m->workers[i].spawn_ns = 0;
    monitor_service_mold_changed(m);
    if (!was_ready && !m->announced_ready) {
        log_err("the application failed to boot: stopping");
        m->status = 1;
        m->stopping = true;
        return;
    }
    monitor_count_spawn_error(m, was_ready);
    if (!m->stopping && m->next_mold.pid == 0 && refork_replace_mold(m) < 0)
        monitor_boot_mold(m, &m->mold);
}

static void
monitor_reaped(struct monitor *m, pid_t pid, int st)
{
    char how[96];

    for (int i = 0; i < m->hiwater; i++) {
        if (m->workers[i].pid == pid) {
            monitor_reaped_worker(m, i, st);
            return;
        }
    }
    if (pid == m->mold.pid) {
        monitor_reaped_mold(m, st);
    } else if (pid == m->service.pid) {
        monitor_service_reaped(m, st);
    } else if (pid == m->next_mold.pid) {
        (void)monitor_describe_exit(st, how, sizeof(how));
        /* A promoted worker's slot holds its last request: its requests
         * are already counted, and its deadline is not the next one's. */
        if (m->next_mold.promoting)
            memset(&m->slots[m->promoted_nr], 0,
                   sizeof(m->slots[m->promoted_nr]));
        monitor_close_child(m, &m->next_mold);
        m->next_mold = no_child;
        refork_failed(m, how);
    } else {
        m->reaped[m->reaped_next++ % REAPED_RING] = pid;
        log_debug("reaped process %ld (a retired mold or an orphan)",
                  (long)pid);
    }
}

static void
monitor_reap(struct monitor *m)
{
    pid_t pid;
    int st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        monitor_reaped(m, pid, st);
    if (pid < 0 && errno != ECHILD)
        log_syswarn("waitpid");
}

static void
monitor_kill(struct child *c, int sig)
{
    if (c->pid > 0 && kill(c->pid, sig) < 0 && errno != ESRCH)
        log_syswarn("kill pid %ld", (long)c->pid);
}

/* Send sig to every child. */
static void
monitor_kill_all(struct monitor *m, int sig)
{
    monitor_kill(&m->mold, sig);
    monitor_kill(&m->next_mold, sig);
    monitor_kill(&m->service, sig);
    for (int i = 0; i < m->hiwater; i++)
        monitor_kill(&m->workers[i], sig);
}

/* Graceful stop: every child finishes its request and exits. */
static void
monitor_stop(struct monitor *m, bool quick)
{
    if (!m->stopping || quick)
        log_event(LOGL_INFO, "shutdown", NULL, "%s shutdown",
                  quick ? "quick" : "graceful");
    if (!m->stopping)
        sdnotify("STOPPING=1");
    m->stopping = true;
    m->stop_deadline = clock_now_ns() +
                       (int64_t)((m->s->timeout + m->s->cleanup_timeout) *
                                 NS_PER_SEC);
    if (quick) {
        monitor_kill_all(m, SIGKILL);
        return;
    }
    monitor_send(m, &m->mold, CTL_STOP);
    if (m->next_mold.pid > 0)
        monitor_send(m, &m->next_mold, CTL_STOP);
    monitor_service_stop(m);
    for (int i = 0; i < m->hiwater; i++)
        monitor_tell_stop(m, &m->workers[i]);
}

/* TTIN / TTOU: one worker more or less. */
static void
monitor_scale(struct monitor *m, int delta)
{
    int n = m->nworkers + delta;

    if (n < 1 || n > SETTINGS_MAX_WORKERS) {
        log_warn("worker count stays %d (allowed: 1 to %d)", m->nworkers,
                 SETTINGS_MAX_WORKERS);
        return;
    }
    m->nworkers = n;
    if (n > m->hiwater)
        m->hiwater = n;
    if (delta < 0)
        monitor_tell_stop(m, &m->workers[n]);
    log_info("now %d workers", n);
    health_workers_changed(m);
    monitor_request_workers(m);
    monitor_status(m);
}

static void
monitor_signal(struct monitor *m, int sig)
{
    switch (sig) {
    case SIGCHLD:
        monitor_reap(m);
        break;
    case SIGINT:
        monitor_stop(m, true);
        break;
    case SIGTERM:
    case SIGQUIT:
        monitor_stop(m, false);
        break;
    case SIGHUP:
        if (!m->stopping)
            refork_reload(m);
        break;
    case SIGUSR2:
        if (!m->stopping)
            refork_manual(m);
        break;
    case SIGTTIN:
    case SIGTTOU:
        if (!m->stopping)
            monitor_scale(m, sig == SIGTTIN ? 1 : -1);
        break;
    default:
        log_info("ignoring signal %s", strsignal(sig));
    }
}

static void
monitor_signals_read(struct monitor *m)
{
    struct signalfd_siginfo si;
    ssize_t n;

    while ((n = read(m->sigfd, &si, sizeof(si))) == sizeof(si))
        monitor_signal(m, (int)si.ssi_signo);
    if (n < 0 && errno != EAGAIN)
        log_syswarn("read signalfd");
}

/* Log a worker past its soft timeout once per deadline; a worker that
 * timed out keeps its deadline in its slot until it is reaped. */
static void
monitor_soft_timeout(struct monitor *m, int nr, int64_t now)
{
    struct child *w = &m->workers[nr];
    int64_t dl = atomic_load(&m->slots[nr].deadline_ns);

    if (w->pid == 0 || atomic_load(&m->slots[nr].pid) != w->pid || dl <= 0 ||
        now <= dl || w->timeout_logged == dl)
        return;
    w->timeout_logged = dl;
    log_event_for(LOGL_WARN, "timeout", nr, w->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", w->pid)),
                  "worker %d pid %ld passed its timeout: it exits, or gets "
                  "SIGKILL %g s later",
                  nr, (long)w->pid, m->s->cleanup_timeout);
}

static void
monitor_hard_timeout(struct monitor *m, int nr, int64_t now)
{
    struct child *w = &m->workers[nr];
    int64_t dl = atomic_load(&m->slots[nr].deadline_ns);
    int64_t grace = (int64_t)(m->s->cleanup_timeout * NS_PER_SEC);

    monitor_soft_timeout(m, nr, now);
    /* Until a new worker writes its pid, the slot is its predecessor's. */
    if (w->pid == 0 || atomic_load(&m->slots[nr].pid) != w->pid ||
        w->killed || dl <= 0 || now <= dl + grace)
        return;
    log_event_for(LOGL_ERR, "kill", nr, w->generation,
                  LOG_FIELDS(LOG_INT("CHILD_PID", w->pid)),
                  "worker %d pid %ld passed timeout + cleanup: SIGKILL", nr,
                  (long)w->pid);
    monitor_kill(w, SIGKILL);
    w->killed = true;
    monitor_hooks_hard_timeout(m, nr, w);
}

/* Workers past timeout + cleanup and slow spawns get SIGKILL. */
static void
monitor_timeouts(struct monitor *m, int64_t now)
{
    int64_t spawn = (int64_t)(m->s->spawn_timeout * NS_PER_SEC);
    struct child *molds[] = {&m->mold, &m->next_mold};
    bool respawn = false;

    for (int i = 0; i < m->hiwater; i++) {
        struct child *w = &m->workers[i];
        monitor_hard_timeout(m, i, now);
        if (w->spawn_ns <= 0 || w->ready || now <= w->spawn_ns + spawn)
            continue;
        w->spawn_ns = 0;
        if (w->pid == 0 && i >= m->nworkers)
            continue; /* TTOU removed it; nobody waits for it */
        log_event_for(LOGL_ERR, "timeout", i,
                      w->pid ? w->generation : m->generation, NULL,
                      "worker %d not ready within spawn_timeout", i);
        monitor_kill(w, SIGKILL);
        monitor_count_spawn_error(m, false);
        respawn = true;
    }
    /* A spawn the mold never reported is asked for again (a reported
     * one is when the killed worker is reaped). */
    if (respawn)
        monitor_request_workers(m);
    if (refork_promotion_overdue(m, now)) {
        log_event_for(LOGL_ERR, "kill", -1, m->next_mold.generation, NULL,
                      "promoted worker pid %ld passed timeout + cleanup in "
                      "its last request: SIGKILL",
                      (long)m->next_mold.pid);
        monitor_kill(&m->next_mold, SIGKILL);
        m->next_mold.killed = true;
    }
    for (int i = 0; i < 2; i++) {
        struct child *c = molds[i];
        if (c->pid > 0 && !c->ready && !c->killed &&
            now > c->spawn_ns + spawn) {
            log_event_for(LOGL_ERR, "timeout", -1, c->generation, NULL,
                          "mold pid %ld not ready within spawn_timeout: "
                          "SIGKILL",
                          (long)c->pid);
            monitor_kill(c, SIGKILL);
            c->killed = true;
        }
    }
}

static bool
monitor_children_alive(const struct monitor *m)
{
    if (m->mold.pid > 0 || m->next_mold.pid > 0 || m->service.pid > 0)
        return true;
    for (int i = 0; i < m->hiwater; i++)
        if (m->workers[i].pid > 0)
            return true;
    return false;
}

static void
monitor_tick(struct monitor *m)
{
    int64_t now = clock_now_ns();

    monitor_timeouts(m, now);
    if (!m->stopping)
        refork_tick(m);
    monitor_service_tick(m, now);
    health_tick(m, now);
    if (m->stopping && now > m->stop_deadline) {
        log_warn("children still running after the stop timeout: SIGKILL");
        monitor_kill_all(m, SIGKILL);
        m->stop_deadline = now + NS_PER_SEC;
    }
    if (m->watchdog_ns > 0 && now >= m->watchdog_next) {
        sdnotify("WATCHDOG=1");
        m->watchdog_next = now + m->watchdog_ns / 2;
    }
}

static void
monitor_dispatch(struct monitor *m, const struct epoll_event *ev)
{
    uint32_t tag = (uint32_t)(ev->data.u64 >> 32);
    uint32_t nr = (uint32_t)ev->data.u64;

    if (tag == TAG_SIGNAL)
        monitor_signals_read(m);
    else if (tag == TAG_MOLD && m->mold.ctl_fd >= 0)
        monitor_mold_message(m, &m->mold);
    else if (tag == TAG_NEXT_MOLD && m->next_mold.ctl_fd >= 0)
        monitor_mold_message(m, &m->next_mold);
    else if (tag == TAG_SERVICE && m->service.ctl_fd >= 0)
        monitor_service_message(m);
    else if (tag == TAG_WORKER && nr < (uint32_t)m->hiwater &&
             m->workers[nr].ctl_fd >= 0)
        monitor_worker_message(m, (int)nr);
}

static int
monitor_loop(struct monitor *m)
{
    struct epoll_event ev[32];

    while (!m->stopping || monitor_children_alive(m)) {
        int n = epoll_wait(m->epfd, ev, 32, 100);
        if (n < 0 && errno != EINTR) {
            log_syserr("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++)
            monitor_dispatch(m, &ev[i]);
        monitor_tick(m);
    }
    log_event(LOGL_INFO, "exit", NULL, "monitor exiting with status %d",
              m->status);
    return m->status;
}

/* In a new mold: undo the monitor's signal setup and descriptors. */
static void
monitor_child_reset(struct monitor *m)
{
    sigset_t none;

    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        log_syswarn("sigprocmask in the mold");
    /* The monitor's own descriptors; nothing to report on failure. */
    (void)close(m->sigfd);
    (void)close(m->epfd);
    (void)close(m->mold.ctl_fd);
    (void)close(m->next_mold.ctl_fd);
    (void)close(m->service.ctl_fd);
    for (int i = 0; i < m->hiwater; i++)
        (void)close(m->workers[i].ctl_fd);
}

/* Fork a freshly booting mold into c (m->mold or m->next_mold). */
int
monitor_boot_mold(struct monitor *m, struct child *c)
{
    enum monitor_tag tag = c == &m->mold ? TAG_MOLD : TAG_NEXT_MOLD;
    unsigned gen = m->next_gen;
    int sp[2];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        log_syserr("socketpair for a mold");
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        log_syserr("fork a mold");
        (void)close(sp[0]); /* unused pair */
        (void)close(sp[1]);
        return -1;
    }
    if (pid == 0) {
        struct mold_args a = {m->s, m->ls, m->slots, sp[1], gen};
        monitor_child_reset(m);
        (void)close(sp[0]); /* the monitor's end */
        m->mold_main(&a);
        _exit(1); /* not reached: mold_main never returns */
    }
    (void)close(sp[1]); /* the mold's end */
    m->next_gen++;
    *c = no_child;
    c->pid = pid;
    c->ctl_fd = sp[0];
    c->generation = gen;
    c->spawn_ns = clock_now_ns();
    log_event_for(LOGL_INFO, "spawn", -1, gen, NULL,
                  "mold pid %ld (gen %u) booting", (long)pid, gen);
    if (monitor_epoll_add(m, sp[0], tag, 0) < 0)
        monitor_close_child(m, c);
    return 0;
}

static int
monitor_signals(struct monitor *m)
{
    static const int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGQUIT, SIGHUP,
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
    return monitor_epoll_add(m, m->sigfd, TAG_SIGNAL, 0);
}

int
monitor_run(const struct settings *s, struct listeners *ls,
            mold_main_fn mold_main)
{
    static struct monitor m;

    m = (struct monitor){.s = s, .ls = ls, .mold_main = mold_main,
                         .nworkers = s->workers,
                         .hiwater = s->workers};
    m.mold = m.next_mold = m.service = no_child;
    for (int i = 0; i < SETTINGS_MAX_WORKERS; i++)
        m.workers[i] = no_child;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        log_syswarn("prctl PR_SET_CHILD_SUBREAPER");
    m.slots = shm_create();
    m.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m.epfd < 0)
        log_syserr("epoll_create1");
    if (m.slots == NULL || m.epfd < 0 || monitor_signals(&m) < 0)
        return 1;
    m.watchdog_ns = (int64_t)sdnotify_watchdog_usec() * 1000;
    sdnotify("STATUS=booting the application");
    if (monitor_boot_mold(&m, &m.mold) < 0)
        return 1;
    return monitor_loop(&m);
}
