/*
 * The operations the monitor's modules act through, on the real system:
 * control messages over the children's sockets, kill(2), the loop's
 * epoll set, forking a mold, sd_notify and the workers' cgroups.  The unit
 * tests replace this table with recorders; nothing else in src/monitor makes
 * these calls.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/system_ops.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cgroup_worker.h"
#include "core/control.h"
#include "core/fdlimit.h"
#include "core/log.h"
#include "core/log_output.h"
#include "core/sdnotify.h"

static int
system_ops_send(struct monitor *m, int fd, const struct ctl_msg *msg)
{
    (void)m;
    return control_send(fd, msg, NULL, 0);
}

static int
system_ops_recv(struct monitor *m, int fd, struct ctl_msg *msg, int *fds,
                size_t *nfds)
{
    (void)m;
    return control_recv(fd, msg, fds, nfds);
}

static int
system_ops_kill(struct monitor *m, pid_t pid, int sig)
{
    (void)m;
    return kill(pid, sig);
}

static int
system_ops_close(struct monitor *m, int fd)
{
    (void)m;
    return close(fd);
}

/* EPOLL_CTL_ADD for a new socket, EPOLL_CTL_MOD for one that changes
 * role (a promoted worker, the next mold becoming current). */
static int
system_ops_watch(struct monitor *m, int fd, enum monitor_tag tag, uint32_t nr)
{
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = ((uint64_t)tag << 32) | nr};

    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    if (errno != EEXIST) {
        log_syserr("epoll_ctl ADD fd %d", fd);
        return -1;
    }
    if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
        log_syserr("epoll_ctl MOD fd %d", fd);
        return -1;
    }
    return 0;
}

/*
 * In a new mold: die with the monitor.  A booting mold reads its control
 * socket only once the application is loaded, which may take long: it
 * would not notice the monitor's death before.  SIGKILL, because Ruby
 * owns SIGTERM while it boots and the mold has no request to finish.
 * The signal is not inherited by the mold's forks; a promoted mold is a
 * worker, which sets its own (worker.c).  MONITOR is the monitor's pid:
 * when it died before the prctl, no signal would come.
 */
static void
system_ops_child_pdeath(pid_t monitor)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        log_syswarn("prctl PR_SET_PDEATHSIG in the mold");
    else if (getppid() != monitor)
        _exit(1);
}

/* In a new mold: undo the monitor's signal setup and descriptors. */
static void
system_ops_child_reset(struct monitor *m)
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
    sdnotify_forget();
    /* A child's log writes may block: they block only that child. */
    (void)log_output_nonblocking(false);
    for (int i = 0; i < 1 + MONITOR_METRICS_CONNS; i++)
        if (m->metrics_fds[i] >= 0)
            (void)close(m->metrics_fds[i]);
    fdlimit_restore(); /* the application gets the limit it was given */
}

/*
 * The monitor moves into the working directory anew with each mold it
 * boots, so that it does not keep an old release's directory alive
 * after a deploy switched the symlink.  A failure is the new mold's to
 * report: it enters the directory itself and exits if it cannot.
 */
static void
system_ops_follow_workdir(struct monitor *m)
{
    if (m->s->working_directory != NULL && chdir(m->s->working_directory) < 0)
        log_debug("working_directory %s: chdir in the monitor: %s",
                  m->s->working_directory, strerror(errno));
}

static pid_t
system_ops_fork_mold(struct monitor *m, unsigned gen, int *ctl_fd)
{
    int sp[2];
    pid_t pid, monitor = getpid();

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        log_syserr("socketpair for a mold");
        return -1;
    }
    system_ops_follow_workdir(m);
    /* So that the child does not write our buffered output again; a
     * failure to flush loses only those log lines. */
    (void)fflush(NULL);
    pid = fork();
    if (pid < 0) {
        log_syserr("fork a mold");
        (void)close(sp[0]); /* unused pair */
        (void)close(sp[1]);
        return -1;
    }
    if (pid == 0) {
        struct mold_args a = {m->s, m->ls, m->slots, sp[1], gen};
        system_ops_child_pdeath(monitor);
        system_ops_child_reset(m);
        (void)close(sp[0]); /* the monitor's end */
        m->mold_main(&a);
        _exit(1); /* not reached: mold_main never returns */
    }
    (void)close(sp[1]); /* the mold's end */
    *ctl_fd = sp[0];
    return pid;
}

/* RELOADING=1 goes with the MONOTONIC_USEC= that systemd 253 wants,
 * which sdnotify_reloading() adds. */
static void
system_ops_notify(struct monitor *m, const char *state)
{
    (void)m;
    if (strcmp(state, "RELOADING=1") == 0)
        sdnotify_reloading();
    else
        sdnotify("%s", state);
}

static int
system_ops_cgroup_make(struct monitor *m, int nr)
{
    (void)m;
    return cgroup_worker_make(nr);
}

static int
system_ops_cgroup_oom_kills(struct monitor *m, int nr, uint64_t *kills)
{
    (void)m;
    return cgroup_worker_oom_kills(nr, kills);
}

static int
system_ops_cgroup_remove(struct monitor *m, int nr)
{
    (void)m;
    return cgroup_worker_remove(nr);
}

const struct monitor_ops system_ops = {
    .send = system_ops_send,
    .recv = system_ops_recv,
    .kill = system_ops_kill,
    .close = system_ops_close,
    .watch = system_ops_watch,
    .fork_mold = system_ops_fork_mold,
    .notify = system_ops_notify,
    .cgroup_make = system_ops_cgroup_make,
    .cgroup_oom_kills = system_ops_cgroup_oom_kills,
    .cgroup_remove = system_ops_cgroup_remove,
};
