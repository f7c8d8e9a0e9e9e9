/*
 * The monitor's health duties besides supervision: worker memory caps
 * (PITCHFORK_WORKER_MEMORY_MAX), a refork when the cgroup nears its
 * memory limit, the STATUS= line with the listen-queue depth, and the
 * RELOADING=1 ... READY=1 and EXTEND_TIMEOUT_USEC= notifications.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_HEALTH_H
#define PITCHFORK_HEALTH_H

#include <stdint.h>

struct monitor;
struct child;

/* A mold reported ready: the first one, and the one a reload booted,
 * derive an "auto" cap (logged when it changes). */
void health_mold_ready(struct monitor *m, const struct child *mold);

/* TTIN / TTOU changed the wanted worker count: derive an "auto" cap
 * again. */
void health_workers_changed(struct monitor *m);

/* Send STATUS= now (after an event; health_tick() refreshes it). */
void health_status(struct monitor *m);

/* Every loop tick (about 100 ms): read one or a few workers' private
 * memory round-robin and recycle those over the cap; once a second,
 * refresh STATUS=, check the cgroup's memory pressure and extend
 * systemd's timeout during a slow boot, reload or refork. */
void health_tick(struct monitor *m, int64_t now);

#endif
