/*
 * Counts that outlive a worker (monitor/tally.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/tally.h"

#include <stdatomic.h>

#include "monitor/state.h"

void
tally_retire(struct monitor *m, int nr)
{
    struct shm_slot *slot = &m->slots[nr];
    /* Exchanged: a promoted worker may still count its last request. */
    uint64_t n = atomic_exchange(&slot->requests, 0);

    m->requests_retired += n;
    m->counts.requests[nr] += n;
    for (int b = 0; b < LATENCY_BUCKETS; b++)
        m->counts.latency[b] += atomic_exchange(&slot->latency[b], 0);
    m->counts.latency_sum_ns += atomic_exchange(&slot->latency_sum_ns, 0);
}

bool
tally_slot_live(const struct monitor *m, int nr)
{
    pid_t pid = m->workers[nr].pid;

    return pid > 0 && atomic_load(&m->slots[nr].pid) == pid;
}

bool
tally_slot_counted(const struct monitor *m, int nr)
{
    return tally_slot_live(m, nr) ||
           (m->promoted_slot && m->promoted_nr == nr);
}
