/*
 * Unit tests of the stop after idle_timeout (monitor/idle.c) with the
 * time passed in and recorders in place of the system
 * (tests/monitor_fixture.c): the stop comes at the deadline and not a
 * millisecond before, a request served or a worker busy restarts the
 * idle clock, so does a connection waiting in a listener's queue or a
 * reload in progress, and without socket activation the setting is
 * ignored with a warning.
 *
 * This program links src/libmonitor.a and src/libcore.a without libruby.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/listener_queue.h"
#include "core/listeners.h"
#include "core/shm.h"
#include "monitor/idle.h"
#include "monitor/molds.h"
#include "monitor_fixture.h"
#include "tap.h"

/* A fixture monitor with nworkers workers whose listeners came from
 * systemd (activated), idle_timeout 5 s, its idle clock started at
 * FX_T0. */
static struct monitor *
idle_fixture(int nworkers, int activated)
{
    struct monitor *m = fx_init(nworkers);

    m->ls->activated = activated;
    fx_settings.idle_timeout = 5;
    idle_start(m, FX_T0);
    return m;
}

/* It stopped as SIGTERM stops it: logged, STOPPING=1, every child told
 * to stop, exit status 0. */
static void
check_stopped(struct monitor *m, const char *when)
{
    ok(m->stopping && m->status == 0 && fx_notified("STOPPING=1") == 1 &&
           fx_logged("shutdown", "graceful shutdown") == 1 &&
           fx_sent(m->mold.ctl_fd, CTL_STOP) == 1 &&
           fx_sent(m->workers[0].ctl_fd, CTL_STOP) == 1,
       "%s: a graceful stop, exit status 0", when);
}

static void
test_deadline(void)
{
    struct monitor *m = idle_fixture(2, 1);

    idle_tick(m, FX_T0 + FX_SEC);
    idle_tick(m, FX_T0 + 5 * FX_SEC - FX_MS);
    ok(!m->stopping && fx_nevents() == 0,
       "1 ms before idle_timeout: nothing happens");
    idle_tick(m, FX_T0 + 5 * FX_SEC);
    is_int(fx_logged("idle-exit",
                     "no request for 5 s (idle_timeout): stopping; systemd "
                     "starts the service again at the next connection"),
           1, "at idle_timeout: PITCHFORK_EVENT=idle-exit");
    check_stopped(m, "at idle_timeout");
    fx_clear();
    idle_tick(m, FX_T0 + 6 * FX_SEC);
    is_int(fx_nevents(), 0, "once stopping, nothing more");
}

static void
test_request_resets(void)
{
    struct monitor *m = idle_fixture(2, 1);
    int64_t t = FX_T0 + 3 * FX_SEC;

    atomic_store(&m->slots[1].requests, 1);
    idle_tick(m, t);
    idle_tick(m, FX_T0 + 5 * FX_SEC);
    idle_tick(m, t + 5 * FX_SEC - FX_MS);
    ok(!m->stopping, "a request served at 3 s: no stop 5 s - 1 ms after it");
    idle_tick(m, t + 5 * FX_SEC);
    check_stopped(m, "5 s after it");

    /* A worker that exits hands its count to the retired total: that is
     * no request. */
    m = idle_fixture(2, 1);
    atomic_store(&m->slots[0].requests, 7);
    idle_tick(m, FX_T0);
    m->requests_retired += 7;
    atomic_store(&m->slots[0].requests, 0);
    idle_tick(m, FX_T0 + 5 * FX_SEC);
    check_stopped(m, "a worker's count moved to the retired total");
}

static void
test_busy_holds(void)
{
    struct monitor *m = idle_fixture(3, 1);
    int64_t t = FX_T0 + 60 * FX_SEC;

    atomic_store(&m->slots[2].state, SHM_BUSY);
    idle_tick(m, FX_T0 + FX_SEC);
    idle_tick(m, FX_T0 + 5 * FX_SEC);
    idle_tick(m, t);
    ok(!m->stopping && fx_nevents() == 0,
       "a worker busy for a minute: no stop");
    /* The connection ends without a request (a silent client). */
    atomic_store(&m->slots[2].state, SHM_IDLE);
    idle_tick(m, t + 5 * FX_SEC - FX_MS);
    ok(!m->stopping, "idle_timeout counts from the last tick it was busy");
    idle_tick(m, t + 5 * FX_SEC);
    check_stopped(m, "then idle_timeout later");
}

static void
test_unsettled_holds(void)
{
    struct monitor *m = idle_fixture(2, 1);

    molds_reload(m, FX_T0 + FX_SEC);
    idle_tick(m, FX_T0 + FX_SEC);
    idle_tick(m, FX_T0 + 60 * FX_SEC);
    ok(m->reloading && !m->stopping, "a reload in progress: no stop");

    m = idle_fixture(2, 1);
    m->announced_ready = false;
    idle_tick(m, FX_T0 + 60 * FX_SEC);
    ok(!m->stopping, "workers not ready yet: no stop");
    m->announced_ready = true;
    m->reforking = true;
    idle_tick(m, FX_T0 + 120 * FX_SEC);
    ok(!m->stopping, "a refork in progress: no stop");
    m->reforking = false;
    idle_tick(m, FX_T0 + 125 * FX_SEC - FX_MS);
    ok(!m->stopping, "done: idle_timeout counts from then");
    idle_tick(m, FX_T0 + 125 * FX_SEC);
    check_stopped(m, "idle_timeout after the refork");
}

/* A TCP listener on 127.0.0.1 with one connection in its queue, as
 * listener *l; *client is the connection.  Returns -1 when it cannot. */
static int
queued_listener(struct listener *l, int *client)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(l, 0, sizeof(*l));
    l->fd = fd;
    l->family = AF_INET;
    snprintf(l->addr, sizeof(l->addr), "127.0.0.1");
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(fd, 8) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return -1;
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)) < 0)
        return -1;
    return 0;
}

static void
test_queue_holds(void)
{
    static struct listeners ls;
    struct monitor *m = idle_fixture(1, 1);
    unsigned depth = 0;
    int client = -1, conn;
    int64_t t = FX_T0 + 5 * FX_SEC;

    ls.n = 1;
    ls.activated = 1;
    if (queued_listener(&ls.l[0], &client) < 0 ||
        listener_queue_depth(&ls, &depth) < 0 || depth != 1) {
        ok(true, "# SKIP no TCP listener with a queue to read here: %s",
           strerror(errno));
        return;
    }
    m->ls = &ls;
    idle_tick(m, t);
    ok(!m->stopping, "at idle_timeout, a connection waits: no stop");
    conn = accept(ls.l[0].fd, NULL, NULL);
    if (conn < 0 || close(conn) < 0 || close(client) < 0)
        bail("accept and close the queued connection: %s", strerror(errno));
    idle_tick(m, t + 5 * FX_SEC - FX_MS);
    ok(!m->stopping, "and the idle clock restarted then");
    idle_tick(m, t + 5 * FX_SEC);
    check_stopped(m, "idle_timeout later, the queue empty");
    if (close(ls.l[0].fd) < 0)
        bail("close the listener: %s", strerror(errno));
}

static void
test_not_activated(void)
{
    struct monitor *m = idle_fixture(2, 0);

    is_int(fx_logged(NULL, "idle_timeout=5 is ignored: the listening "
                           "sockets were not passed by systemd (socket "
                           "activation), so after an idle exit nothing "
                           "would accept the next connection"),
           1, "sockets not from systemd: a warning names the setting");
    idle_tick(m, FX_T0 + 5 * FX_SEC);
    idle_tick(m, FX_T0 + 3600 * FX_SEC);
    ok(!m->stopping && fx_notified("STOPPING=1") == 0,
       "and idle_timeout is ignored");

    m = fx_init(2);
    m->ls->activated = 1;
    idle_start(m, FX_T0);
    idle_tick(m, FX_T0 + 3600 * FX_SEC);
    ok(!m->stopping && fx_nevents() == 0,
       "idle_timeout 0 (the default): never, and no warning");
}

int
main(void)
{
    test_deadline();
    test_request_resets();
    test_busy_holds();
    test_unsettled_holds();
    test_queue_holds();
    test_not_activated();
    return done_testing();
}
