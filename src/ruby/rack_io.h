/*
 * Socket I/O of the request path, bounded by the request's deadline:
 * waits without the GVL, reads, writes, the response's writes that
 * remember the first error, and the client socket as a Ruby IO.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_RACK_IO_H
#define PITCHFORK_RACK_IO_H

#include <ruby.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct rack_conn;

/* Look up the socket classes rack_io_socket() needs (at boot).  Raises:
 * call protected. */
void rack_io_init(void);

/* Set the deadline of the request being served (CLOCK_MONOTONIC ns, 0 for
 * none).  Every wait in rack_io_* gives up with ETIMEDOUT after it. */
void rack_io_set_deadline(int64_t deadline_ns);
int64_t rack_io_deadline(void);

/*
 * Wait until fd is ready for events (POLLIN/POLLOUT) without the GVL.
 * Returns 0, or -1 with errno ETIMEDOUT (deadline) or a poll
 * error.  May raise a pending Ruby interrupt (Thread#raise); callers must
 * not own unprotected resources.
 */
int rack_io_wait(int fd, short events);

/* read(2) of at most len bytes, waiting as above.  Returns bytes, 0 on
 * EOF, -1 with errno. */
ssize_t rack_io_read(int fd, void *buf, size_t len);

/* Write every byte of iov[0..cnt) (modified), waiting as above.  Returns
 * 0, or -1 with errno (EPIPE, ECONNRESET, ETIMEDOUT, ...). */
int rack_io_writev(int fd, struct iovec *iov, int cnt, int flags);

/* Same for one buffer. */
int rack_io_write(int fd, const void *buf, size_t len, int flags);

/* Write iov to c's client, counting c->bytes_written; on failure remember
 * errno in c->write_errno (the client went away: later writes are
 * skipped).  Returns false once writing failed. */
bool rack_io_send(struct rack_conn *c, struct iovec *iov, int cnt, int flags);

/* c's client socket as a TCPSocket or UNIXSocket (created once per
 * connection, kept in c->io).  Raises. */
VALUE rack_io_socket(struct rack_conn *c);

#endif
