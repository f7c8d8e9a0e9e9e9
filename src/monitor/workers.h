/*
 * The worker slots: asking the mold for missing workers, taking the
 * spawned ones, their readiness and their end, TTIN/TTOU, and the
 * timeouts of each worker (spawn_timeout, and timeout + cleanup_timeout
 * of a request).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_WORKERS_H
#define PITCHFORK_MONITOR_WORKERS_H

#include <stddef.h>
#include <stdint.h>

struct ctl_msg;
struct monitor;

/* Ask the current mold for the missing workers (a bounded number at a
 * time; each report asks for more), then for the service worker. */
void workers_request(struct monitor *m, int64_t now);

/* CTL_SPAWNED for worker msg->nr with its descriptors: take its control
 * socket (fds are closed, and the process killed, when the report is not
 * wanted). */
void workers_spawned(struct monitor *m, const struct ctl_msg *msg,
                     const int *fds, size_t nfds, int64_t now);

/* CTL_READY from worker nr. */
void workers_ready(struct monitor *m, int nr);

/* Worker nr ended with wait status st: its slot is freed and a new one
 * asked for. */
void workers_reaped(struct monitor *m, int nr, int st, int64_t now);

/* TTIN / TTOU: one worker more (delta 1) or less (-1). */
void workers_scale(struct monitor *m, int delta, int64_t now);

/* Every tick: a worker past its request's timeout is logged once, and
 * gets SIGKILL past timeout + cleanup_timeout; one not ready within
 * spawn_timeout gets SIGKILL and counts as a spawn error. */
void workers_tick(struct monitor *m, int64_t now);

#endif
