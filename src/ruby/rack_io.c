/*
 * Socket I/O of the request path.  Client sockets are non-blocking: a
 * read or write is first tried with the GVL held (the common case: the
 * data is there, the socket buffer has room), and only on EAGAIN does the
 * worker wait in poll(2) without the GVL, bounded by the request deadline.
 * The response's writes go through rack_io_send, which remembers the
 * first error so that a client gone away costs one failed write; the app
 * gets the socket as a TCPSocket or UNIXSocket from rack_io_socket.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/rack_io.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/listeners.h"
#include "ruby/pfruby.h"
#include "ruby/rack_conn.h"

static int64_t rack_io_deadline_ns;
static ID id_for_fd;
static VALUE cTCPSocket = Qnil, cUNIXSocket = Qnil;

void
rack_io_init(void)
{
    id_for_fd = rb_intern("for_fd");
    cTCPSocket = rb_path2class("TCPSocket");
    cUNIXSocket = rb_path2class("UNIXSocket");
    rb_gc_register_mark_object(cTCPSocket);
    rb_gc_register_mark_object(cUNIXSocket);
}

void
rack_io_set_deadline(int64_t deadline_ns)
{
    rack_io_deadline_ns = deadline_ns;
}

int64_t
rack_io_deadline(void)
{
    return rack_io_deadline_ns;
}

/* Milliseconds left before the deadline, at least 1, INT_MAX-capped;
 * -1 (infinite) without a deadline, 0 when it has passed. */
static int
rack_io_timeout_ms(void)
{
    int64_t left;

    if (rack_io_deadline_ns == 0)
        return -1;
    left = rack_io_deadline_ns - clock_now_ns();
    if (left <= 0)
        return 0;
    left = (left + 999999) / 1000000;
    return left > INT_MAX ? INT_MAX : (int)left;
}

int
rack_io_wait(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int timeout_ms = rack_io_timeout_ms();
        int rc;

        if (timeout_ms == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        rc = pfruby_poll(&p, 1, timeout_ms);
        if (rc > 0)
            return 0; /* ready, or POLLERR/POLLHUP: the next call says */
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

ssize_t
rack_io_read(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);

        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (rack_io_wait(fd, POLLIN) < 0)
            return -1;
    }
}

/* Drop n written bytes from the front of *iov / *cnt. */
static void
rack_io_advance(struct iovec **iov, int *cnt, size_t n)
{
    while (*cnt > 0 && n >= (*iov)->iov_len) {
        n -= (*iov)->iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (*cnt > 0) {
        (*iov)->iov_base = (char *)(*iov)->iov_base + n;
        (*iov)->iov_len -= n;
    }
}

int
rack_io_writev(int fd, struct iovec *iov, int cnt, int flags)
{
    struct msghdr mh = {0};

    /* Skip empty leading entries so that an all-empty write is a no-op. */
    rack_io_advance(&iov, &cnt, 0);
    while (cnt > 0) {
        ssize_t n;

        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)(cnt > IOV_MAX ? IOV_MAX : cnt);
        /* sendmsg: MSG_NOSIGNAL spares the SIGPIPE, flags may add
         * MSG_MORE before a sendfile(2). */
        n = sendmsg(fd, &mh, MSG_NOSIGNAL | flags);
        if (n >= 0) {
            rack_io_advance(&iov, &cnt, (size_t)n);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (rack_io_wait(fd, POLLOUT) < 0)
            return -1;
    }
    return 0;
}

int
rack_io_write(int fd, const void *buf, size_t len, int flags)
{
    struct iovec iov = {(void *)buf, len};

    return rack_io_writev(fd, &iov, 1, flags);
}

bool
rack_io_send(struct rack_conn *c, struct iovec *iov, int cnt, int flags)
{
    size_t total = 0;

    if (c->write_errno != 0)
        return false;
    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    if (rack_io_writev(c->fd, iov, cnt, flags) < 0) {
        c->write_errno = errno;
        return false;
    }
    c->bytes_written += total;
    return true;
}

VALUE
rack_io_socket(struct rack_conn *c)
{
    VALUE klass;

    if (!NIL_P(c->io))
        return c->io;
    klass = c->listener != NULL && c->listener->family == AF_UNIX ? cUNIXSocket
                                                                  : cTCPSocket;
    c->io = rb_funcall(klass, id_for_fd, 1, INT2NUM(c->fd));
    return c->io;
}
