/*
 * A worker: waits on the listeners and its control socket, accepts one
 * connection, serves one request with the Rack app, closes, repeats.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_WORKER_H
#define PITCHFORK_WORKER_H

#include <ruby.h>
#include <stdint.h>
#include <sys/types.h>

struct listeners;
struct settings;
struct shm_slot;

struct worker {
    int nr; /* worker number, 0-based */
    unsigned generation;
    int ctl_fd; /* SEQPACKET to the monitor */
    const struct listeners *ls;
    const struct settings *settings;
    struct shm_slot *slot; /* this worker's shared slot */
    VALUE app;             /* the Rack app (GC-registered) */
    pid_t monitor_pid;     /* for PR_SET_PDEATHSIG */
    VALUE obj;             /* its Pitchfork::Worker (pinned) */
};

enum worker_result {
    WORKER_EXIT_OK,    /* graceful stop, monitor gone, or recycled */
    WORKER_EXIT_ERROR, /* unrecoverable error, logged */
    WORKER_PROMOTE,    /* told to become the next mold */
};

/*
 * Serve until told to stop.  Installs this process's signal handlers
 * (self-pipe), waits without the GVL, serves one request at a time and
 * keeps w->slot current.  Returns why it stopped; the caller exits or
 * turns the process into a mold.
 */
enum worker_result worker_run(struct worker *w);

#endif
