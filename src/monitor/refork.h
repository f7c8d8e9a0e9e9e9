/*
 * Reforking: when a warm worker of the current generation is promoted to
 * be the next mold, and which one.  The triggers: refork_after request
 * counts, USR2, the death of the mold, and the cgroup's memory nearing
 * its limit.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_REFORK_H
#define PITCHFORK_MONITOR_REFORK_H

#include <stdbool.h>
#include <stdint.h>

struct monitor;

/* USR2: promote the busiest eligible worker of the current generation. */
void refork_manual(struct monitor *m, int64_t now);

/* The mold died: promote the busiest worker when reforking is on.
 * Returns 0, or -1 when the caller must boot a fresh mold. */
int refork_replace_mold(struct monitor *m, int64_t now);

/* While the next mold is a promoted worker still serving its request,
 * hold its spawn_timeout clock (it starts once the request is done).
 * True when that request passed timeout + cleanup: kill it. */
bool refork_promotion_overdue(struct monitor *m, int64_t now);

/* The promoted worker's slot, kept while it became the next mold, goes
 * back to the workers (its requests counted, its flags cleared): the
 * next mold is ready, or failed. */
void refork_release_slot(struct monitor *m);

/* The next mold failed: no automatic refork for spawn_timeout. */
void refork_backoff(struct monitor *m, int64_t now);

/* Every tick while running: promote the first worker past its
 * generation's refork_after; while none can be, say why at debug level
 * once per reason and worker. */
void refork_tick(struct monitor *m, int64_t now);

/* Once a second while running: the cgroup's working set within 10% of
 * its limit triggers a refork (at most once per spawn_timeout). */
void refork_pressure(struct monitor *m, int64_t now);

#endif
