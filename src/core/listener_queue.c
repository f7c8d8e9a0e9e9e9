/*
 * The accept queues of the listening sockets, read from the sockets
 * themselves: TCP from TCP_INFO, UNIX from sock_diag.  The monitor shows
 * them in STATUS= (monitor/health.c) and /metrics (monitor/metrics_text.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/listener_queue.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "core/listeners.h"
#include "core/log.h"

/* Connections waiting in a TCP listener's accept queue: for a listening
 * socket the kernel reports the queue length as tcpi_unacked. */
static int
listener_queue_tcp(const struct listener *l, unsigned *depth)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    if (getsockopt(l->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return -1;
    *depth = ti.tcpi_unacked;
    return 0;
}

/* Ask sock_diag (netlink fd nl) for the receive queue of the UNIX socket
 * with inode ino; for a listener that is the accept queue. */
static int
listener_unix_ask(int nl, ino_t ino)
{
    struct {
        struct nlmsghdr nh;
        struct unix_diag_req req;
    } q = {
        .nh = {.nlmsg_len = sizeof(q),
               .nlmsg_type = SOCK_DIAG_BY_FAMILY,
               .nlmsg_flags = NLM_F_REQUEST,
               .nlmsg_seq = 1},
        .req = {.sdiag_family = AF_UNIX,
                .udiag_states = ~0U,
                .udiag_ino = (__u32)ino,
                .udiag_show = UDIAG_SHOW_RQLEN,
                .udiag_cookie = {~0U, ~0U}},
    };

    return send(nl, &q, sizeof(q), 0) == (ssize_t)sizeof(q) ? 0 : -1;
}

/* Find UNIX_DIAG_RQLEN in the answer to listener_unix_ask(). */
static int
listener_unix_answer(int nl, unsigned *depth)
{
    long buf[1024];
    ssize_t n = recv(nl, buf, sizeof(buf), 0);
    struct nlmsghdr *nh = (struct nlmsghdr *)buf;
    struct unix_diag_msg *msg = NLMSG_DATA(nh);
    struct nlattr *a;
    size_t left;

    if (n < 0)
        return -1;
    if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        nh->nlmsg_len < NLMSG_LENGTH(sizeof(*msg))) {
        errno = nh->nlmsg_type == NLMSG_ERROR ? ENOENT : EPROTO;
        return -1;
    }
    a = (struct nlattr *)(msg + 1);
    left = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*msg));
    while (left >= sizeof(*a) && a->nla_len >= sizeof(*a) &&
           (size_t)a->nla_len <= left) {
        if (a->nla_type == UNIX_DIAG_RQLEN &&
            a->nla_len >= NLA_HDRLEN + sizeof(struct unix_diag_rqlen)) {
            struct unix_diag_rqlen *rq = (void *)((char *)a + NLA_HDRLEN);
            *depth = rq->udiag_rqueue;
            return 0;
        }
        size_t step = (size_t)NLA_ALIGN(a->nla_len);
        left -= step < left ? step : left;
        a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
    }
    errno = ENOENT;
    return -1;
}

static int
listener_unix_queue(const struct listener *l, int nl, unsigned *depth)
{
    struct stat st;

    if (fstat(l->fd, &st) < 0 || listener_unix_ask(nl, st.st_ino) < 0)
        return -1;
    return listener_unix_answer(nl, depth);
}

/* The netlink socket for UNIX queue lengths, opened for one reading. */
static int
listener_diag_socket(void)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    struct timeval tv = {0, 100000}; /* never block the monitor long */

    if (nl >= 0 &&
        setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        (void)close(nl); /* unusable: reported by the caller */
        return -1;
    }
    return nl;
}

int
listener_queue_of(const struct listeners *ls, size_t i, unsigned *depth)
{
    const struct listener *l = &ls->l[i];
    int nl, rc;

    *depth = 0;
    if (l->fd < 0)
        return 0;
    if (l->family != AF_UNIX)
        return listener_queue_tcp(l, depth);
    if ((nl = listener_diag_socket()) < 0)
        return -1;
    rc = listener_unix_queue(l, nl, depth);
    if (close(nl) < 0)
        log_syswarn("close the sock_diag socket");
    return rc;
}

int
listener_queue_depth(const struct listeners *ls, unsigned *depth)
{
    static bool warned;
    int nl = -1, rc = 0;

    *depth = 0;
    for (size_t i = 0; i < ls->n && rc == 0; i++) {
        const struct listener *l = &ls->l[i];
        unsigned d = 0;
        if (l->fd < 0)
            continue;
        if (l->family == AF_UNIX && nl < 0 &&
            (nl = listener_diag_socket()) < 0)
            rc = -1;
        else if (l->family == AF_UNIX)
            rc = listener_unix_queue(l, nl, &d);
        else
            rc = listener_queue_tcp(l, &d);
        if (rc < 0 && !warned) {
            warned = true;
            log_syswarn("listen queue of %s (reported once)", l->addr);
        }
        *depth += d;
    }
    if (nl >= 0 && close(nl) < 0)
        log_syswarn("close the sock_diag socket");
    return rc;
}
