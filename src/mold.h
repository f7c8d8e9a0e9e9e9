/*
 * The mold: boots Ruby and the app once, then forks workers on the
 * monitor's request with a double fork so that each worker is reparented
 * to the monitor.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MOLD_H
#define PITCHFORK_MOLD_H

struct listeners;
struct settings;
struct shm_slot;

struct mold_args {
    const struct settings *settings;
    struct listeners *ls;   /* this process's copy: the service worker
                             * closes them */
    struct shm_slot *slots; /* the shared table, SHM_SLOTS */
    int ctl_fd;             /* SEQPACKET to the monitor */
    unsigned generation;
};

/*
 * Called in a fresh child of the monitor.  Boots Ruby, loads the app and
 * serves spawn requests; in forked workers it runs the worker.  Never
 * returns: exits 0 on a requested stop, 1 on a boot failure.
 */
void mold_main(const struct mold_args *a) __attribute__((noreturn));

#endif
