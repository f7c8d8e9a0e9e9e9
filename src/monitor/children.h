/*
 * One child of the monitor (a mold, a worker or the service worker) and
 * the operations on it: boot, tell, stop, receive, kill, close.  They act
 * through the monitor's ops (monitor/state.h), never on the system
 * directly.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_CHILDREN_H
#define PITCHFORK_MONITOR_CHILDREN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/log.h"

struct child {
    pid_t pid;  /* 0: no process */
    int ctl_fd; /* -1: none */
    unsigned generation;
    bool ready;
    int64_t spawn_ns;       /* when asked for or forked; 0: not pending */
    bool killed;            /* SIGKILL sent */
    bool stopping;          /* CTL_STOP sent */
    bool promoting;         /* CTL_PROMOTE sent, not yet a mold */
    int64_t timeout_logged; /* the deadline whose soft timeout was logged */
    uint32_t hooks;         /* a mold's CTL_HOOK_* bits, from CTL_READY */
    uint64_t ready_seq;     /* a worker's place in the order of readiness */
};

struct ctl_msg;
struct monitor;

/* Make c an empty entry: no process, no control socket. */
void children_clear(struct child *c);

/* Fork a freshly booting mold into c (m->mold or m->next_mold) as
 * generation m->next_gen, at time now.  Returns 0, or -1 after logging
 * (c is unchanged). */
int children_boot(struct monitor *m, struct child *c, int64_t now);

/* Send c a bare message of type (generation m->next_gen).  A child that
 * cannot be told gets SIGTERM; no child, nothing happens. */
void children_tell(struct monitor *m, struct child *c, uint32_t type);

/* CTL_STOP to c, once: it finishes its request and exits. */
void children_tell_stop(struct monitor *m, struct child *c);

/* Read one message from c into msg, and the descriptors that came with
 * it into fds (CTL_MAX_FDS) and *nfds; the caller owns them.  Returns 1,
 * or 0 when there is none (after closing c's socket at its end). */
int children_recv(struct monitor *m, struct child *c, struct ctl_msg *msg,
                  int *fds, size_t *nfds);

/* Signal sig to c's process, when it has one; failures other than
 * "already gone" are logged. */
void children_kill(struct monitor *m, struct child *c, int sig);

/* Close c's control socket, if any. */
void children_close(struct monitor *m, struct child *c);

/* Close descriptors that nobody will use. */
void children_close_fds(struct monitor *m, const int *fds, size_t nfds);

/* Remember pid, reaped at now before anything knew it (an orphan, or a
 * child whose spawn report is still on its way). */
void children_reaped_unknown(struct monitor *m, pid_t pid, int64_t now);

/* True when pid was reaped before its spawn report arrived: within
 * spawn_timeout before now.  Later the pid may be another process's,
 * whose report is real. */
bool children_was_reaped(const struct monitor *m, pid_t pid, int64_t now);

/* Describe wait status st into buf ("exited with status 1", "killed by
 * signal 9 (Killed)") and return it as a journal field. */
struct log_field children_describe_exit(int st, char *buf, size_t size);

#endif
