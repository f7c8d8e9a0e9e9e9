/*
 * The monitor's side of the service worker (see service_supervisor.c):
 * one per current mold that asks for it, replaced when it dies, retired
 * with its mold, killed when its heartbeat stops.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_SERVICE_SUPERVISOR_H
#define PITCHFORK_MONITOR_SERVICE_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

struct ctl_msg;
struct monitor;

/* Ask the current mold for the service worker when it has one and none
 * runs or is asked for. */
void service_supervisor_request(struct monitor *m, int64_t now);

/* The current mold changed or died: forget a spawn asked from it. */
void service_supervisor_mold_changed(struct monitor *m);

/* CTL_SPAWNED for CTL_NR_SERVICE with its descriptors: take its control
 * socket (fds are closed when the report is not wanted). */
void service_supervisor_spawned(struct monitor *m, const struct ctl_msg *msg,
                                const int *fds, size_t nfds, int64_t now);

/* CTL_READY from the service worker. */
void service_supervisor_ready(struct monitor *m);

/* It ended with wait_status; a new one is asked for. */
void service_supervisor_reaped(struct monitor *m, int wait_status,
                               int64_t now);

/* Every tick: heartbeat and spawn timeouts, retire an outdated one, ask
 * for a missing one. */
void service_supervisor_tick(struct monitor *m, int64_t now);

#endif
