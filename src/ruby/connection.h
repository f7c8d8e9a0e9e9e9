/*
 * The owner of one client connection in a worker, from the accepted
 * socket to its close: reading and parsing the head, refusing a bad one
 * (400, 414, 431, ... as the parser says), check_client_connection,
 * handing the request to response_serve(), closing (with a bounded
 * drain of what nobody read), the app's handles on the connection
 * (env["rack.hijack"], env["rack.early_hints"]) and the after-reply
 * callbacks.  worker.c accepts and hands each connection here.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CONNECTION_H
#define PITCHFORK_CONNECTION_H

#include <ruby.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/http_parser.h"
#include "ruby/rack_conn.h"

struct listener;

/* What a worker lends each of its connections in turn: the head buffer
 * (grown as a head needs, up to the header limit) and the parser's
 * header array. */
struct connection_buf {
    char *p;
    size_t cap;
    struct http_header headers[HTTP_DEFAULT_MAX_HEADERS];
};

/* How one connection ended, for the worker. */
enum connection_result {
    CONNECTION_DONE, /* served, refused, or the client went away */
    CONNECTION_EXIT, /* the app raised SystemExit or SignalException */
};

/* The connection being served, NULL between requests. */
extern struct rack_conn *connection_current;

/* The callables the env template carries: env["rack.hijack"] and
 * env["rack.early_hints"]. */
extern VALUE connection_hijack_callable;
extern VALUE connection_early_hints_callable;

/* Define Pitchfork::Hijack and Pitchfork::EarlyHints and their one
 * instance each (at boot).  Raises: call protected. */
void connection_init(void);

/* Allocate b's first head buffer.  Returns 0, or -1 after logging. */
int connection_buf_init(struct connection_buf *b);

/* Free b's head buffer. */
void connection_buf_free(struct connection_buf *b);

/* An empty connection on listener l (index i in the worker's listeners),
 * for accept4() to fill in fd, peer and peerlen. */
void connection_prepare(struct rack_conn *c, const struct listener *l, int i);

/*
 * Serve c, whose fd was just accepted, with app, using b: read the head,
 * answer a bad one, skip a client gone before the app is called (when
 * check_client is set), else response_serve(); then close the socket
 * (unless hijacked) and run the after-reply callbacks.  Every exception
 * is caught and logged.  c->env stays readable afterwards.
 */
enum connection_result connection_serve(struct rack_conn *c,
                                        struct connection_buf *b, VALUE app,
                                        bool check_client);

#endif
