/*
 * The monitor's Prometheus endpoint (monitor/metrics.h).  It lives in
 * the monitor's loop, so it must never block it: the sockets are
 * non-blocking in the loop's epoll set, at most MONITOR_METRICS_CONNS
 * scrapes are answered at once (another connection is closed at once),
 * a request head is read up to METRICS_HEAD_MAX bytes, the answer is
 * written as the socket takes it, and a scrape not done within
 * METRICS_DEADLINE_NS of its accept (a silent or slow client) is cut
 * off by the tick, with the time passed in like the rest of the monitor.
 * GET /metrics answers metrics_text.c's exposition; any other path 404,
 * any other method 405; one request a connection.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "monitor/metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/listeners.h"
#include "core/log.h"
#include "core/metrics_socket.h"
#include "monitor/metrics_text.h"
#include "monitor/state.h"

#define METRICS_HEAD_MAX 2048
#define METRICS_DEADLINE_NS (2 * CLOCK_NS_PER_SEC)
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One scrape: its head as read, then its answer as written. */
struct metrics_conn {
    int64_t deadline;
    char head[METRICS_HEAD_MAX];
    size_t len;
    struct metrics_text out;
    size_t sent;
};

/* The monitor is a single process with a single loop: file-scope state.
 * Connection k uses m->metrics_fds[k], k >= 1. */
static struct metrics_conn conns[1 + MONITOR_METRICS_CONNS];

static int
metrics_watch(struct monitor *m, int k, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events,
                             .data.u64 = ((uint64_t)TAG_METRICS << 32) |
                                         (uint32_t)k};

    if (epoll_ctl(m->epfd, op, m->metrics_fds[k], &ev) < 0) {
        log_syswarn("epoll_ctl on metrics fd %d", m->metrics_fds[k]);
        return -1;
    }
    return 0;
}

int
metrics_open(struct monitor *m)
{
    const char *addr = m->s->metrics_listen;
    int fd = -1;

    for (int k = 0; k < 1 + MONITOR_METRICS_CONNS; k++)
        m->metrics_fds[k] = -1;
    if (m->ls != NULL && m->ls->metrics_fd > 0) {
        if (addr != NULL && *addr != '\0')
            log_info("metrics_listen %s ignored: systemd passed a socket "
                     "named %s",
                     addr, METRICS_SOCKET_NAME);
        fd = m->ls->metrics_fd;
    } else if (addr != NULL && *addr != '\0') {
        if ((fd = metrics_socket_open(addr)) < 0)
            return -1;
        if (strncmp(addr, "unix:", 5) == 0 || addr[0] == '/')
            log_info("metrics on the UNIX socket %s, GET /metrics", addr);
        else
            log_info("metrics on http://%s/metrics", addr);
    } else {
        return 0;
    }
    m->metrics_fds[0] = fd;
    return metrics_watch(m, 0, EPOLLIN, EPOLL_CTL_ADD);
}

/* Forget scrape k: out of the epoll set (a mold forked meanwhile may
 * hold a copy of the descriptor), shut down so that the client sees the
 * end whoever holds a copy, closed. */
static void
metrics_drop(struct monitor *m, int k)
{
    int fd = m->metrics_fds[k];

    if (epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
        log_syswarn("epoll_ctl EPOLL_CTL_DEL on metrics fd %d", fd);
    if (shutdown(fd, SHUT_RDWR) < 0 && errno != ENOTCONN)
        log_sys(LOGL_DEBUG, "shutdown of a metrics scrape, fd %d", fd);
    if (close(fd) < 0)
        log_syswarn("close metrics fd %d", fd);
    m->metrics_fds[k] = -1;
    metrics_text_free(&conns[k].out);
}

static void
metrics_accept(struct monitor *m, int64_t now)
{
    int fd, k;

    while ((fd = accept4(m->metrics_fds[0], NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        for (k = 1; k <= MONITOR_METRICS_CONNS; k++)
            if (m->metrics_fds[k] < 0)
                break;
        if (k > MONITOR_METRICS_CONNS) {
            log_debug("metrics: %d scrapes in progress, closing another",
                      MONITOR_METRICS_CONNS);
            if (close(fd) < 0)
                log_syswarn("close a refused metrics scrape");
            continue;
        }
        m->metrics_fds[k] = fd;
        conns[k] = (struct metrics_conn){.deadline = now +
                                                     METRICS_DEADLINE_NS};
        if (metrics_watch(m, k, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD) < 0)
            metrics_drop(m, k);
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
        errno != ECONNABORTED)
        log_syswarn("accept4 on the metrics socket");
}

/* The answer to the head in c: status, headers and body. */
static void
metrics_answer(struct monitor *m, struct metrics_conn *c)
{
    struct metrics_text body = {0};
    const char *status = "200 OK", *type = METRICS_CONTENT_TYPE, *allow = "";
    char *sp = memchr(c->head, ' ', c->len), *path = sp ? sp + 1 : NULL;
    size_t plen = path ? strcspn(path, " ?\r\n") : 0;

    if (sp == NULL || sp - c->head != 3 || memcmp(c->head, "GET", 3) != 0) {
        status = "405 Method Not Allowed";
        allow = "Allow: GET\r\n";
        metrics_text_printf(&body, "only GET /metrics\n");
        type = "text/plain; charset=utf-8";
    } else if (plen != 8 || memcmp(path, "/metrics", 8) != 0) {
        status = "404 Not Found";
        metrics_text_printf(&body, "only GET /metrics\n");
        type = "text/plain; charset=utf-8";
    } else if (metrics_text_write(&body, m) < 0) {
        status = "500 Internal Server Error";
        type = "text/plain; charset=utf-8";
        body.len = 0;
    }
    metrics_text_printf(&c->out,
                        "HTTP/1.1 %s\r\nContent-Type: %s\r\n%s"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                        status, type, allow, body.len);
    if (body.len > 0)
        metrics_text_printf(&c->out, "%.*s", (int)body.len, body.buf);
    metrics_text_free(&body);
}

/* Write what scrape k's socket takes; drop it once all is written. */
static void
metrics_write(struct monitor *m, int k)
{
    struct metrics_conn *c = &conns[k];

    while (c->sent < c->out.len) {
        ssize_t n = send(m->metrics_fds[k], c->out.buf + c->sent,
                         c->out.len - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_sys(LOGL_DEBUG, "metrics: send to a scrape");
            break;
        }
        c->sent += (size_t)n;
    }
    metrics_drop(m, k);
}

/* The end of a head: an empty line. */
static bool
metrics_head_done(const struct metrics_conn *c)
{
    for (size_t i = 1; i < c->len; i++)
        if (c->head[i] == '\n' &&
            (c->head[i - 1] == '\n' ||
             (i >= 2 && c->head[i - 1] == '\r' && c->head[i - 2] == '\n')))
            return true;
    return false;
}

/* Read scrape k's head; once it is in (or too long), answer. */
static void
metrics_read(struct monitor *m, int k)
{
    struct metrics_conn *c = &conns[k];
    ssize_t n;

    while (c->len < sizeof(c->head) &&
           (n = recv(m->metrics_fds[k], c->head + c->len,
                     sizeof(c->head) - c->len, MSG_DONTWAIT)) != 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        c->len += (size_t)n;
        if (metrics_head_done(c))
            break;
    }
    if (c->len == 0 || (!metrics_head_done(c) && c->len < sizeof(c->head))) {
        metrics_drop(m, k); /* closed or failed before a whole head */
        return;
    }
    if (!metrics_head_done(c))
        metrics_text_printf(&c->out, "HTTP/1.1 431 Request Header Fields Too "
                                     "Large\r\nContent-Length: 0\r\n"
                                     "Connection: close\r\n\r\n");
    else
        metrics_answer(m, c);
    if (c->out.failed || metrics_watch(m, k, EPOLLOUT, EPOLL_CTL_MOD) < 0) {
        metrics_drop(m, k);
        return;
    }
    metrics_write(m, k);
}

void
metrics_event(struct monitor *m, uint32_t nr, uint32_t events, int64_t now)
{
    int k = (int)nr;

    if (k > MONITOR_METRICS_CONNS || m->metrics_fds[k] < 0)
        return;
    if (k == 0)
        metrics_accept(m, now);
    else if (conns[k].out.len > 0)
        metrics_write(m, k);
    else if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        metrics_read(m, k);
}

void
metrics_tick(struct monitor *m, int64_t now)
{
    for (int k = 1; k <= MONITOR_METRICS_CONNS; k++) {
        if (m->metrics_fds[k] < 0 || now <= conns[k].deadline)
            continue;
        log_debug("metrics: a scrape passed its %lld s deadline: cut off",
                  (long long)(METRICS_DEADLINE_NS / CLOCK_NS_PER_SEC));
        metrics_drop(m, k);
    }
}
