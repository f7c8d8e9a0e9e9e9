/*
 * The configuration file's hooks, run in the Ruby processes (the mold,
 * the workers and the service worker) at the places upstream pitchfork
 * runs them; those upstream runs in its monitor run in the mold, told
 * over its control socket.  See man/pitchfork.conf.5 for where each one runs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_HOOKS_H
#define PITCHFORK_HOOKS_H

#include <ruby.h>
#include <stdbool.h>
#include <sys/types.h>

/* The hooks a configuration file may define.  Their names (hooks_name)
 * are the one list: Pitchfork::Configurator::HOOKS, the DSL's hook
 * methods, is built from them (ruby/config_dsl.c). */
enum hook {
    HOOK_AFTER_MONITOR_READY,
    HOOK_BEFORE_FORK,
    HOOK_AFTER_MOLD_FORK,
    HOOK_AFTER_WORKER_FORK,
    HOOK_AFTER_WORKER_READY,
    HOOK_AFTER_WORKER_TIMEOUT,
    HOOK_AFTER_WORKER_HARD_TIMEOUT,
    HOOK_BEFORE_WORKER_EXIT,
    HOOK_AFTER_WORKER_EXIT,
    HOOK_AFTER_REQUEST_COMPLETE,
    HOOK_BEFORE_SERVICE_WORKER_READY,
    HOOK_BEFORE_SERVICE_WORKER_EXIT,
    HOOK_MAX
};

/* The DSL name of hook h ("after_worker_fork"), or NULL when h is not a
 * hook. */
const char *hooks_name(enum hook h);

/* After the configuration file was loaded (in the mold): remember which
 * hooks it defines, so that undefined ones cost nothing. */
void hooks_load(void);

bool hooks_defined(enum hook h);

/*
 * Run hook h with (server, argv...) when the file defines it.  Returns 0
 * (ran, or not defined), 1 when the hook asked the process to exit
 * (SystemExit or a signal: *exit_status, which may be NULL, gets the
 * status), or -1 after logging any other exception with its backtrace
 * (through the configured logger when there is one).
 */
int hooks_run(enum hook h, int argc, const VALUE *argv, int *exit_status);

/* Log exc, a hook's exception, under context ("after_worker_timeout
 * hook error"), through the configured logger when there is one. */
void hooks_log_error(const char *context, VALUE exc);

/* A Pitchfork::Worker for the hooks (nr -1: a mold), pinned for the
 * life of the process when keep is true. */
VALUE hooks_worker(int nr, unsigned generation, pid_t pid, bool keep);

/* A Pitchfork::Service for the service worker's hooks (nr nil), pinned
 * for the life of the process; Qnil after logging on failure. */
VALUE hooks_service(unsigned generation, pid_t pid);

/* A Pitchfork::ExitStatus for after_worker_exit. */
VALUE hooks_exit_status(pid_t pid, int wait_status);

#endif
