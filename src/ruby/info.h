/*
 * Pitchfork::Info, Pitchfork::Worker#requests_count and
 * Pitchfork::TimeoutHandler: what the app can ask about the process
 * serving it, read from (or moved in) this worker's slot of the shared
 * table.  The Ruby halves are in src/ruby/pitchfork.rb.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_INFO_H
#define PITCHFORK_INFO_H

#include <ruby.h>
#include <stdbool.h>

struct shm_slot;
struct worker;

/* Define the C methods of Pitchfork::Info, Pitchfork::Worker and
 * Pitchfork::TimeoutHandler (at boot).  Raises: call protected. */
void info_init(void);

/* In the mold after boot: the shared table (for live_workers_count) and
 * the configured worker count (Pitchfork::Info.workers_count). */
void info_boot(struct shm_slot *slots, int workers);

/* In the worker (called protected): remember w, create the objects the
 * app sees as env["pitchfork.worker"] and env["pitchfork.timeout"], start
 * the soft timeout's thread. */
void info_worker_start(struct worker *w, VALUE *worker_obj,
                       VALUE *timeout_obj);

/* The worker is done (exit or promotion): forget w, stop the soft
 * timeout's thread. */
void info_worker_done(void);

/* The soft timeout fired in this worker: it must exit after the request. */
bool info_timed_out(void);

/* The worker was told to stop (Pitchfork::Info.shutting_down?). */
void info_shutting_down(void);

#endif
