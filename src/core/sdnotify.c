/*
 * Notifications to systemd (Type=notify, NotifyAccess=main).  Only the
 * monitor calls these; see sdnotify.h.
 *
 * sd_notify() from libsystemd sends on a blocking datagram socket: when
 * the receiver's queue is full (systemd busy, or a container manager
 * such as systemd-nspawn that set NOTIFY_SOCKET and reads slowly, with
 * net.unix.max_dgram_qlen 10) it waits, and a monitor waiting there
 * reaps nothing, answers no signal and promotes no worker.  So the
 * monitor sends on a socket of its own with MSG_DONTWAIT; a line the
 * queue cannot take waits in a small queue of its own and is sent again
 * by sdnotify_flush() on the next tick, in order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "core/log.h"

#define SDNOTIFY_LINE_MAX 512
#define SDNOTIFY_PENDING 16

static struct {
    int fd;         /* our datagram socket; -1 until the first send */
    bool resolved;  /* NOTIFY_SOCKET was read */
    bool unix_addr; /* it names an AF_UNIX socket (else libsystemd) */
    bool warned;    /* a failure was logged */
    bool stalled;   /* lines wait: the receiver's queue was full */
    struct sockaddr_un addr;
    socklen_t addrlen;
    char pending[SDNOTIFY_PENDING][SDNOTIFY_LINE_MAX];
    size_t npending;
    uint64_t dropped;
} sn = {.fd = -1};

/* Read NOTIFY_SOCKET once: a path or an abstract name ("@...") is ours
 * to send to; anything else (vsock:) is left to sd_notify(). */
static void
sdnotify_resolve(void)
{
    const char *e = getenv("NOTIFY_SOCKET");
    size_t len;

    sn.resolved = true;
    if (e == NULL || (e[0] != '/' && e[0] != '@'))
        return;
    len = strlen(e);
    if (len >= sizeof(sn.addr.sun_path))
        return;
    sn.addr.sun_family = AF_UNIX;
    memcpy(sn.addr.sun_path, e, len);
    if (e[0] == '@')
        sn.addr.sun_path[0] = '\0';
    sn.addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                             (e[0] == '/'));
    sn.unix_addr = true;
}

/* Log a failure once, with the line it concerns. */
static void
sdnotify_warn(int err, const char *what, const char *line)
{
    if (sn.warned)
        return;
    sn.warned = true;
    errno = err;
    log_syswarn("%s \"%.64s\" to NOTIFY_SOCKET", what, line);
}

/* Send one line without waiting.  Returns 1 sent (or given up on after
 * an error, logged once), 0 when the receiver's queue is full. */
static int
sdnotify_send(const char *line)
{
    ssize_t n;

    if (sn.fd < 0) {
        sn.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (sn.fd < 0) {
            sdnotify_warn(errno, "socket for", line);
            return 1;
        }
    }
    do
        n = sendto(sn.fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL,
                   (const struct sockaddr *)&sn.addr, sn.addrlen);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return 1;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    sdnotify_warn(errno, "send", line);
    return 1;
}

/* The name of a line's variable ("STATUS" of "STATUS=..."), length. */
static size_t
sdnotify_key(const char *line)
{
    const char *eq = strchr(line, '=');

    return eq != NULL ? (size_t)(eq - line) : strlen(line);
}

/* Only the latest of these means something: a newer one replaces a
 * waiting one instead of queueing behind it. */
static bool
sdnotify_replaceable(const char *line)
{
    return strncmp(line, "STATUS=", 7) == 0 ||
           strncmp(line, "WATCHDOG=", 9) == 0 ||
           strncmp(line, "EXTEND_TIMEOUT_USEC=", 20) == 0;
}

/* Queue line behind the waiting ones.  When the queue is full, the
 * oldest waiting line is dropped (and counted). */
static void
sdnotify_queue(const char *line)
{
    size_t k = sdnotify_key(line);

    if (sdnotify_replaceable(line)) {
        for (size_t i = 0; i < sn.npending; i++) {
            if (sdnotify_key(sn.pending[i]) == k &&
                strncmp(sn.pending[i], line, k) == 0) {
                snprintf(sn.pending[i], SDNOTIFY_LINE_MAX, "%s", line);
                return;
            }
        }
    }
    if (sn.npending == SDNOTIFY_PENDING) {
        sn.dropped++;
        memmove(sn.pending[0], sn.pending[1],
                sizeof(sn.pending[0]) * (SDNOTIFY_PENDING - 1));
        sn.npending--;
    }
    snprintf(sn.pending[sn.npending++], SDNOTIFY_LINE_MAX, "%s", line);
}

void
sdnotify_flush(void)
{
    size_t sent = 0;

    while (sent < sn.npending && sdnotify_send(sn.pending[sent]) == 1)
        sent++;
    if (sent > 0) {
        memmove(sn.pending[0], sn.pending[sent],
                sizeof(sn.pending[0]) * (sn.npending - sent));
        sn.npending -= sent;
    }
    if (sn.npending == 0 && sn.stalled) {
        sn.stalled = false;
        log_info("systemd's notification socket takes messages again");
    }
}

/* Send line now, or after the lines already waiting. */
static void
sdnotify_line(const char *line)
{
    if (!sn.resolved)
        sdnotify_resolve();
    if (!sn.unix_addr) {
        int rc = sd_notify(0, line);
        if (rc < 0)
            sdnotify_warn(-rc, "sd_notify", line);
        return;
    }
    sdnotify_flush();
    if (sn.npending == 0 && sdnotify_send(line) == 1)
        return;
    sdnotify_queue(line);
    if (!sn.stalled) {
        sn.stalled = true;
        log_warn("systemd's notification socket is full: \"%.64s\" and "
                 "what follows wait, and the monitor goes on",
                 line);
    }
}

void
sdnotify(const char *fmt, ...)
{
    char buf[SDNOTIFY_LINE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sdnotify_line(buf);
}

void
sdnotify_reloading(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail */
    sdnotify("RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL +
                 (unsigned long long)ts.tv_nsec / 1000);
}

size_t
sdnotify_pending(void)
{
    return sn.npending;
}

uint64_t
sdnotify_dropped(void)
{
    return sn.dropped;
}

void
sdnotify_forget(void)
{
    if (sn.fd >= 0)
        (void)close(sn.fd); /* a child's copy: nothing to report */
    sn.fd = -1;
    sn.npending = 0;
}

uint64_t
sdnotify_watchdog_usec(void)
{
    uint64_t usec = 0;

    /* unset_environment=0: the value is re-read by nothing else. */
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return usec;
}
