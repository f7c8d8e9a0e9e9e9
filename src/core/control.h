/*
 * Messages between the monitor and its children over AF_UNIX
 * SOCK_SEQPACKET socket pairs, with file descriptors passed by
 * SCM_RIGHTS.  One message is one fixed-size struct ctl_msg.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CONTROL_H
#define PITCHFORK_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum ctl_type {
    CTL_SPAWN = 1,     /* monitor -> mold: fork worker nr (or the service
                        * worker: CTL_NR_SERVICE) */
    CTL_SPAWNED,       /* intermediate -> monitor: pid; fds [channel, pidfd] */
    CTL_READY,         /* child -> monitor: booted and serving/able to fork */
    CTL_STOP,          /* monitor -> child: finish the request and exit */
    CTL_PROMOTE,       /* monitor -> worker: become the next mold */
    CTL_BOOT_FAILED,   /* mold -> monitor: the app failed to load */
    CTL_WORKER_EXITED, /* monitor -> mold: worker nr (pid, generation)
                        * ended with wait status arg: after_worker_exit */
    CTL_HARD_TIMEOUT,  /* monitor -> mold: worker nr was SIGKILLed at
                        * timeout + cleanup: after_worker_hard_timeout */
    CTL_MONITOR_READY, /* monitor -> mold: every initial worker is
                        * ready: after_monitor_ready */
};

/* CTL_READY from a mold: arg has a bit for each hook it runs when the
 * monitor tells it, so that the monitor tells only what is heard; with
 * CTL_HOOK_SERVICE, the monitor keeps a service worker. */
#define CTL_HOOK_MONITOR_READY 0x1u /* after_monitor_ready */
#define CTL_HOOK_WORKER_EXITED 0x2u /* after_worker_exit */
#define CTL_HOOK_HARD_TIMEOUT 0x4u  /* after_worker_hard_timeout */
#define CTL_HOOK_SERVICE 0x8u       /* before_service_worker_ready */

/* The nr of CTL_SPAWN and CTL_SPAWNED for the service worker. */
#define CTL_NR_SERVICE (-2)

struct ctl_msg {
    uint32_t type; /* enum ctl_type */
    int32_t nr;    /* worker number, -1 for the mold,
                    * CTL_NR_SERVICE for the service worker */
    uint32_t generation;
    int32_t pid;
    uint64_t arg; /* message-specific */
};

#define CTL_MAX_FDS 4

/*
 * Send m with nfds descriptors (may be 0).  Retries on EINTR.  Returns
 * 0, or -1 with errno set.
 */
int control_send(int fd, const struct ctl_msg *m, const int *fds, size_t nfds);

/*
 * Receive one message.  Received descriptors are stored in fds (room for
 * CTL_MAX_FDS) and counted in *nfds, and are close-on-exec.  Returns 1
 * with a message, 0 on EOF (peer gone), -1 with errno set (EAGAIN on a
 * non-blocking socket without data).  Retries on EINTR.
 */
int control_recv(int fd, struct ctl_msg *m, int *fds, size_t *nfds);

/*
 * Receive one message that should carry no descriptors (the monitor sends
 * its children none): any that came are closed.  Returns as control_recv.
 */
int control_recv_bare(int fd, struct ctl_msg *m);

#endif
