/*
 * The hard memory cap of each worker: a child cgroup per worker of the
 * service's own (delegated) cgroup, with the kernel's memory limit, so
 * that a runaway request is OOM-killed in that worker alone.
 *
 * The monitor sets it up once, before its first fork (on cgroup v2 it
 * moves itself into the leaf "monitor", as no cgroup may hold processes
 * and enable controllers for its children at once); the state is then
 * inherited by every mold and worker.  The monitor makes "worker-N"
 * before it asks the mold for worker N; the worker enters it itself,
 * right after its fork and before it serves anything; a worker promoted
 * to mold leaves it for the monitor's cgroup.  The monitor reads the
 * cgroup's OOM-kill counter when it reaps the worker, then removes it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CGROUP_WORKER_H
#define PITCHFORK_CGROUP_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Set up per-worker cgroups with limit bytes each under the memory
 * cgroup of proc_cgroup (normally /proc/self/cgroup) under root
 * (normally /sys/fs/cgroup).  Returns 0, or -1 with why filled (a
 * sentence, for the boot warning) and per-worker cgroups off.
 */
int cgroup_worker_setup(const char *root, const char *proc_cgroup,
                        uint64_t limit, char *why, size_t whysz);

/* The cgroup version in use (1 or 2), or 0 when off. */
int cgroup_worker_version(void);

/* Make worker nr's cgroup (or keep the one there) with the limit.
 * Returns 0, or -1 with errno; not logged. */
int cgroup_worker_make(int nr);

/* In worker nr, just forked: enter its cgroup.  Returns 0, or -1 with
 * errno; not logged. */
int cgroup_worker_enter(int nr);

/* In a worker promoted to mold: go back to the monitor's cgroup, whose
 * limit is the service's.  Returns 0, or -1 with errno; not logged. */
int cgroup_worker_leave(void);

/* The OOM kills counted in worker nr's cgroup, in *kills.  Returns 0,
 * or -1 with errno; not logged. */
int cgroup_worker_oom_kills(int nr, uint64_t *kills);

/* Remove worker nr's cgroup (once its worker is reaped); a cgroup that
 * is already gone is fine.  Returns 0, or -1 with errno; not logged. */
int cgroup_worker_remove(int nr);

/* The value of the "oom_kill N" line of a memory.events (v2) or
 * memory.oom_control (v1) text, or 0 when there is none. */
uint64_t cgroup_worker_parse_oom_kill(const char *text);

/* The directory of worker nr's cgroup, for messages. */
void cgroup_worker_dir(int nr, char *buf, size_t size);

#endif
