/*
 * The request duration histogram a worker keeps in its shared slot, and
 * the bucket bounds the monitor's /metrics prints: per-bucket counters
 * (not cumulative) and a sum in nanoseconds, written with relaxed atomics
 * by the slot's worker alone and summed by the monitor.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_LATENCY_H
#define PITCHFORK_LATENCY_H

#include <stdint.h>

/* 15 finite bounds (1 ms to 60 s) and +Inf. */
#define LATENCY_BUCKETS 16

/* The upper bound of each finite bucket in nanoseconds, and as the "le"
 * label Prometheus shows ("0.001" ... "60"; "+Inf" for the last). */
extern const int64_t latency_bounds_ns[LATENCY_BUCKETS - 1];
extern const char *const latency_bound_labels[LATENCY_BUCKETS];

/* The bucket of a duration of ns nanoseconds (negative counts as 0). */
int latency_bucket(int64_t ns);

struct shm_slot;

/* Count one request of ns nanoseconds in slot (NULL: nothing). */
void latency_record(struct shm_slot *slot, int64_t ns);

#endif
