/*
 * The shared worker table: one slot per worker, one for the mold and one
 * for the service worker, in an anonymous MAP_SHARED mapping created by
 * the monitor before its first fork, so every child writes its own slot
 * and the monitor reads them all.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_SHM_H
#define PITCHFORK_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/latency.h"
#include "core/settings.h"

enum shm_state {
    SHM_FREE = 0,
    SHM_BOOTING,  /* forked, not ready yet */
    SHM_IDLE,     /* waiting for a connection */
    SHM_BUSY,     /* serving a request */
    SHM_STOPPING, /* told to stop, finishing */
};

struct shm_slot {
    _Atomic int32_t pid;
    _Atomic uint32_t generation;
    _Atomic uint32_t state;       /* enum shm_state */
    _Atomic uint32_t fork_unsafe; /* no_longer_fork_safe! was called */
    _Atomic uint64_t requests;    /* requests served */
    _Atomic int64_t deadline_ns;  /* CLOCK_MONOTONIC; 0 = none */
    _Atomic uint64_t memory;      /* private bytes, last reading */
    _Atomic uint64_t pss;         /* proportional set size, last reading */
    _Atomic uint32_t listener;    /* index of the listener it accepted on */
    /* requests by duration (core/latency.h), the worker's alone to add */
    _Atomic uint64_t latency[LATENCY_BUCKETS];
    _Atomic uint64_t latency_sum_ns;
};

/* A slot for each worker number worker_processes allows (0 to
 * SETTINGS_MAX_WORKERS - 1), then the mold's and the service worker's. */
#define SHM_MAX_WORKERS SETTINGS_MAX_WORKERS
#define SHM_MOLD_SLOT SHM_MAX_WORKERS          /* index of the mold's slot */
#define SHM_SERVICE_SLOT (SHM_MAX_WORKERS + 1) /* the service worker's */
#define SHM_SLOTS (SHM_MAX_WORKERS + 2)

_Static_assert(SHM_MOLD_SLOT >= SETTINGS_MAX_WORKERS &&
                   SHM_SERVICE_SLOT >= SETTINGS_MAX_WORKERS &&
                   SHM_SERVICE_SLOT != SHM_MOLD_SLOT &&
                   SHM_SLOTS > SHM_SERVICE_SLOT && SHM_SLOTS > SHM_MOLD_SLOT,
               "every worker, the mold and the service worker have a "
               "slot of their own");

/* Map the table (SHM_SLOTS slots).  Returns NULL after logging. */
struct shm_slot *shm_create(void);

#endif
