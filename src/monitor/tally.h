/*
 * Counts that outlive a worker: what a retired worker's slot counted
 * (requests, request durations) is folded into the monitor's totals
 * before the slot goes to its successor, so that /metrics counters
 * never go back.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_TALLY_H
#define PITCHFORK_MONITOR_TALLY_H

#include <stdbool.h>

struct monitor;

/* Fold worker nr's slot counts into the totals: it exited, or it was
 * promoted to mold and its new mold is ready or failed (its last
 * request counted by then). */
void tally_retire(struct monitor *m, int nr);

/* Whether slot nr holds the counts of m->workers[nr], the worker the
 * monitor knows (not a predecessor's already folded, not a stranger's). */
bool tally_slot_live(const struct monitor *m, int nr);

/* Whether slot nr's requests and durations are not folded yet: a live
 * worker's, or a promoted worker's until its slot is released. */
bool tally_slot_counted(const struct monitor *m, int nr);

#endif
