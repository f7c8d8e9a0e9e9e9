/*
 * What the monitor hands a new mold: the arguments of its entry point.
 * The monitor never links Ruby, so main.c passes the entry point
 * (ruby/mold.c's mold_main) to monitor_run() as a mold_main_fn.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MOLD_BOOT_H
#define PITCHFORK_MOLD_BOOT_H

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
 * Runs in a fresh child of the monitor.  Boots Ruby, loads the app and
 * serves spawn requests; in forked workers it runs the worker.  Never
 * returns: exits 0 on a requested stop, 1 on a boot failure.
 */
typedef void (*mold_main_fn)(const struct mold_args *a);

#endif
