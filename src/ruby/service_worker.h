/*
 * The service worker: one extra process forked by the mold like a
 * worker, that serves no requests and is never promoted.  It runs the
 * configuration file's before_service_worker_ready hook (which starts the
 * app's background threads), then keeps its deadline fresh in its slot of
 * the shared table until the monitor tells it to stop, and runs
 * before_service_worker_exit on the way out.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_SERVICE_WORKER_H
#define PITCHFORK_SERVICE_WORKER_H

#include <sys/types.h>

struct listeners;
struct settings;
struct shm_slot;

struct service_worker {
    unsigned generation;
    int ctl_fd;           /* SEQPACKET to the monitor */
    struct listeners *ls; /* closed: it never accepts */
    const struct settings *settings;
    struct shm_slot *slot; /* the SHM_SERVICE_SLOT */
    pid_t monitor_pid;     /* for PR_SET_PDEATHSIG */
};

/*
 * In the service worker, right after the fork: run
 * before_service_worker_ready, report ready, wait (heartbeat every
 * timeout / 2) for CTL_STOP, the monitor's end, TERM or QUIT, then run
 * before_service_worker_exit.  Returns the exit status: 0 after a stop,
 * 1 (or the hook's exit status) when the ready hook failed or exited.
 */
int service_worker_run(struct service_worker *sv);

#endif
