/*
 * One client connection in a worker, from the accepted socket to its
 * close (see connection.h): a connection handed over empty at the end of
 * TCP_DEFER_ACCEPT closed at once, the head read into the worker's buffer
 * within header_timeout (the whole head, whatever the pace of its bytes)
 * and parsed, a late head answered 408, a bad one with the parser's
 * status, a client gone before the app is called skipped
 * (check_client_connection), the request handed to response_serve(),
 * then the socket shut down, drained of what nobody read and closed, and
 * the after-reply callbacks run.  Full hijack and early hints are the
 * app's two handles on the connection, reached through
 * connection_current.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/connection.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/listeners.h"
#include "core/log.h"
#include "http/http_parser.h"
#include "ruby/pfruby.h"
#include "ruby/rack_env.h"
#include "ruby/rack_input.h"
#include "ruby/rack_io.h"
#include "ruby/response.h"

#define CONNECTION_BUF_INITIAL (16 * 1024)
#define CONNECTION_BUF_SLACK (16 * 1024)   /* body bytes read with a head */
#define CONNECTION_DRAIN_MAX (1024 * 1024) /* unread bytes read at close */

struct rack_conn *connection_current;
VALUE connection_hijack_callable = Qnil;
VALUE connection_early_hints_callable = Qnil;

static struct {
    ID call, close, arity, closed_p;
} id;

/* How reading a head ended. */
enum connection_head {
    CONNECTION_HEAD_PARSED,     /* a complete head with a valid Host */
    CONNECTION_HEAD_CLOSED,     /* the client closed before a byte */
    CONNECTION_HEAD_TRUNCATED,  /* the client closed mid-head */
    CONNECTION_HEAD_TIMEOUT,    /* the deadline passed */
    CONNECTION_HEAD_READ_ERROR, /* read or realloc failed, errno */
    CONNECTION_HEAD_BAD,        /* parse error or bad Host: parser.error */
};

/* ---- the head ----------------------------------------------------------- */

int
connection_buf_init(struct connection_buf *b)
{
    b->cap = CONNECTION_BUF_INITIAL;
    b->p = malloc(b->cap);
    if (b->p == NULL) {
        log_syserr("malloc request buffer");
        return -1;
    }
    return 0;
}

void
connection_buf_free(struct connection_buf *b)
{
    free(b->p);
    b->p = NULL;
}

void
connection_prepare(struct rack_conn *c, const struct listener *l, int i)
{
    *c = (struct rack_conn){.fd = -1,
                            .listener = l,
                            .listener_index = i,
                            .peerlen = sizeof(c->peer),
                            .env = Qnil,
                            .input = Qnil,
                            .io = Qnil,
                            .status = Qnil,
                            .headers = Qnil,
                            .error = Qnil};
}

/* Read and parse until the head is complete and its Host checked; the
 * buffer doubles as needed, up to the header limit plus some slack for
 * body bytes that come with the head. */
static enum connection_head
connection_read_head(struct rack_conn *c, struct connection_buf *b)
{
    size_t limit = c->parser.limits.max_header_bytes + CONNECTION_BUF_SLACK;

    for (;;) {
        ssize_t n;
        int r;

        if (c->len == b->cap) {
            size_t cap = b->cap * 2 > limit ? limit : b->cap * 2;
            char *p;

            if (cap <= b->cap) {
                c->parser.error = HTTP_E_HEADERS_TOO_LARGE;
                return CONNECTION_HEAD_BAD;
            }
            if ((p = realloc(b->p, cap)) == NULL) {
                log_syserr("realloc request buffer to %zu bytes", cap);
                return CONNECTION_HEAD_READ_ERROR;
            }
            b->p = c->buf = p;
            b->cap = cap;
        }
        n = rack_io_read(c->fd, c->buf + c->len, b->cap - c->len);
        if (n == 0)
            return c->len == 0 ? CONNECTION_HEAD_CLOSED
                               : CONNECTION_HEAD_TRUNCATED;
        if (n < 0)
            return errno == ETIMEDOUT ? CONNECTION_HEAD_TIMEOUT
                                      : CONNECTION_HEAD_READ_ERROR;
        c->len += (size_t)n;
        r = http_parser_execute(&c->parser, c->buf, c->len);
        if (r == 1)
            c->parser.error = http_host_check(&c->parser.req, c->buf);
        if (r == 1 && c->parser.error == HTTP_OK)
            return CONNECTION_HEAD_PARSED;
        if (r != 0)
            return CONNECTION_HEAD_BAD;
    }
}

/* Answer a bad head with the status its parser error calls for. */
static void
connection_refuse(struct rack_conn *c)
{
    char esc[512], body[128];
    enum http_error e = c->parser.error;
    int status = http_parser_error_status(e);

    log_escape(esc, sizeof(esc), c->buf, c->len < 120 ? c->len : 120);
    log_info("bad request (%d %s) from a client: \"%s\"", status,
             http_parser_error_str(e), esc);
    snprintf(body, sizeof(body), "%s\n", http_parser_error_str(e));
    response_error(c, status, body);
}

/* TCP_INFO of the connection into *ti; false (logged at debug level)
 * when the kernel would not say. */
static bool
connection_tcp_info(const struct rack_conn *c, struct tcp_info *ti)
{
    socklen_t len = sizeof(*ti);

    if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, ti, &len) < 0) {
        log_sys(LOGL_DEBUG, "getsockopt TCP_INFO");
        return false;
    }
    return true;
}

/*
 * A connection from a listener with TCP_DEFER_ACCEPT that has no byte to
 * read and whose SYN-ACK was sent again: the kernel held it the whole
 * defer period, retransmitting the SYN-ACK, and hands over such a
 * connection when the period ends (Linux 2.6.32 and later).  Its client
 * stayed silent that long: it is not worth a worker's wait.  One
 * accepted at once with no byte and no retransmission came through a
 * SYN cookie (the SYN queue overflowed: the kernel keeps no state to
 * defer with) from a client that may be about to send its request: it
 * gets header_timeout like any other.
 */
static bool
connection_silent(const struct rack_conn *c)
{
    struct tcp_info ti;
    char byte;
    ssize_t n;

    if (c->listener == NULL || c->listener->defer_accept <= 0)
        return false;
    n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        return false;
    return connection_tcp_info(c, &ti) && ti.tcpi_total_retrans > 0;
}

/* The head did not come within header_timeout: a client that sent part
 * of one gets 408 (RFC 9110 section 15.5.9), a silent one is closed. */
static void
connection_head_late(struct rack_conn *c, double header_timeout)
{
    if (c->len == 0) {
        log_debug("closing a connection that sent nothing within "
                  "header_timeout (%g s)",
                  header_timeout);
        return;
    }
    log_info("request head incomplete after header_timeout (%g s, %zu "
             "bytes): 408",
             header_timeout, c->len);
    response_error(c, 408, "Request Timeout\n");
}

/* ---- check_client_connection -------------------------------------------- */

/* A UNIX stream peer that closed its end sets both shutdown bits on ours:
 * poll() reports POLLHUP (a peer that only shut down writing does not). */
static bool
connection_unix_peer_gone(const struct rack_conn *c)
{
    struct pollfd p = {.fd = c->fd, .events = 0};

    if (poll(&p, 1, 0) < 0) {
        log_sys(LOGL_DEBUG, "poll a UNIX client for POLLHUP");
        return false;
    }
    return (p.revents & POLLHUP) != 0;
}

/*
 * check_client_connection: a client that gave up waiting in the listen
 * queue is not worth calling the app for, as upstream does.  A TCP
 * connection is gone when its state is closing (CLOSE_WAIT and later), a
 * UNIX one when its peer closed it.
 */
static bool
connection_client_gone(const struct rack_conn *c)
{
    struct tcp_info ti;

    if (c->listener == NULL)
        return false;
    if (c->listener->family == AF_UNIX)
        return connection_unix_peer_gone(c);
    if (!connection_tcp_info(c, &ti))
        return false;
    switch (ti.tcpi_state) {
    case TCP_CLOSE_WAIT:
    case TCP_TIME_WAIT:
    case TCP_CLOSE:
    case TCP_LAST_ACK:
    case TCP_CLOSING: return true;
    }
    return false;
}

/* ---- the request -------------------------------------------------------- */

struct connection_request {
    struct rack_conn *c;
    struct connection_buf *b;
    const struct connection_opts *o;
    enum connection_result result;
};

/* Every wait of the request from now on gives up at deadline_ns, and the
 * slot shows slot_ns (the monitor's and the soft timeout's deadline). */
static void
connection_deadline(const struct connection_opts *o, int64_t deadline_ns,
                    int64_t slot_ns)
{
    rack_io_set_deadline(deadline_ns);
    o->slot_deadline(o->arg, slot_ns);
}

/* The head phase is over: the rest of the request (body, app, response,
 * or the error answer) has the request timeout from now. */
static void
connection_head_done(const struct connection_opts *o)
{
    int64_t d = clock_now_ns() + (int64_t)(o->timeout * 1e9);

    connection_deadline(o, d, d);
}

/* A parsed head: the app is called unless the client is already gone. */
static void
connection_respond(struct connection_request *rq)
{
    struct rack_conn *c = rq->c;
    size_t tlen = c->parser.req.target.len;

    if (rq->o->check_client && connection_client_gone(c)) {
        log_info("client gone before the app was called: %.*s not served",
                 tlen > 200 ? 200 : (int)tlen,
                 c->buf + c->parser.req.target.off);
        return;
    }
    connection_current = c;
    if (response_serve(c, rq->o->app) == RESPONSE_EXIT)
        rq->result = CONNECTION_EXIT;
}

/* Answer a parsed head, or refuse a bad one, and report how long it took
 * from the head to the last byte written. */
static void
connection_answer(struct connection_request *rq, enum connection_head h)
{
    int64_t start = clock_now_ns();

    if (h == CONNECTION_HEAD_PARSED)
        connection_respond(rq);
    else
        connection_refuse(rq->c);
    if (rq->o->answered != NULL)
        rq->o->answered(rq->o->arg, clock_now_ns() - start);
}

static VALUE
connection_request_body(VALUE arg)
{
    struct connection_request *rq = (struct connection_request *)arg;
    struct rack_conn *c = rq->c;
    enum connection_head h;

    if (connection_silent(c)) {
        log_debug("closing a connection that sent nothing in the %d s of "
                  "TCP_DEFER_ACCEPT on %s",
                  c->listener->defer_accept, c->listener->addr);
        rq->result = CONNECTION_SILENT;
        return Qnil;
    }
    h = connection_read_head(c, rq->b);
    if (h == CONNECTION_HEAD_PARSED || h == CONNECTION_HEAD_BAD ||
        h == CONNECTION_HEAD_TIMEOUT)
        connection_head_done(rq->o);
    switch (h) {
    case CONNECTION_HEAD_PARSED:
    case CONNECTION_HEAD_BAD: connection_answer(rq, h); break;
    case CONNECTION_HEAD_TIMEOUT:
        if (c->len == 0)
            rq->result = CONNECTION_SILENT;
        connection_head_late(c, rq->o->header_timeout);
        break;
    case CONNECTION_HEAD_READ_ERROR:
        log_sys(LOGL_DEBUG, "reading a request head");
        break;
    case CONNECTION_HEAD_TRUNCATED:
        log_debug("client closed the connection mid-head (%zu bytes)", c->len);
        break;
    case CONNECTION_HEAD_CLOSED: rq->result = CONNECTION_SILENT; break;
    }
    return Qnil;
}

/* ---- closing ------------------------------------------------------------ */

/* Read, without waiting, what the client sent and nobody read, so that
 * close(2) does not answer it with a reset that could destroy the
 * response in flight (RFC 9112 section 9.6). */
static void
connection_drain(int fd)
{
    char buf[16384];
    size_t total = 0;

    while (total < CONNECTION_DRAIN_MAX) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break; /* EOF, EAGAIN, or an error: nothing more to do */
    }
}

static VALUE
connection_close_io(VALUE arg)
{
    struct rack_conn *c = (struct rack_conn *)arg;

    if (RTEST(rb_funcall(c->io, id.closed_p, 0)))
        return Qnil; /* the app closed it */
    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        log_sys(LOGL_DEBUG, "shutdown client socket");
    return rb_funcall(c->io, id.close, 0);
}

/* Close c's socket unless hijacked: shutdown, a bounded drain of unread
 * body bytes, close (through the Ruby IO when one was created). */
static void
connection_close(struct rack_conn *c)
{
    VALUE exc;

    if (c->hijacked || c->fd < 0) {
        c->fd = -1;
        return;
    }
    if (!NIL_P(c->io)) {
        pfruby_protect_exc(connection_close_io, (VALUE)c, &exc);
        if (!NIL_P(exc))
            pfruby_log_exception(LOGL_DEBUG, "closing the client socket", exc);
        c->io = Qnil;
        c->fd = -1;
        return;
    }
    /* shutdown: FIN now, even if the app forked a child holding fd. */
    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        log_sys(LOGL_DEBUG, "shutdown client socket");
    if (c->parser.req.framing != HTTP_BODY_NONE &&
        (NIL_P(c->input) || rack_input_unread(c->input)))
        connection_drain(c->fd);
    if (close(c->fd) < 0)
        log_sys(LOGL_DEBUG, "close client socket");
    c->fd = -1;
}

/* ---- after the response ------------------------------------------------- */

struct connection_callback {
    struct rack_conn *c;
    VALUE cb;
};

/* cb.call, or cb.call(env, status, headers, error) (Rack 3) unless its
 * arity is 0 (unicorn-style rack.after_reply lambdas), as upstream. */
static VALUE
connection_callback_run(VALUE arg)
{
    struct connection_callback *k = (struct connection_callback *)arg;
    struct rack_conn *c = k->c;

    if (rb_respond_to(k->cb, id.arity) &&
        NUM2INT(rb_funcall(k->cb, id.arity, 0)) == 0)
        return rb_funcall(k->cb, id.call, 0);
    return rb_funcall(k->cb, id.call, 4, c->env, c->status, c->headers,
                      c->error);
}

static void
connection_callbacks_run(struct rack_conn *c, VALUE list, bool reverse)
{
    VALUE copy, exc;
    long n;

    if (!RB_TYPE_P(list, T_ARRAY))
        return;
    copy = rb_ary_dup(list); /* callbacks may add callbacks */
    n = RARRAY_LEN(copy);
    for (long i = 0; i < n; i++) {
        struct connection_callback k = {c,
                                        RARRAY_AREF(copy,
                                                    reverse ? n - 1 - i : i)};

        pfruby_protect_exc(connection_callback_run, (VALUE)&k, &exc);
        if (!NIL_P(exc))
            pfruby_log_exception(LOGL_ERR, "rack.after_reply error", exc);
    }
    RB_GC_GUARD(copy);
}

static VALUE
connection_finish_lists(VALUE arg)
{
    struct rack_conn *c = (struct rack_conn *)arg;
    VALUE finished = rb_hash_lookup(c->env, rack_env_key_response_finished);
    VALUE after = rb_hash_lookup(c->env, rack_env_key_after_reply);

    /* One array under both names (upstream): reverse registration order
     * (Rack 3.1); an app-replaced after_reply runs in order. */
    connection_callbacks_run(c, finished, true);
    if (after != finished)
        connection_callbacks_run(c, after, false);
    return Qnil;
}

/* After the socket is closed: run the rack.response_finished and
 * rack.after_reply callbacks (each protected, with error as the error
 * unless the app's was kept) and release the input. */
static void
connection_finish(struct rack_conn *c, VALUE error)
{
    VALUE exc;

    if (NIL_P(c->error))
        c->error = error;
    if (RB_TYPE_P(c->env, T_HASH)) {
        pfruby_protect_exc(connection_finish_lists, (VALUE)c, &exc);
        if (!NIL_P(exc))
            pfruby_log_exception(LOGL_ERR, "rack.after_reply", exc);
    }
    rack_input_finish(c->input);
    connection_current = NULL;
}

enum connection_result
connection_serve(struct rack_conn *c, struct connection_buf *b,
                 const struct connection_opts *o)
{
    struct connection_request rq = {c, b, o, CONNECTION_DONE};
    int64_t head = clock_now_ns() + (int64_t)(o->header_timeout * 1e9);
    VALUE exc;

    /* The monitor's timeout must not fire while the head is read: it
     * comes header_timeout + timeout after accept at the earliest. */
    connection_deadline(o, head, head + (int64_t)(o->timeout * 1e9));
    c->buf = b->p;
    http_parser_init(&c->parser, NULL, b->headers);
    pfruby_protect_exc(connection_request_body, (VALUE)&rq, &exc);
    if (!NIL_P(exc))
        pfruby_log_exception(LOGL_ERR, "serving a request", exc);
    connection_close(c);
    connection_finish(c, exc);
    rack_io_set_deadline(0);
    return rq.result;
}

/* ---- the app's handles on the connection -------------------------------- */

/* env["rack.hijack"].call: the socket as an IO, also stored as
 * env["rack.hijack_io"] (Rack 2); from now on the app owns it. */
static VALUE
connection_hijack_call(VALUE self)
{
    struct rack_conn *c = connection_current;
    VALUE io;

    (void)self;
    pfruby_asan_landed();
    if (c == NULL || c->fd < 0)
        rb_raise(rb_eIOError, "rack.hijack called outside of a request");
    if (c->head_sent)
        rb_raise(rb_eIOError, "rack.hijack after the response started");
    io = rack_io_socket(c);
    c->hijacked = true;
    rb_hash_aset(c->env, rack_env_key_hijack_io, io);
    return io;
}

/* env["rack.early_hints"].call(headers): see response_early_hints(). */
static VALUE
connection_early_hints_call(VALUE self, VALUE headers)
{
    struct rack_conn *c = connection_current;

    (void)self;
    pfruby_asan_landed();
    if (c != NULL && c->fd >= 0)
        response_early_hints(c, headers);
    return Qnil;
}

/* The one instance of klass, a class under Pitchfork with a call
 * method; no other can be made. */
static VALUE
connection_callable(VALUE klass)
{
    VALUE obj = rb_obj_alloc(klass);

    rb_undef_alloc_func(klass);
    rb_gc_register_mark_object(obj);
    return obj;
}

void
connection_init(void)
{
    VALUE hijack, hints;

    id.call = rb_intern("call");
    id.close = rb_intern("close");
    id.arity = rb_intern("arity");
    id.closed_p = rb_intern("closed?");
    hijack = rb_define_class_under(pfruby_mPitchfork, "Hijack", rb_cObject);
    rb_define_method(hijack, "call", connection_hijack_call, 0);
    connection_hijack_callable = connection_callable(hijack);
    hints = rb_define_class_under(pfruby_mPitchfork, "EarlyHints", rb_cObject);
    rb_define_method(hints, "call", connection_early_hints_call, 1);
    connection_early_hints_callable = connection_callable(hints);
}
