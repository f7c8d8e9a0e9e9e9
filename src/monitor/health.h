/*
 * The fleet's health, seen from the monitor: worker memory caps
 * (worker_memory_max, or "auto" from the cgroup limit) and the STATUS=
 * line with the listen-queue depth.
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

/* Send STATUS= now (after an event; health_status_refresh() keeps it
 * current). */
void health_status(struct monitor *m);

/* Send STATUS= again when it changed (once a second). */
void health_status_refresh(struct monitor *m);

/* Every loop tick (about 100 ms): read one or a few workers' private
 * memory round-robin, and replace those over the cap after their
 * request. */
void health_tick(struct monitor *m);

#endif
