/*
 * worker_memory_hard_max, seen from the monitor: each worker's cgroup
 * made before the mold is asked for it, and at its reaping the kernel's
 * OOM kill recognised, logged (PITCHFORK_EVENT=oom), counted and the
 * cgroup removed.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_HARD_CAP_H
#define PITCHFORK_MONITOR_HARD_CAP_H

#include <stdbool.h>
#include <stdint.h>

struct child;
struct monitor;

/* Before the mold is asked for worker nr: make its cgroup and note its
 * OOM-kill counter.  A failure is logged; the worker then runs with
 * the soft cap alone. */
void hard_cap_prepare(struct monitor *m, int nr);

/*
 * Worker nr (w, not cleared yet) was reaped with wait status st.
 * Returns true when the kernel killed it at its limit: then logged as
 * PITCHFORK_EVENT=oom and counted in m->oom_kills.  Its cgroup is
 * removed either way.
 */
bool hard_cap_reaped(struct monitor *m, int nr, const struct child *w, int st);

/* True when the counter moved from before to after: an OOM kill. */
bool hard_cap_oom(uint64_t before, uint64_t after);

#endif
