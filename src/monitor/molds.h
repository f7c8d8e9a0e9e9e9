/*
 * The monitor's molds: the current one, which forks the workers, and the
 * next one, booting after a reload (HUP) or a promoted worker; how each
 * becomes ready, fails, times out and ends.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_MOLDS_H
#define PITCHFORK_MONITOR_MOLDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct child;
struct monitor;

/* CTL_READY from mold c (m->mold or m->next_mold) with the CTL_HOOK_*
 * bits of the hooks it runs.  The next mold becomes the current one and
 * the rollout starts; the current mold is asked for its workers. */
void molds_ready(struct monitor *m, struct child *c, uint32_t hooks,
                 int64_t now);

/* The current mold ended with wait status st: a worker is promoted to
 * replace it, or a new one boots; one that never was ready stops the
 * server. */
void molds_reaped(struct monitor *m, int st, int64_t now);

/* The next mold ended with wait status st before it was ready. */
void molds_next_reaped(struct monitor *m, int st, int64_t now);

/* HUP: boot a brand-new next mold from the code on disk. */
void molds_reload(struct monitor *m, int64_t now);

/* Every tick: SIGKILL to a mold not ready within spawn_timeout, to a
 * promoted worker whose last request passed timeout + cleanup, and to a
 * retired mold (told to stop once the next one was ready) still running
 * timeout + cleanup after it was told. */
void molds_tick(struct monitor *m, int64_t now);

/* Process pid ended with wait status st: when it is a retired mold,
 * forget it after logging, and return true. */
bool molds_retired_reaped(struct monitor *m, pid_t pid, int st);

#endif
