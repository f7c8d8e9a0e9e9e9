/*
 * The request duration histogram of a worker's slot (core/latency.h):
 * a search over 15 bounds and two relaxed atomic additions per request,
 * no lock on the request path.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/latency.h"

#include <stdatomic.h>

#include "core/shm.h"

#define MS 1000000LL

const int64_t latency_bounds_ns[LATENCY_BUCKETS - 1] = {
    1 * MS,    5 * MS / 2, 5 * MS,     10 * MS,    25 * MS,
    50 * MS,   100 * MS,   250 * MS,   500 * MS,   1000 * MS,
    2500 * MS, 5000 * MS,  10000 * MS, 30000 * MS, 60000 * MS,
};

const char *const latency_bound_labels[LATENCY_BUCKETS] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5",   "1",      "2.5",   "5",    "10",    "30",   "60",  "+Inf",
};

int
latency_bucket(int64_t ns)
{
    int lo = 0, hi = LATENCY_BUCKETS - 1;

    /* The first bound >= ns, or the +Inf bucket. */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ns <= latency_bounds_ns[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void
latency_record(struct shm_slot *slot, int64_t ns)
{
    if (slot == NULL)
        return;
    if (ns < 0)
        ns = 0;
    atomic_fetch_add_explicit(&slot->latency[latency_bucket(ns)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&slot->latency_sum_ns, (uint64_t)ns,
                              memory_order_relaxed);
}
