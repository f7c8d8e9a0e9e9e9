/*
 * Control messages between processes: one struct ctl_msg per
 * SOCK_SEQPACKET datagram, with descriptors passed by SCM_RIGHTS.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
control_send(int fd, const struct ctl_msg *m, const int *fds, size_t nfds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
    struct iovec iov = {(void *)m, sizeof(*m)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    if (nfds > CTL_MAX_FDS) {
        errno = EINVAL;
        return -1;
    }
    if (nfds > 0) {
        struct cmsghdr *c;
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if ((size_t)n != sizeof(*m)) {
        errno = EMSGSIZE;
        return -1;
    }
    return 0;
}

/* Copy the SCM_RIGHTS descriptors of mh into fds; close any extra. */
static void
control_take_fds(struct msghdr *mh, int *fds, size_t *nfds)
{
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        size_t k;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*nfds < CTL_MAX_FDS)
                fds[(*nfds)++] = fd;
            else
                (void)close(fd); /* unexpected extra: drop it */
        }
    }
}

int
control_recv(int fd, struct ctl_msg *m, int *fds, size_t *nfds)
{
    char cbuf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
    struct iovec iov = {m, sizeof(*m)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cbuf,
                        .msg_controllen = sizeof(cbuf)};
    ssize_t n;

    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    control_take_fds(&mh, fds, nfds);
    if (n == 0)
        return 0;
    if ((size_t)n != sizeof(*m) || (mh.msg_flags & MSG_TRUNC)) {
        for (size_t i = 0; i < *nfds; i++)
            (void)close(fds[i]); /* malformed message: drop its fds */
        *nfds = 0;
        errno = EBADMSG;
        return -1;
    }
    return 1;
}

int
control_recv_bare(int fd, struct ctl_msg *m)
{
    int fds[CTL_MAX_FDS];
    size_t nfds = 0;
    int r = control_recv(fd, m, fds, &nfds);

    for (size_t i = 0; i < nfds; i++)
        (void)close(fds[i]); /* unexpected: nobody would use it */
    return r;
}
