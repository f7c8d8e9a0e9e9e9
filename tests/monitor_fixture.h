/*
 * A fixture for the unit tests of the monitor's policy: a struct monitor
 * in a steady state (a ready mold of generation 0 and ready workers)
 * whose ops record what the policy does instead of doing it, and a
 * journal that records the log lines.  Time is whatever the test passes
 * in: no clock, no sleep, no process.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_TESTS_MONITOR_FIXTURE_H
#define PITCHFORK_TESTS_MONITOR_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/clock.h"
#include "core/control.h"
#include "core/settings.h"
#include "monitor/state.h"

#define FX_SEC CLOCK_NS_PER_SEC
#define FX_MS (CLOCK_NS_PER_SEC / 1000)
#define FX_T0 (1000 * FX_SEC) /* the fixture's "now" at the start */

/* What the policy did, in order. */
enum fx_kind {
    FX_SEND,
    FX_KILL,
    FX_CLOSE,
    FX_WATCH,
    FX_FORK,
    FX_NOTIFY,
    FX_LOG,
    FX_CGROUP_MAKE,  /* nr: the worker */
    FX_CGROUP_REMOVE /* nr: the worker */
};

struct fx_event {
    enum fx_kind kind;
    int fd;               /* SEND, CLOSE, WATCH; FORK: the new socket */
    pid_t pid;            /* KILL; FORK: the new mold */
    int sig;              /* KILL */
    struct ctl_msg msg;   /* SEND */
    enum monitor_tag tag; /* WATCH */
    uint32_t nr;          /* WATCH, CGROUP_MAKE, CGROUP_REMOVE */
    char text[256];       /* NOTIFY: the state line; LOG: the message */
    char event[32];       /* LOG: PITCHFORK_EVENT, or "" */
};

/* The settings the fixture's monitor uses: the defaults, with the
 * worker memory cap off; a test changes them after fx_init(). */
extern struct settings fx_settings;

/* The OOM kills each worker's cgroup reports (0 at fx_init()). */
extern uint64_t fx_oom_kills[SETTINGS_MAX_WORKERS];

/* When not 0, every send fails with this errno (and is not recorded). */
extern int fx_send_errno;

/* A fresh monitor: mold pid FX_MOLD_PID of generation 0, ready, with
 * nworkers ready workers of generation 0 (each pid and control socket
 * from fx_worker_up()), the first READY=1 sent, next_gen 1.  No event is
 * recorded yet. */
struct monitor *fx_init(int nworkers);

/* Put a freshly spawned, ready worker of generation gen in slot nr (its
 * pid also in the shared slot, as the worker writes it).  Each call
 * gives a new pid that no process can have, and a new descriptor
 * number that is never open. */
struct child *fx_worker_up(struct monitor *m, int nr, unsigned gen);

/* A new pid that no process can have, and a new descriptor number that
 * is never open: for spawn reports. */
pid_t fx_new_pid(void);
int fx_new_fd(void);

/* The mold's pid in fx_init(); forked molds get the next ones. */
#define FX_MOLD_PID 4500000

/* Forget the events recorded so far. */
void fx_clear(void);

/* The events recorded since fx_init() or fx_clear(). */
int fx_count(enum fx_kind kind);
const struct fx_event *fx_event(int i);
int fx_nevents(void);

/* Messages of type sent on fd (-1: on any socket). */
int fx_sent(int fd, uint32_t type);
/* The last message of type sent on any socket, or NULL. */
const struct fx_event *fx_last_sent(uint32_t type);
/* Signals sig sent to pid. */
int fx_killed(pid_t pid, int sig);
/* Times systemd was told state. */
int fx_notified(const char *state);
/* Log lines of event (NULL: any) whose message contains text. */
int fx_logged(const char *event, const char *text);

/* The mold answers each worker spawn request recorded from event *seen
 * on: the worker is reported (workers_spawned) and ready at once.
 * *seen moves past the events looked at. */
void fx_answer_spawns(struct monitor *m, int *seen, int64_t now);

/* Every wanted worker told to stop exits 0 and is reaped. */
void fx_reap_stopping(struct monitor *m, int64_t now);

/* Wanted workers not up (no process, not ready, or stopping). */
int fx_down(const struct monitor *m);
/* Wanted workers told to stop. */
int fx_stopping(const struct monitor *m);
/* Wanted workers that run generation gen. */
int fx_of_gen(const struct monitor *m, unsigned gen);

/* The wait status of a process that exited with status code. */
int fx_exited(int code);
/* The wait status of a process killed by signal sig. */
int fx_signaled(int sig);

#endif
