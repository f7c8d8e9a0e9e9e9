/*
 * The rollout and what systemd is told about it, in one place: READY=1
 * once every initial worker is ready, RELOADING=1 ... READY=1 around
 * each reload (HUP) and refork, EXTEND_TIMEOUT_USEC= while one is
 * pending; and the replacement of workers older than the current mold,
 * at most refork_max_unavailable at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_ROLLOUT_H
#define PITCHFORK_MONITOR_ROLLOUT_H

#include <stdint.h>

struct monitor;

/* A worker reported ready: READY=1 (and after_monitor_ready) once every
 * initial worker is. */
void rollout_worker_ready(struct monitor *m);

/* HUP: a reload starts (RELOADING=1). */
void rollout_reload_begin(struct monitor *m);

/* The next mold became the current one: workers older than it are to be
 * replaced. */
void rollout_begin(struct monitor *m);

/* The next mold died or timed out before it was ready (how says which):
 * the current generation keeps serving, and a reload is over (READY=1). */
void rollout_abort(struct monitor *m, const char *how);

/* Every tick while running: tell older workers to stop, keeping at most
 * refork_max_unavailable workers down, and READY=1 once a reload is
 * rolled out. */
void rollout_tick(struct monitor *m);

/* Every tick: RELOADING=1 when a refork starts, READY=1 once it is
 * rolled out. */
void rollout_refork_tick(struct monitor *m);

/* Once a second: while the first boot, a reload or a refork is pending,
 * extend systemd's start or reload timeout to the latest spawn deadline
 * pitchfork itself allows. */
void rollout_extend_timeout(struct monitor *m, int64_t now);

#endif
