/*
 * State shared by the monitor's files: monitor.c (loop, signals, reaping,
 * spawning), refork.c (promotion, reload and rollout policy),
 * monitor_hooks.c and monitor_service.c (the service worker).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_INTERNAL_H
#define PITCHFORK_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/log.h"
#include "core/mold_boot.h"
#include "core/settings.h"
#include "core/shm.h"

#define NS_PER_SEC 1000000000LL
#define REAPED_RING 64

/* epoll tags: the high 32 bits of data.u64, the low 32 a worker number */
enum monitor_tag {
    TAG_SIGNAL,
    TAG_MOLD,
    TAG_NEXT_MOLD,
    TAG_WORKER,
    TAG_SERVICE
};

struct child {
    pid_t pid;             /* 0: no process */
    int ctl_fd;            /* -1: none */
    unsigned generation;
    bool ready;
    int64_t spawn_ns;      /* when asked for or forked; 0: not pending */
    bool killed;           /* SIGKILL sent */
    bool stopping;         /* CTL_STOP sent */
    bool promoting;        /* CTL_PROMOTE sent, not yet a mold */
    int64_t timeout_logged; /* the deadline whose soft timeout was logged */
    uint32_t hooks;        /* a mold's CTL_HOOK_* bits, from CTL_READY */
};

struct ctl_msg;
struct listeners;

struct monitor {
    const struct settings *s;
    struct listeners *ls;
    mold_main_fn mold_main;  /* runs in each new mold (main.c's choice) */
    struct shm_slot *slots;
    int epfd, sigfd;
    struct child mold;       /* the current mold */
    struct child next_mold;  /* booting (reload) or promoted worker */
    struct child workers[SETTINGS_MAX_WORKERS];
    struct child service;    /* the service worker, when the mold has one */
    int nworkers;            /* wanted */
    int hiwater;             /* highest worker count ever wanted */
    unsigned generation;     /* of the current mold */
    unsigned next_gen;       /* for the next mold */
    unsigned rollout_gen;    /* workers older than this are replaced */
    bool reloading;          /* a HUP reload is in progress */
    bool stopping;
    bool announced_ready;
    int spawn_errors;        /* consecutive */
    int64_t stop_deadline;
    int64_t watchdog_ns, watchdog_next;
    int64_t refork_not_before; /* backoff after a failed refork */
    int promoted_nr;         /* slot of next_mold while it is promoting */
    pid_t reaped[REAPED_RING]; /* unknown pids reaped, for late reports */
    size_t reaped_next;
    int status;              /* exit status */
    uint64_t requests_retired; /* served by workers no longer in a slot */
};

/* monitor.c */
int monitor_epoll_add(struct monitor *m, int fd, enum monitor_tag tag,
                      uint32_t nr);
int monitor_epoll_retag(struct monitor *m, int fd, enum monitor_tag tag,
                        uint32_t nr);
void monitor_close_child(struct monitor *m, struct child *c);
void monitor_request_workers(struct monitor *m);
void monitor_status(struct monitor *m);
int monitor_ready_count(const struct monitor *m);
void monitor_send(struct monitor *m, struct child *c, uint32_t type);
/* CTL_STOP to c, once: it finishes its request and exits. */
void monitor_tell_stop(struct monitor *m, struct child *c);
int monitor_boot_mold(struct monitor *m, struct child *c);
/* A pid reaped before its spawn report arrived. */
bool monitor_was_reaped(struct monitor *m, pid_t pid);
void monitor_close_fds(int *fds, size_t nfds);
/* Read one message from c; returns 1, or 0 after closing c on EOF. */
int monitor_recv(struct monitor *m, struct child *c, struct ctl_msg *msg,
                 int *fds, size_t *nfds);
/* Describe a wait status for a message and a journal field. */
struct log_field monitor_describe_exit(int st, char *buf, size_t size);
/* A child that was never ready ended: one more consecutive spawn error
 * (the monitor stops at max_consecutive_spawn_errors). */
void monitor_count_spawn_error(struct monitor *m, bool was_ready);

/* refork.c */
/* Promote worker nr to be the next mold (it finishes its request first). */
int refork_promote(struct monitor *m, int nr, const char *why);
/* USR2: promote the busiest eligible worker of the current generation. */
void refork_manual(struct monitor *m);
/* While the next mold is a promoted worker still serving its request,
 * hold its spawn_timeout clock (it starts once the request is done).
 * True when that request passed timeout + cleanup: kill it. */
bool refork_promotion_overdue(struct monitor *m, int64_t now);
/* The mold died: promote the busiest worker when reforking is on.
 * Returns 0, or -1 when the caller must boot a fresh mold. */
int refork_replace_mold(struct monitor *m);
/* HUP: boot a brand-new mold from the code on disk. */
void refork_reload(struct monitor *m);
/* The next mold reported ready: make it current and start the rollout. */
void refork_mold_ready(struct monitor *m);
/* The next mold died or timed out before it was ready. */
void refork_failed(struct monitor *m, const char *how);
/* Periodic: automatic refork_after promotions and rollout progress. */
void refork_tick(struct monitor *m);

/* monitor_service.c: the service worker (see that file). */
/* Ask the current mold for the service worker when it has one and none
 * runs or is asked for. */
void monitor_service_request(struct monitor *m);
/* The current mold changed or died: forget a spawn asked from it. */
void monitor_service_mold_changed(struct monitor *m);
/* CTL_SPAWNED for CTL_NR_SERVICE: take its control socket. */
void monitor_service_spawned(struct monitor *m, const struct ctl_msg *msg,
                             int *fds, size_t nfds);
/* A message on its control socket (CTL_READY). */
void monitor_service_message(struct monitor *m);
void monitor_service_reaped(struct monitor *m, int wait_status);
/* Graceful stop: CTL_STOP (before_service_worker_exit runs). */
void monitor_service_stop(struct monitor *m);
/* Every tick: heartbeat and spawn timeouts, retire an outdated one,
 * ask for a missing one. */
void monitor_service_tick(struct monitor *m, int64_t now);

/* monitor_hooks.c: tell the mold, for the hooks upstream runs in its
 * monitor.  w is the worker's entry before it is cleared. */
void monitor_hooks_ready(struct monitor *m);
void monitor_hooks_worker_exited(struct monitor *m, int nr,
                                 const struct child *w, int wait_status);
void monitor_hooks_hard_timeout(struct monitor *m, int nr,
                                const struct child *w);

#endif
