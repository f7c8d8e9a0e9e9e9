/*
 * One child of the monitor and the operations on it, the bottom layer of
 * the monitor: an empty entry, booting a mold into an entry, telling a
 * child a message, stopping, receiving, killing and closing.  Everything
 * goes through m->ops, so that the policy above runs unchanged against
 * the unit tests' recorders.  It also keeps the few pids reaped before
 * their spawn report arrived.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/children.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/log.h"
#include "monitor/state.h"

void
children_clear(struct child *c)
{
    *c = (struct child){.pid = 0, .ctl_fd = -1};
}

int
children_boot(struct monitor *m, struct child *c, int64_t now)
{
    enum monitor_tag tag = c == &m->mold ? TAG_MOLD : TAG_NEXT_MOLD;
    unsigned gen = m->next_gen;
    int fd = -1;
    pid_t pid = m->ops->fork_mold(m, gen, &fd);

    if (pid < 0)
        return -1;
    m->next_gen++;
    children_clear(c);
    c->pid = pid;
    c->ctl_fd = fd;
    c->generation = gen;
    c->spawn_ns = now;
    log_event_for(LOGL_INFO, "spawn", -1, gen, NULL,
                  "mold pid %ld (gen %u) booting", (long)pid, gen);
    if (m->ops->watch(m, fd, tag, 0) < 0)
        children_close(m, c);
    return 0;
}

void
children_tell(struct monitor *m, struct child *c, uint32_t type)
{
    struct ctl_msg msg = {type, -1, m->next_gen, 0, 0};

    if (c->pid <= 0)
        return; /* no such child, nothing to tell */
    if (c->ctl_fd < 0)
        log_warn("pid %ld has no control socket (message %u); sending "
                 "SIGTERM",
                 (long)c->pid, type);
    else if (m->ops->send(m, c->ctl_fd, &msg) == 0)
        return;
    else
        log_syswarn("tell pid %ld (message %u); sending SIGTERM", (long)c->pid,
                    type);
    children_kill(m, c, SIGTERM);
}

void
children_tell_stop(struct monitor *m, struct child *c)
{
    if (c->pid <= 0 || c->stopping)
        return;
    children_tell(m, c, CTL_STOP);
    c->stopping = true;
}

int
children_recv(struct monitor *m, struct child *c, struct ctl_msg *msg,
              int *fds, size_t *nfds)
{
    int rc = m->ops->recv(m, c->ctl_fd, msg, fds, nfds);

    if (rc < 0 && errno == EAGAIN)
        return 0;
    /* ECONNRESET: the child exited with our last message unread. */
    if (rc < 0 && errno != ECONNRESET)
        log_syswarn("read the control socket of pid %ld", (long)c->pid);
    if (rc <= 0)
        children_close(m, c);
    return rc > 0;
}

void
children_kill(struct monitor *m, struct child *c, int sig)
{
    if (c->pid > 0 && m->ops->kill(m, c->pid, sig) < 0 && errno != ESRCH)
        log_syswarn("kill pid %ld", (long)c->pid);
}

void
children_close(struct monitor *m, struct child *c)
{
    if (c->ctl_fd < 0)
        return;
    if (m->ops->close(m, c->ctl_fd) < 0)
        log_syswarn("close control socket of pid %ld", (long)c->pid);
    c->ctl_fd = -1;
}

void
children_close_fds(struct monitor *m, const int *fds, size_t nfds)
{
    for (size_t i = 0; i < nfds; i++)
        (void)m->ops->close(m, fds[i]); /* unused: nothing to report */
}

void
children_reaped_unknown(struct monitor *m, pid_t pid, int64_t now)
{
    struct reaped_pid *r = &m->reaped[m->reaped_next++ % REAPED_RING];

    r->pid = pid;
    r->at = now;
    log_debug("reaped process %ld (an orphan, or a child not reported yet)",
              (long)pid);
}

bool
children_was_reaped(const struct monitor *m, pid_t pid, int64_t now)
{
    int64_t ttl = (int64_t)(m->s->spawn_timeout * CLOCK_NS_PER_SEC);

    for (size_t i = 0; i < REAPED_RING; i++)
        if (m->reaped[i].pid == pid && now - m->reaped[i].at <= ttl)
            return true;
    return false;
}

struct log_field
children_describe_exit(int st, char *buf, size_t size)
{
    if (WIFEXITED(st)) {
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(st));
        return LOG_INT("EXIT_STATUS", WEXITSTATUS(st));
    }
    snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(st),
             strsignal(WTERMSIG(st)));
    return LOG_INT("EXIT_SIGNAL", WTERMSIG(st));
}
