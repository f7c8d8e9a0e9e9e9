/*
 * Where log.c's lines on standard error are written, and whether that
 * may wait.  A child blocked on a full stderr pipe blocks only itself,
 * but the monitor must never wait on its log: a reader that stopped
 * (a pipe nobody reads, a stuck logger) would stop its timeouts, its
 * reaping and its signals.  In the monitor, log_output_nonblocking()
 * makes each write a non-blocking one: on a pipe or FIFO through a
 * descriptor of its own opened O_NONBLOCK (fd 2's open file description
 * is shared with the children, whose writes may block), on a socket with
 * MSG_DONTWAIT.  A line the reader cannot take is dropped and counted;
 * log.c says how many once lines are taken again.  A regular file never
 * waits for a reader, and a terminal is left as it is.  Journal entries
 * go the same way: sd_journal_sendv() waits while journald's queue is
 * full, so the monitor sends them itself, in journald's native protocol,
 * with MSG_DONTWAIT.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/log_output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_OUTPUT_JOURNAL "/run/systemd/journal/socket"
/* An entry larger than this goes through sd_journal_sendv() (memfd). */
#define LOG_OUTPUT_JOURNAL_MAX 32768

enum log_output_kind {
    LOG_OUTPUT_BLOCKING, /* write(2) on fd 2 */
    LOG_OUTPUT_PIPE,     /* write(2) on our O_NONBLOCK descriptor */
    LOG_OUTPUT_SOCKET,   /* send(2) on fd 2 with MSG_DONTWAIT */
};

static struct {
    enum log_output_kind kind;
    int fd;              /* LOG_OUTPUT_PIPE's descriptor, else -1 */
    bool nonblocking;    /* log_output_nonblocking(true) */
    int journal_fd;      /* our datagram socket to journald, or -1 */
    uint64_t dropped;    /* lines dropped since the start */
    uint64_t unreported; /* of which log.c has not said so yet */
    bool uncounted;      /* the line being written is that report */
} lo = {LOG_OUTPUT_BLOCKING, -1, false, -1, 0, 0, false};

int
log_output_nonblocking(bool on)
{
    struct stat st;

    if (lo.fd >= 0)
        (void)close(lo.fd); /* ours, unused from now on */
    if (lo.journal_fd >= 0)
        (void)close(lo.journal_fd); /* likewise */
    lo.fd = lo.journal_fd = -1;
    lo.kind = LOG_OUTPUT_BLOCKING;
    lo.nonblocking = on;
    if (!on)
        return 0;
    if (fstat(STDERR_FILENO, &st) < 0)
        return -1;
    if (S_ISSOCK(st.st_mode)) {
        lo.kind = LOG_OUTPUT_SOCKET;
    } else if (S_ISFIFO(st.st_mode)) {
        /* A new open file description of the same pipe. */
        lo.fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (lo.fd < 0)
            return -1;
        lo.kind = LOG_OUTPUT_PIPE;
    }
    return 0;
}

/* Count a line the reader did not take. */
static int
log_output_drop(void)
{
    if (!lo.uncounted) {
        lo.dropped++;
        lo.unreported++;
    }
    errno = EAGAIN;
    return -1;
}

void
log_output_uncounted(bool on)
{
    lo.uncounted = on;
}

int
log_output_write(const char *buf, size_t len)
{
    static char cut[PIPE_BUF];
    ssize_t n;

    /* A pipe takes a write of up to PIPE_BUF bytes all or nothing: a
     * longer line is cut there, its newline kept. */
    if (lo.kind == LOG_OUTPUT_PIPE && len > PIPE_BUF) {
        memcpy(cut, buf, PIPE_BUF - 1);
        cut[PIPE_BUF - 1] = '\n';
        buf = cut;
        len = PIPE_BUF;
    }
    do {
        if (lo.kind == LOG_OUTPUT_SOCKET)
            n = send(STDERR_FILENO, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        else
            n = write(lo.kind == LOG_OUTPUT_PIPE ? lo.fd : STDERR_FILENO, buf,
                      len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return log_output_drop();
    return n < 0 ? -1 : 0;
}

/* Append n bytes of p to the entry being built in buf (size used). */
static bool
log_output_add(char *buf, size_t *used, const void *p, size_t n)
{
    if (*used + n > LOG_OUTPUT_JOURNAL_MAX)
        return false;
    memcpy(buf + *used, p, n);
    *used += n;
    return true;
}

/* One field "NAME=value" in the native protocol: as is with a newline,
 * or, when the value holds one, "NAME\n", its length (64 bits, little
 * endian), the value and a newline. */
static bool
log_output_field(char *buf, size_t *used, const struct iovec *f)
{
    const char *s = f->iov_base, *eq = memchr(s, '=', f->iov_len);
    size_t name, vlen;
    unsigned char le[8];

    if (eq == NULL)
        return false;
    name = (size_t)(eq - s);
    vlen = f->iov_len - name - 1;
    if (memchr(eq + 1, '\n', vlen) == NULL)
        return log_output_add(buf, used, s, f->iov_len) &&
               log_output_add(buf, used, "\n", 1);
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)((uint64_t)vlen >> (8 * i));
    return log_output_add(buf, used, s, name) &&
           log_output_add(buf, used, "\n", 1) &&
           log_output_add(buf, used, le, sizeof(le)) &&
           log_output_add(buf, used, eq + 1, vlen) &&
           log_output_add(buf, used, "\n", 1);
}

int
log_output_journal(const struct iovec *iov, size_t n)
{
    static char buf[LOG_OUTPUT_JOURNAL_MAX];
    static const struct sockaddr_un sa = {AF_UNIX, LOG_OUTPUT_JOURNAL};
    size_t used = 0;
    ssize_t r;

    if (!lo.nonblocking)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!log_output_field(buf, &used, &iov[i]))
            return 1;
    if (lo.journal_fd < 0) {
        lo.journal_fd = socket(AF_UNIX,
                               SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (lo.journal_fd < 0)
            return -1;
    }
    do
        r = sendto(lo.journal_fd, buf, used, MSG_DONTWAIT | MSG_NOSIGNAL,
                   (const struct sockaddr *)&sa, sizeof(sa));
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return log_output_drop();
    return errno == EMSGSIZE || errno == ENOBUFS ? 1 : -1;
}

uint64_t
log_output_dropped(void)
{
    return lo.dropped;
}

uint64_t
log_output_unreported(void)
{
    return lo.unreported;
}

void
log_output_reported(uint64_t n)
{
    lo.unreported -= n < lo.unreported ? n : lo.unreported;
}
