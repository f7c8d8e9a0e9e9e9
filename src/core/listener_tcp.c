/*
 * The TCP options of a listener (see listener_tcp.h).  TCP_DEFER_ACCEPT
 * makes the kernel hold a connection until its first data arrive; one
 * that still sent nothing when the period ends is handed over empty
 * (Linux 2.6.32 and later), and the worker closes it at once
 * (ruby/connection.c), so a silent client never pins a worker.  The
 * kernel counts the period in SYN-ACK retransmissions (1, 2, 4 s ...),
 * so the value it reports back is often above the one asked.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/listener_tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "core/listeners.h"
#include "core/log.h"

/* header_timeout in whole seconds, rounded up, at least 1. */
static int
listener_tcp_defer_wanted(double header_timeout)
{
    int s = (int)header_timeout;

    if ((double)s < header_timeout)
        s++;
    return s < 1 ? 1 : s;
}

/* TCP_DEFER_ACCEPT of l in seconds, or 0 when it cannot be read. */
static int
listener_tcp_defer_get(const struct listener *l)
{
    int cur = 0;
    socklen_t len = sizeof(cur);

    if (getsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &cur, &len) < 0) {
        log_syswarn("getsockopt TCP_DEFER_ACCEPT on %s", l->addr);
        return 0;
    }
    return cur;
}

void
listener_tcp_options(struct listener *l, double header_timeout)
{
    int one = 1, want = listener_tcp_defer_wanted(header_timeout);

    if (setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        log_syswarn("setsockopt TCP_NODELAY on %s", l->addr);
    if (listener_tcp_defer_get(l) < want &&
        setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &want, sizeof(want)) <
            0)
        log_syswarn("setsockopt TCP_DEFER_ACCEPT %d on %s", want, l->addr);
    l->defer_accept = listener_tcp_defer_get(l);
    log_debug("%s: TCP_DEFER_ACCEPT %d s (header_timeout %g s)", l->addr,
              l->defer_accept, header_timeout);
}
