/*
 * The monitor's state, shared by its modules, and the operations through
 * which they act on the system.
 *
 * The modules, from the bottom up (each calls only those below it):
 * tally.c (counts that outlive a worker), children.c (one child: boot,
 * tell, stop, receive, kill), fleet.c (every
 * child: shutdown, spawn errors), mold_hooks.c (hook messages to the
 * mold), hard_cap.c (the workers' cgroups and OOM kills), health.c
 * (STATUS=, memory caps), rollout.c (RELOADING=1, READY=1, replacing older
 * workers), service_supervisor.c (the service worker), workers.c (the
 * worker slots and their timeouts), refork.c (promotions), molds.c (the
 * current and the next mold), idle.c (the stop after idle_timeout),
 * metrics_text.c and metrics.c (the Prometheus endpoint), and monitor.c,
 * the loop on top.  Below the loop, none reads the clock (the loop passes
 * the time in) or acts on a process, a socket or systemd directly: they go
 * through m->ops, which is system_ops.c in the server and recorders in the
 * unit tests.  (They do read the cgroup files, /proc and socket queue
 * lengths; and metrics.c, a part of the loop's own I/O, serves its sockets
 * itself, non-blocking, in the loop's epoll set.)
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_STATE_H
#define PITCHFORK_MONITOR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/latency.h"
#include "core/mold_boot.h"
#include "core/settings.h"
#include "core/shm.h"
#include "monitor/children.h"

#define REAPED_RING 64
#define RETIRED_MOLDS 4
#define MONITOR_METRICS_CONNS 4 /* scrapes answered at once */

/* epoll tags: the high 32 bits of data.u64, the low 32 a worker number */
enum monitor_tag {
    TAG_SIGNAL,
    TAG_MOLD,
    TAG_NEXT_MOLD,
    TAG_WORKER,
    TAG_SERVICE,
    TAG_METRICS /* metrics.c: nr 0 the listener, 1.. its connections */
};

struct ctl_msg;
struct listeners;
struct monitor;

/*
 * What the monitor does to the world.  Each returns 0, or -1 with errno
 * set and nothing logged, unless it says otherwise.
 */
struct monitor_ops {
    /* Send msg (no descriptors) on the control socket fd. */
    int (*send)(struct monitor *m, int fd, const struct ctl_msg *msg);
    /* Receive one message from fd as control_recv(): 1, 0 on EOF, -1. */
    int (*recv)(struct monitor *m, int fd, struct ctl_msg *msg, int *fds,
                size_t *nfds);
    /* Send signal sig to process pid. */
    int (*kill)(struct monitor *m, pid_t pid, int sig);
    /* Close descriptor fd (a control socket leaves the epoll set). */
    int (*close)(struct monitor *m, int fd);
    /* Deliver fd's messages under tag and nr from now on, whether fd is
     * new to the loop or moves from another tag.  Logs failures. */
    int (*watch)(struct monitor *m, int fd, enum monitor_tag tag, uint32_t nr);
    /* Fork a mold of generation gen running m->mold_main.  Returns its
     * pid with the monitor's end of its control socket in *ctl_fd, or -1
     * after logging. */
    pid_t (*fork_mold)(struct monitor *m, unsigned gen, int *ctl_fd);
    /* Tell systemd one state line ("READY=1", "STATUS=...").  Failures
     * are logged once. */
    void (*notify)(struct monitor *m, const char *state);
    /* worker_memory_hard_max: make worker nr's cgroup with the limit,
     * before the mold is asked for it (core/cgroup_worker.h). */
    int (*cgroup_make)(struct monitor *m, int nr);
    /* The OOM kills counted so far in worker nr's cgroup, in *kills. */
    int (*cgroup_oom_kills)(struct monitor *m, int nr, uint64_t *kills);
    /* Remove worker nr's cgroup, its worker reaped. */
    int (*cgroup_remove)(struct monitor *m, int nr);
};

struct monitor {
    const struct settings *s;
    struct listeners *ls;
    mold_main_fn mold_main; /* runs in each new mold (main.c's choice) */
    const struct monitor_ops *ops;
    struct shm_slot *slots;
    int epfd, sigfd;
    struct child mold;      /* the current mold */
    struct child next_mold; /* booting (reload) or promoted worker */
    struct child workers[SETTINGS_MAX_WORKERS];
    struct child service; /* the service worker, when the mold has one */
    /* molds told to stop after a refork or reload, until reaped; in
     * each, spawn_ns is when it was told */
    struct child retired[RETIRED_MOLDS];
    uint64_t ready_seq;        /* workers that became ready, ever */
    int nworkers;              /* wanted */
    int hiwater;               /* highest worker count ever wanted */
    unsigned generation;       /* of the current mold */
    unsigned next_gen;         /* for the next mold */
    int status;                /* exit status */
    uint64_t requests_retired; /* served by workers no longer in a slot */
    uint64_t oom_kills;        /* workers the kernel killed at their hard cap
                                * (worker_memory_hard_max; hard_cap.c) */
    int64_t watchdog_ns, watchdog_next;
    int64_t next_second; /* the loop's next once-a-second duties */

    /* tally.c: what /metrics counts since the monitor started */
    struct {
        uint64_t requests[SETTINGS_MAX_WORKERS]; /* by retired workers */
        uint64_t latency[LATENCY_BUCKETS];       /* their histograms */
        uint64_t latency_sum_ns;
        uint64_t reforks, reloads, timeouts_soft, timeouts_hard;
        uint64_t memory_replacements, spawn_errors;
    } counts;
    /* metrics.c: the metrics socket [0] and the scrapes being answered,
     * -1 when unused (a new mold closes them) */
    int metrics_fds[1 + MONITOR_METRICS_CONNS];

    /* fleet.c */
    bool stopping;
    int spawn_errors; /* consecutive */
    int64_t stop_deadline;

    /* children.c: unknown pids reaped, for late spawn reports */
    struct reaped_pid {
        pid_t pid;
        int64_t at; /* when it was reaped */
    } reaped[REAPED_RING];
    size_t reaped_next;

    /* molds.c: a HUP came while a refork or reload was pending; the
     * reload starts once that next mold is ready or has failed */
    bool reload_pending;

    /* refork.c */
    int promoted_nr;             /* slot of next_mold while it is promoting */
    bool promoted_slot;          /* promoted_nr is kept for next_mold */
    int refork_waiting;          /* why refork_after waits (refork.c) */
    int refork_waiting_nr;       /* and for which worker, or -1 */
    int64_t refork_not_before;   /* backoff after a failed refork */
    int64_t pressure_not_before; /* backoff after a memory refork */

    /* rollout.c: what systemd was told */
    unsigned rollout_gen; /* workers older than this are replaced */
    bool announced_ready; /* the first READY=1 was sent */
    bool reloading;       /* a HUP reload is in progress */
    bool reforking;       /* RELOADING=1 sent for a refork */
    unsigned settled_gen; /* the generation when no refork was on */

    /* idle.c: scale to zero under socket activation */
    uint64_t idle_requests; /* requests served, at the last activity */
    int64_t idle_since;     /* the last activity seen */
};

#endif
