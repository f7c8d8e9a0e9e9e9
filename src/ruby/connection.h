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
#include <stdint.h>

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
    CONNECTION_DONE,   /* served, refused, or the client went away */
    CONNECTION_SILENT, /* the client sent nothing: no request to count */
    CONNECTION_EXIT,   /* the app raised SystemExit or SignalException */
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

/* What the worker tells connection_serve() for each connection. */
struct connection_opts {
    VALUE app;
    bool check_client;     /* check_client_connection */
    double header_timeout; /* seconds for the whole head, from accept */
    double timeout;        /* seconds for the rest, from the head's end */
    /* Show deadline_ns (CLOCK_MONOTONIC) in the worker's slot, where the
     * monitor and the soft timeout read it; it only moves earlier once,
     * when the head is in. */
    void (*slot_deadline)(void *arg, int64_t deadline_ns);
    /* A head was answered (the app's response, or a refusal), ns
     * nanoseconds after it was parsed: the request duration histogram. */
    void (*answered)(void *arg, int64_t ns);
    void *arg;
};

/*
 * Serve c, whose fd was just accepted, as o says, using b: close at once
 * a connection that a TCP_DEFER_ACCEPT listener handed over empty (its
 * client stayed silent the whole defer period); read the head within
 * header_timeout (a silent client is then closed, one that sent part of
 * a head answered 408); answer a bad head; skip a client gone before the
 * app is called (when check_client is set), else response_serve() within
 * timeout; then close the socket (unless hijacked) and run the
 * after-reply callbacks.  The slot's deadline is header_timeout +
 * timeout from accept while the head is read, then timeout from the
 * head's end.  Every exception is caught and logged.  c->env stays
 * readable afterwards.  Returns CONNECTION_SILENT when the client sent
 * nothing at all, which the worker does not count as a request.
 */
enum connection_result connection_serve(struct rack_conn *c,
                                        struct connection_buf *b,
                                        const struct connection_opts *o);

#endif
