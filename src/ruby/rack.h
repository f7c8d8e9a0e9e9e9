/*
 * The Rack request path inside a worker, shared by worker.c, rack_env.c,
 * rack_input.c, rack_io.c and response*.c.  One connection is
 * one struct rack_conn on the worker's stack; Ruby objects that outlive it
 * (rack.input, the hijack and early-hints callables) reach it only through
 * rack_current, which is NULL between requests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_RACK_H
#define PITCHFORK_RACK_H

#include <ruby.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "http/http_parser.h"

struct listener;
struct listeners;
struct settings;
struct worker;

/* One accepted connection and its request. */
struct rack_conn {
    int fd;                          /* the client socket, non-blocking */
    const struct listener *listener; /* where it was accepted */
    int listener_index;              /* index in the worker's listeners */
    struct sockaddr_storage peer;    /* from accept4() */
    socklen_t peerlen;
    char *buf;                       /* request bytes read so far */
    size_t len;                      /* bytes in buf */
    struct http_parser parser;       /* parser.req once the head is in */
    VALUE env;                       /* the Rack env, or Qnil */
    VALUE input;                     /* rack.input when a body exists */
    VALUE io;                        /* Ruby socket wrapping fd, or Qnil */
    VALUE status;                    /* response status for callbacks */
    VALUE headers;                   /* response headers for callbacks */
    VALUE error;                     /* the app's exception, or Qnil */
    bool hijacked;                   /* the app owns fd: never touch it */
    bool continue_sent;              /* "100 Continue" was written */
    bool head_sent;                  /* the final response head is out */
    uint64_t bytes_written;          /* response bytes written */
    int write_errno;                 /* first write error, 0 if none */
};

/* The connection being served, NULL between requests. */
extern struct rack_conn *rack_current;

/* ---- rack_io.c: socket waits and writes bounded by the deadline ----- */

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

/* ---- rack_env.c ------------------------------------------------------ */

/* Intern the keys and build the env template (in the mold, at boot). */
int rack_env_init(const struct settings *s);

/* Add this worker's entries (pitchfork.worker, pitchfork.timeout) to the
 * template and intern the names and addresses of ls; in the worker, once. */
void rack_env_worker_init(const struct listeners *ls, VALUE worker_obj,
                          VALUE timeout_obj);

/* Build the env of c's parsed request: a copy of the template plus the
 * request fields and headers.  Raises on allocation failure only. */
VALUE rack_env_build(struct rack_conn *c);

/* Frozen interned keys used by other modules. */
extern VALUE rack_key_hijack_io;     /* "rack.hijack_io" */
extern VALUE rack_key_after_reply;   /* "rack.after_reply" */
extern VALUE rack_key_tempfiles;     /* "rack.tempfiles" */
extern VALUE rack_key_response_finished; /* "rack.response_finished" */
extern VALUE rack_key_http_expect;   /* "HTTP_EXPECT" */

/* ---- rack_input.c ---------------------------------------------------- */

/* Define Pitchfork::StreamInput and Pitchfork::Input (at boot). */
void rack_input_init(const struct settings *s);

/* rack.input for c: a new input when the request has a body, else the
 * shared empty input. */
VALUE rack_input_new(struct rack_conn *c);

/* The request is over: detach input from the connection, release its
 * buffer and temporary file; later reads raise IOError. */
void rack_input_finish(VALUE input);

/* True when input (or the request without an input) left body bytes
 * unread on the socket. */
bool rack_input_unread(VALUE input);

/* For a Pitchfork::HttpParserError exc: the status the request parser
 * gives its error (400, 431 for a trailer section over the limit) and in
 * *reason a static one-line reason; 400 "Bad Request" for one the app
 * raised itself. */
int rack_input_error_status(VALUE exc, const char **reason);

/* ---- response*.c ----------------------------------------------------- */

/* Define the hijack and early-hints callables (at boot). */
void response_init(const struct settings *s);

/* The shared callables put into the env template. */
extern VALUE response_hijack_callable;
extern VALUE response_early_hints_callable; /* Qnil when disabled */

/* Outcome of one request served by response_serve(). */
enum response_result {
    RESPONSE_DONE,  /* served (or the client went away) */
    RESPONSE_EXIT,  /* the app raised SystemExit/SignalException */
};

/*
 * Serve the parsed request of c with app: build the env, call the app,
 * write the response (500 when the app raised before anything was sent),
 * close the body.  Does not close the socket.  Exceptions are caught and
 * logged here.
 */
enum response_result response_serve(struct rack_conn *c, VALUE app);

/* After the socket is closed: run rack.response_finished/after_reply
 * callbacks (each protected) and release the input. */
void response_finish(struct rack_conn *c, VALUE error);

/* Write a complete error response (status, short body) on fd, for
 * requests refused before the app is called. */
void response_error(struct rack_conn *c, int status, const char *body);

/* Close c's socket unless hijacked: shutdown, a bounded drain of unread
 * body bytes, close (through the Ruby IO when one was created). */
void response_close(struct rack_conn *c);

/* Create (once per connection) the Ruby socket object for c->fd. */
VALUE response_conn_io(struct rack_conn *c);

#endif
