/*
 * The service's own cgroup limits, v1 or v2, and per-process memory
 * accounting (USS from smaps_rollup).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CGROUP_H
#define PITCHFORK_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#define CGROUP_UNLIMITED UINT64_MAX

struct cgroup_limits {
    int version;                   /* 1 or 2; 0 when no cgroup was found */
    uint64_t memory_max;           /* bytes or CGROUP_UNLIMITED */
    uint64_t memory_high;          /* bytes or CGROUP_UNLIMITED (v2 only) */
    uint64_t memory_current;       /* bytes, 0 when unknown */
    uint64_t memory_inactive_file; /* page cache the kernel reclaims
                                    * first (memory.stat), 0 when unknown */
    double cpus;                   /* quota / period, 0 when unlimited */
};

/*
 * Read the limits of the cgroup named in proc_cgroup (normally
 * "/proc/self/cgroup") under root (normally "/sys/fs/cgroup").  Missing
 * files mean "unlimited".  Returns 0, or -1 when proc_cgroup is
 * unreadable (logged).
 */
int cgroup_read(struct cgroup_limits *cg, const char *root,
                const char *proc_cgroup);

/*
 * The directory of the memory controller's cgroup named in proc_cgroup
 * under root: root/memory/PATH (v1) or root/PATH (v2).  Returns the
 * version, 1 or 2, or -1 when proc_cgroup names none; not logged.
 */
int cgroup_memory_dir(const char *root, const char *proc_cgroup, char *out,
                      size_t size);

/*
 * The monitor moved itself into the v2 cgroup leaf ("monitor") below the
 * service's: from now on a v2 path ending in it names the service's
 * cgroup, whose limits the readings above are about.
 */
void cgroup_set_leaf(const char *leaf);

/* memory_current less memory_inactive_file: what the processes hold,
 * not the page cache that would be reclaimed before any limit bites. */
uint64_t cgroup_working_set(const struct cgroup_limits *cg);

/* cgroup_read() with PITCHFORK_CGROUP_ROOT (default /sys/fs/cgroup). */
int cgroup_read_self(struct cgroup_limits *cg);

/* Workers by default: CPUs allowed by the quota and affinity, >= 1. */
int cgroup_default_workers(const struct cgroup_limits *cg);

/*
 * The "auto" worker memory cap: (limit - mold) / (workers + 1), or 0
 * (no cap) when the limit is CGROUP_UNLIMITED or not above the mold's
 * private memory, or workers < 1.
 */
uint64_t cgroup_worker_cap(uint64_t limit, uint64_t mold, int workers);

/* Resident (Rss) and private (Private_Clean + Private_Dirty) bytes of
 * pid from /proc/PID/smaps_rollup.  Returns 0, or -1 with errno when it
 * is unreadable (the process is gone); not logged. */
/* cgroup_process_memory() and the proportional set size (Pss) too. */
int cgroup_process_memory_pss(pid_t pid, uint64_t *rss, uint64_t *uss,
                              uint64_t *pss);

int cgroup_process_memory(pid_t pid, uint64_t *rss, uint64_t *uss);

/* Private memory (Private_Clean + Private_Dirty) of pid in bytes, or 0
 * when unreadable (the process is gone). */
uint64_t cgroup_private_memory(pid_t pid);

#endif
