/*
 * Every child of the monitor at once: the graceful or quick shutdown,
 * signals to all, the consecutive spawn errors that make the monitor give
 * up, and counts over the workers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_FLEET_H
#define PITCHFORK_MONITOR_FLEET_H

#include <stdbool.h>
#include <stdint.h>

struct monitor;

/* Wanted workers that run and reported ready. */
int fleet_ready_count(const struct monitor *m);

/* True while any child runs. */
bool fleet_alive(const struct monitor *m);

/* Send sig to every child. */
void fleet_kill_all(struct monitor *m, int sig);

/* Shut down at time now: quick kills every child, graceful lets each
 * finish its request; either way children still running at timeout +
 * cleanup_timeout get SIGKILL (fleet_tick). */
void fleet_stop(struct monitor *m, bool quick, int64_t now);

/* A child ended or timed out; was_ready false makes it one more
 * consecutive spawn error, and max_consecutive_spawn_errors of them stop
 * the server with exit status 1. */
void fleet_spawn_error(struct monitor *m, bool was_ready, int64_t now);

/* A child reported ready: the spawn errors are no longer consecutive. */
void fleet_spawn_ok(struct monitor *m);

/* Every tick while stopping: SIGKILL to children past the stop
 * deadline, again every second. */
void fleet_tick(struct monitor *m, int64_t now);

#endif
