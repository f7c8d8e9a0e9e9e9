/*
 * The monitor's policy under test (see monitor_fixture.h): recorders in
 * place of the system calls, and sd_journal_sendv() replaced so that log
 * lines are recorded too (the executable's definitions win over
 * libsystemd's).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "core/listeners.h"
#include "core/log.h"
#include "core/shm.h"
#include "journal_capture.h"
#include "monitor/children.h"
#include "monitor/workers.h"
#include "tap.h"

#define FX_MAX_EVENTS 4096

/* Pids above PID_MAX_LIMIT (4194304): no process has them. */
#define FX_WORKER_PID 4600000
/* Descriptors far above what the test opens. */
#define FX_WORKER_FD 20000

int fx_send_errno;
uint64_t fx_oom_kills[SETTINGS_MAX_WORKERS];
struct settings fx_settings;

static struct monitor fx_monitor;
static struct shm_slot fx_slots[SHM_SLOTS];
static struct listeners fx_listeners; /* none: the queue depth is 0 */
static struct fx_event fx_events[FX_MAX_EVENTS];
static int fx_n;
static pid_t fx_next_pid;
static int fx_next_fd;
static pid_t fx_next_mold;
static int fx_mold_fd = -1; /* a real socket: the hook messages ask how
                             * much is queued on it */

static struct fx_event *
fx_record(enum fx_kind kind)
{
    struct fx_event *e;

    if (fx_n == FX_MAX_EVENTS)
        bail("more than %d events recorded", FX_MAX_EVENTS);
    e = &fx_events[fx_n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->fd = -1;
    return e;
}

static int
fx_send(struct monitor *m, int fd, const struct ctl_msg *msg)
{
    struct fx_event *e;

    (void)m;
    if (fx_send_errno != 0) {
        errno = fx_send_errno;
        return -1;
    }
    e = fx_record(FX_SEND);
    e->fd = fd;
    e->msg = *msg;
    return 0;
}

static int
fx_recv(struct monitor *m, int fd, struct ctl_msg *msg, int *fds, size_t *nfds)
{
    (void)m;
    (void)fd;
    (void)msg;
    (void)fds;
    *nfds = 0;
    errno = EAGAIN; /* the policy never reads */
    return -1;
}

static int
fx_kill(struct monitor *m, pid_t pid, int sig)
{
    struct fx_event *e = fx_record(FX_KILL);

    (void)m;
    e->pid = pid;
    e->sig = sig;
    return 0;
}

static int
fx_close(struct monitor *m, int fd)
{
    (void)m;
    fx_record(FX_CLOSE)->fd = fd;
    return 0;
}

static int
fx_watch(struct monitor *m, int fd, enum monitor_tag tag, uint32_t nr)
{
    struct fx_event *e = fx_record(FX_WATCH);

    (void)m;
    e->fd = fd;
    e->tag = tag;
    e->nr = nr;
    return 0;
}

static pid_t
fx_fork_mold(struct monitor *m, unsigned gen, int *ctl_fd)
{
    struct fx_event *e = fx_record(FX_FORK);

    (void)m;
    (void)gen;
    e->pid = fx_next_mold++;
    e->fd = *ctl_fd = fx_new_fd();
    return e->pid;
}

static void
fx_notify(struct monitor *m, const char *state)
{
    (void)m;
    snprintf(fx_record(FX_NOTIFY)->text, sizeof(fx_events[0].text), "%s",
             state);
}

static int
fx_cgroup_make(struct monitor *m, int nr)
{
    (void)m;
    fx_record(FX_CGROUP_MAKE)->nr = (uint32_t)nr;
    return 0;
}

static int
fx_cgroup_oom_kills(struct monitor *m, int nr, uint64_t *kills)
{
    (void)m;
    *kills = fx_oom_kills[nr];
    return 0;
}

static int
fx_cgroup_remove(struct monitor *m, int nr)
{
    (void)m;
    fx_record(FX_CGROUP_REMOVE)->nr = (uint32_t)nr;
    return 0;
}

static const struct monitor_ops fx_ops = {
    .send = fx_send,
    .recv = fx_recv,
    .kill = fx_kill,
    .close = fx_close,
    .watch = fx_watch,
    .fork_mold = fx_fork_mold,
    .notify = fx_notify,
    .cgroup_make = fx_cgroup_make,
    .cgroup_oom_kills = fx_cgroup_oom_kills,
    .cgroup_remove = fx_cgroup_remove,
};

/* Copy the value of field name= out of iov into buf, if it is there. */
static void
fx_field(const struct iovec *iov, int n, const char *name, char *buf,
         size_t size)
{
    size_t len = strlen(name);

    for (int i = 0; i < n; i++) {
        const char *f = iov[i].iov_base;
        if (iov[i].iov_len > len && memcmp(f, name, len) == 0) {
            snprintf(buf, size, "%.*s", (int)(iov[i].iov_len - len), f + len);
            return;
        }
    }
}

int
journal_capture(const struct iovec *iov, int n)
{
    struct fx_event *e = fx_record(FX_LOG);

    fx_field(iov, n, "MESSAGE=", e->text, sizeof(e->text));
    fx_field(iov, n, "PITCHFORK_EVENT=", e->event, sizeof(e->event));
    return 0;
}

pid_t
fx_new_pid(void)
{
    return fx_next_pid++;
}

int
fx_new_fd(void)
{
    return fx_next_fd++;
}

struct child *
fx_worker_up(struct monitor *m, int nr, unsigned gen)
{
    struct child *w = &m->workers[nr];

    children_clear(w);
    w->pid = fx_new_pid();
    w->ctl_fd = fx_new_fd();
    w->generation = gen;
    w->ready = true;
    memset(&m->slots[nr], 0, sizeof(m->slots[nr]));
    atomic_store(&m->slots[nr].pid, w->pid);
    atomic_store(&m->slots[nr].generation, gen);
    atomic_store(&m->slots[nr].state, SHM_IDLE);
    return w;
}

struct monitor *
fx_init(int nworkers)
{
    struct monitor *m = &fx_monitor;
    int sp[2];

    log_init(LOG_TARGET_JOURNAL, false);
    if (fx_mold_fd < 0) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0)
            bail("socketpair: %s", strerror(errno));
        fx_mold_fd = sp[0]; /* sp[1] stays open: the mold's end */
    }
    if (fx_settings.rackup != NULL)
        settings_free(&fx_settings); /* the previous test's */
    settings_defaults(&fx_settings);
    fx_settings.worker_memory_auto = false;
    fx_settings.worker_memory_max = 0;
    memset(fx_oom_kills, 0, sizeof(fx_oom_kills));
    memset(fx_slots, 0, sizeof(fx_slots));
    *m = (struct monitor){.s = &fx_settings,
                          .ls = &fx_listeners,
                          .ops = &fx_ops,
                          .slots = fx_slots,
                          .epfd = -1,
                          .sigfd = -1,
                          .nworkers = nworkers,
                          .hiwater = nworkers,
                          .next_gen = 1,
                          .announced_ready = true};
    fx_next_pid = FX_WORKER_PID;
    fx_next_fd = FX_WORKER_FD;
    fx_next_mold = FX_MOLD_PID + 1;
    children_clear(&m->mold);
    children_clear(&m->next_mold);
    children_clear(&m->service);
    for (int i = 0; i < SETTINGS_MAX_WORKERS; i++)
        children_clear(&m->workers[i]);
    m->mold.pid = FX_MOLD_PID;
    m->mold.ctl_fd = fx_mold_fd;
    m->mold.ready = true;
    for (int i = 0; i < nworkers; i++)
        fx_worker_up(m, i, 0);
    fx_clear();
    return m;
}

void
fx_clear(void)
{
    fx_n = 0;
}

int
fx_nevents(void)
{
    return fx_n;
}

const struct fx_event *
fx_event(int i)
{
    return i >= 0 && i < fx_n ? &fx_events[i] : NULL;
}

int
fx_count(enum fx_kind kind)
{
    int n = 0;

    for (int i = 0; i < fx_n; i++)
        n += fx_events[i].kind == kind;
    return n;
}

int
fx_sent(int fd, uint32_t type)
{
    int n = 0;

    for (int i = 0; i < fx_n; i++)
        n += fx_events[i].kind == FX_SEND && fx_events[i].msg.type == type &&
             (fd < 0 || fx_events[i].fd == fd);
    return n;
}

const struct fx_event *
fx_last_sent(uint32_t type)
{
    for (int i = fx_n - 1; i >= 0; i--)
        if (fx_events[i].kind == FX_SEND && fx_events[i].msg.type == type)
            return &fx_events[i];
    return NULL;
}

int
fx_killed(pid_t pid, int sig)
{
    int n = 0;

    for (int i = 0; i < fx_n; i++)
        n += fx_events[i].kind == FX_KILL && fx_events[i].pid == pid &&
             fx_events[i].sig == sig;
    return n;
}

int
fx_notified(const char *state)
{
    int n = 0;

    for (int i = 0; i < fx_n; i++)
        n += fx_events[i].kind == FX_NOTIFY &&
             strcmp(fx_events[i].text, state) == 0;
    return n;
}

int
fx_logged(const char *event, const char *text)
{
    int n = 0;

    for (int i = 0; i < fx_n; i++)
        n += fx_events[i].kind == FX_LOG &&
             (event == NULL || strcmp(fx_events[i].event, event) == 0) &&
             strstr(fx_events[i].text, text) != NULL;
    return n;
}

int
fx_exited(int code)
{
    return W_EXITCODE(code, 0);
}

int
fx_signaled(int sig)
{
    return W_EXITCODE(0, sig);
}

void
fx_answer_spawns(struct monitor *m, int *seen, int64_t now)
{
    for (; *seen < fx_n; (*seen)++) {
        const struct fx_event *e = &fx_events[*seen];
        struct ctl_msg report;
        int fd;

        if (e->kind != FX_SEND || e->msg.type != CTL_SPAWN || e->msg.nr < 0)
            continue;
        report = (struct ctl_msg){CTL_SPAWNED, e->msg.nr, e->msg.generation,
                                  fx_new_pid(), 0};
        fd = fx_new_fd();
        workers_spawned(m, &report, &fd, 1, now);
        atomic_store(&m->slots[report.nr].pid, report.pid);
        workers_ready(m, report.nr);
    }
}

void
fx_reap_stopping(struct monitor *m, int64_t now)
{
    for (int i = 0; i < m->nworkers; i++)
        if (m->workers[i].pid > 0 && m->workers[i].stopping)
            workers_reaped(m, i, fx_exited(0), now);
}

int
fx_down(const struct monitor *m)
{
    int n = 0;

    for (int i = 0; i < m->nworkers; i++) {
        const struct child *w = &m->workers[i];
        n += !(w->pid > 0 && w->ready && !w->stopping);
    }
    return n;
}

int
fx_stopping(const struct monitor *m)
{
    int n = 0;

    for (int i = 0; i < m->nworkers; i++)
        n += m->workers[i].pid > 0 && m->workers[i].stopping;
    return n;
}

int
fx_of_gen(const struct monitor *m, unsigned gen)
{
    int n = 0;

    for (int i = 0; i < m->nworkers; i++)
        n += m->workers[i].pid > 0 && m->workers[i].generation == gen;
    return n;
}
