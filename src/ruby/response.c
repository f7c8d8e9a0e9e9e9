/*
 * One request's Rack call and the response it produces: env, app.call
 * (again after a "100 Continue" the app asked for), the status, the head
 * built by response_head.c and the body sent by response_body.c,
 * body.close always (rb_ensure), full and partial hijack, early hints,
 * the after-reply callbacks, the error responses and closing the socket.
 *
 * Default middleware, done here in C (upstream pitchfork wraps every app
 * in Rack::TempfileReaper): after body.close, the files in
 * env["rack.tempfiles"] are close!d.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/rack.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/listeners.h"
#include "core/log.h"
#include "ruby/pfruby.h"
#include "ruby/response_internal.h"

#define DRAIN_MAX (1024 * 1024)   /* unread request bytes read at close */

struct rack_conn *rack_current;
VALUE response_hijack_callable = Qnil;
VALUE response_early_hints_callable = Qnil;

static struct {
    ID call, close, arity, for_fd, closed_p, close_bang;
} id;
static VALUE cTCPSocket = Qnil, cUNIXSocket = Qnil;

/* ---- the response ------------------------------------------------------- */

/* The final status as an int: 101 (a protocol switch, with hijack) or
 * 200..599.  Any other 1xx is interim (RFC 9110 section 15.2) and cannot
 * end a response, and RFC 9110 section 15 defines no class above 5xx:
 * raises ArgumentError naming the status, which becomes a 500. */
static int
response_status_code(VALUE status)
{
    long code;

    if (FIXNUM_P(status))
        code = FIX2LONG(status);
    else if (RB_TYPE_P(status, T_STRING))
        code = NUM2LONG(rb_str_to_inum(status, 10, 0));
    else
        code = NUM2LONG(rb_funcall(status, rb_intern("to_i"), 0));
    if (code != 101 && (code < 200 || code > 599))
        rb_raise(rb_eArgError, "invalid final response status %ld", code);
    return (int)code;
}

/* Partial hijack: the head, then the app's callable owns the socket. */
static void
response_partial_hijack(struct rack_conn *c, VALUE callable)
{
    response_send_head(c, 0);
    c->hijacked = true;
    rb_funcall(callable, id.call, 1, response_conn_io(c));
}

struct serve {
    struct rack_conn *c;
    VALUE app;
    VALUE res;
    VALUE body;
    bool refused; /* invalid headers: a 500 was sent */
};

static VALUE
serve_write(VALUE arg)
{
    struct serve *sv = (struct serve *)arg;
    struct rack_conn *c = sv->c;
    struct head h = {.hijack = Qnil};
    int code;

    pfruby_asan_landed(); /* the app may have rescued a raise of ours */
    code = response_status_code(c->status);
    h.upgrade = code == 101;
    hbuf_begin(code);
    head_headers(&h, c->headers);
    if (h.bad) {
        log_event(LOGL_ERR, NULL, NULL,
                  "refusing the app's response: %s; answering 500", h.why);
        sv->refused = true;
        response_error(c, 500, "Internal Server Error\n");
        return Qnil;
    }
    if (!NIL_P(h.hijack)) {
        response_partial_hijack(c, h.hijack);
        return Qnil;
    }
    response_body(c, &h, code, sv->body);
    return Qnil;
}

/* body.close, if the body has one.  Raises what close raises. */
static void
serve_close_app_body(VALUE body)
{
    if (rb_respond_to(body, id.close))
        rb_funcall(body, id.close, 0);
}

/* body.close, then Rack::TempfileReaper's job. */
static VALUE
serve_close_body(VALUE arg)
{
    struct serve *sv = (struct serve *)arg;
    VALUE tempfiles;

    pfruby_asan_landed(); /* an ensure runs while unwinding */
    serve_close_app_body(sv->body);
    tempfiles = rb_hash_lookup(sv->c->env, rack_key_tempfiles);
    if (RB_TYPE_P(tempfiles, T_ARRAY)) {
        for (long i = 0; i < RARRAY_LEN(tempfiles); i++)
            rb_funcall(RARRAY_AREF(tempfiles, i), id.close_bang, 0);
    }
    return Qnil;
}

/* app.call(env), checked to be [status, headers, body]. */
static void
serve_call(struct serve *sv)
{
    VALUE res = rb_funcall(sv->app, id.call, 1, sv->c->env);

    sv->res = rb_check_array_type(res);
    if (NIL_P(sv->res) || RARRAY_LEN(sv->res) < 3)
        rb_raise(rb_eTypeError,
                 "the app returned %" PRIsVALUE
                 ", not [status, headers, body]",
                 rb_obj_class(res));
    sv->c->status = RARRAY_AREF(sv->res, 0);
    sv->c->headers = RARRAY_AREF(sv->res, 1);
    sv->body = RARRAY_AREF(sv->res, 2);
}

/* Is status 100?  Without raising: the body is not closed yet. */
static bool
serve_status_is_100(VALUE status)
{
    if (FIXNUM_P(status))
        return FIX2LONG(status) == 100;
    if (RB_TYPE_P(status, T_STRING))
        return rb_str_to_inum(status, 10, 0) == INT2FIX(100);
    return false;
}

/*
 * The app returned 100 to a request with "Expect: 100-continue" (the
 * unicorn way of asking for the body): close that body, write "100
 * Continue" unless it was sent (not to HTTP/1.0, RFC 9110 section 10.1.1)
 * and delete env["HTTP_EXPECT"] so that the app's second call, the last
 * one, knows.  Returns false when the app is not to be called again (no
 * such request, or the client went away); a 100 returned then is refused
 * as a final status by response_status_code.
 */
static bool
serve_app_continue(struct serve *sv)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct rack_conn *c = sv->c;

    if (!c->parser.req.expect_continue || !serve_status_is_100(c->status))
        return false;
    serve_close_app_body(sv->body);
    sv->body = Qnil;
    if (!c->continue_sent && c->parser.req.version_minor >= 1) {
        c->continue_sent = true;
        if (rack_io_write(c->fd, msg, sizeof(msg) - 1, 0) < 0) {
            c->write_errno = errno;
            return false;
        }
    }
    rb_hash_delete(c->env, rack_key_http_expect);
    return true;
}

static VALUE
serve_body(VALUE arg)
{
    struct serve *sv = (struct serve *)arg;
    struct rack_conn *c = sv->c;

    c->env = rack_env_build(c);
    serve_call(sv);
    /* Called once more at most: what that call returns is final. */
    if (!c->hijacked && serve_app_continue(sv))
        serve_call(sv);
    /* A full hijack (the app owns the socket), or the client is gone. */
    if (c->hijacked || c->write_errno != 0)
        return serve_close_body(arg);
    return rb_ensure(serve_write, arg, serve_close_body, arg);
}

/* Is exc the client's doing (gone, slow, malformed body)? */
static bool
serve_client_error(VALUE exc)
{
    static const char *names[] = {"Errno::EPIPE", "Errno::ECONNRESET",
                                  "Errno::ENOTCONN"};

    if (pfruby_exc_is_a(exc, pfruby_eClientShutdown))
        return true;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(rb_obj_classname(exc), names[i]) == 0)
            return true;
    return false;
}

/* Answer a malformed request body with the parser's status (431 for a
 * trailer section over the limit, as for a head) and reason. */
static void
serve_bad_body(struct rack_conn *c, VALUE exc)
{
    const char *reason;
    char body[128];
    int status = rack_input_error_status(exc, &reason);

    snprintf(body, sizeof(body), "%s\n", reason);
    c->status = INT2FIX(status);
    response_error(c, status, body);
}

/* After an exception: log it and answer if nothing was sent yet. */
static void
serve_failed(struct rack_conn *c, VALUE exc)
{
    bool can_answer = !c->head_sent && !c->hijacked && c->write_errno == 0;

    if (serve_client_error(exc)) {
        pfruby_log_exception(LOGL_INFO, "client error", exc);
        return;
    }
    if (pfruby_exc_is_a(exc, pfruby_eHttpParserError)) {
        pfruby_log_exception(LOGL_INFO, "bad request body", exc);
        if (can_answer)
            serve_bad_body(c, exc);
        return;
    }
    pfruby_log_exception(LOGL_ERR, "app error", exc);
    if (can_answer)
        response_error(c, 500, "Internal Server Error\n");
}

enum response_result
response_serve(struct rack_conn *c, VALUE app)
{
    struct serve sv = {c, app, Qnil, Qnil, false};
    VALUE exc;

    rack_current = c;
    pfruby_protect_exc(serve_body, (VALUE)&sv, &exc);
    if (c->write_errno != 0)
        log_debug("client went away while the response was written: %s",
                  strerror(c->write_errno));
    if (NIL_P(exc))
        return RESPONSE_DONE;
    if (!c->head_sent)
        c->status = INT2FIX(500);
    serve_failed(c, exc);
    c->error = exc;
    return pfruby_exc_is_exit(exc) ? RESPONSE_EXIT : RESPONSE_DONE;
}

/* ---- after the response ------------------------------------------------- */

struct callback {
    struct rack_conn *c;
    VALUE cb;
};

/* cb.call, or cb.call(env, status, headers, error) (Rack 3) unless its
 * arity is 0 (unicorn-style rack.after_reply lambdas), as upstream. */
static VALUE
callback_run(VALUE arg)
{
    struct callback *k = (struct callback *)arg;
    struct rack_conn *c = k->c;

    if (rb_respond_to(k->cb, id.arity) &&
        NUM2INT(rb_funcall(k->cb, id.arity, 0)) == 0)
        return rb_funcall(k->cb, id.call, 0);
    return rb_funcall(k->cb, id.call, 4, c->env, c->status, c->headers,
                      c->error);
}

static void
callbacks_run(struct rack_conn *c, VALUE list, bool reverse)
{
    VALUE copy, exc;
    long n;

    if (!RB_TYPE_P(list, T_ARRAY))
        return;
    copy = rb_ary_dup(list); /* callbacks may add callbacks */
    n = RARRAY_LEN(copy);
    for (long i = 0; i < n; i++) {
        struct callback k = {c, RARRAY_AREF(copy, reverse ? n - 1 - i : i)};

        pfruby_protect_exc(callback_run, (VALUE)&k, &exc);
        if (!NIL_P(exc))
            pfruby_log_exception(LOGL_ERR, "rack.after_reply error", exc);
    }
    RB_GC_GUARD(copy);
}

static VALUE
response_finish_lists(VALUE arg)
{
    struct rack_conn *c = (struct rack_conn *)arg;
    VALUE finished = rb_hash_lookup(c->env, rack_key_response_finished);
    VALUE after = rb_hash_lookup(c->env, rack_key_after_reply);

    /* One array under both names (upstream): reverse registration order
     * (Rack 3.1); an app-replaced after_reply runs in order. */
    callbacks_run(c, finished, true);
    if (after != finished)
        callbacks_run(c, after, false);
    return Qnil;
}

void
response_finish(struct rack_conn *c, VALUE error)
{
    VALUE exc;

    if (NIL_P(c->error))
        c->error = error;
    if (RB_TYPE_P(c->env, T_HASH)) {
        pfruby_protect_exc(response_finish_lists, (VALUE)c, &exc);
        if (!NIL_P(exc))
            pfruby_log_exception(LOGL_ERR, "rack.after_reply", exc);
    }
    rack_input_finish(c->input);
    rack_current = NULL;
}

/* ---- error responses ---------------------------------------------------- */

void
response_error(struct rack_conn *c, int status, const char *body)
{
    char num[32];
    size_t blen = strlen(body);
    struct iovec iov[2];

    hbuf_begin(status);
    HBUF_LIT("Content-Type: text/plain\r\n");
    snprintf(num, sizeof(num), "%zu", blen);
    hbuf_field("Content-Length", 14, num, strlen(num));
    hbuf_end(c);
    iov[0] = hbuf_iov();
    iov[1] = (struct iovec){(void *)body, blen};
    response_send(c, iov, 2, 0);
}

/* ---- closing ------------------------------------------------------------ */

/* Read, without waiting, what the client sent and nobody read, so that
 * close(2) does not answer it with a reset that could destroy the
 * response in flight (RFC 9112 section 9.6). */
static void
response_drain(int fd)
{
    char buf[16384];
    size_t total = 0;

    while (total < DRAIN_MAX) {
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
response_close_io(VALUE arg)
{
    struct rack_conn *c = (struct rack_conn *)arg;

    if (RTEST(rb_funcall(c->io, id.closed_p, 0)))
        return Qnil; /* the app closed it */
    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        log_sys(LOGL_DEBUG, "shutdown client socket");
    return rb_funcall(c->io, id.close, 0);
}

void
response_close(struct rack_conn *c)
{
    VALUE exc;

    if (c->hijacked || c->fd < 0) {
        c->fd = -1;
        return;
    }
    if (!NIL_P(c->io)) {
        pfruby_protect_exc(response_close_io, (VALUE)c, &exc);
        if (!NIL_P(exc))
            pfruby_log_exception(LOGL_DEBUG, "closing the client socket",
                                 exc);
        c->io = Qnil;
        c->fd = -1;
        return;
    }
    /* shutdown: FIN now, even if the app forked a child holding fd. */
    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        log_sys(LOGL_DEBUG, "shutdown client socket");
    if (c->parser.req.framing != HTTP_BODY_NONE &&
        (NIL_P(c->input) || rack_input_unread(c->input)))
        response_drain(c->fd);
    if (close(c->fd) < 0)
        log_sys(LOGL_DEBUG, "close client socket");
    c->fd = -1;
}

/* ---- the socket as a Ruby IO -------------------------------------------- */

VALUE
response_conn_io(struct rack_conn *c)
{
    VALUE klass;

    if (!NIL_P(c->io))
        return c->io;
    klass = c->listener != NULL && c->listener->family == AF_UNIX
                ? cUNIXSocket
                : cTCPSocket;
    c->io = rb_funcall(klass, id.for_fd, 1, INT2NUM(c->fd));
    return c->io;
}

/* ---- rack.hijack -------------------------------------------------------- */

/* env["rack.hijack"].call: the socket as an IO, also stored as
 * env["rack.hijack_io"] (Rack 2); from now on the app owns it. */
static VALUE
hijack_call(VALUE self)
{
    struct rack_conn *c = rack_current;
    VALUE io;

    (void)self;
    pfruby_asan_landed();
    if (c == NULL || c->fd < 0)
        rb_raise(rb_eIOError, "rack.hijack called outside of a request");
    if (c->head_sent)
        rb_raise(rb_eIOError, "rack.hijack after the response started");
    io = response_conn_io(c);
    c->hijacked = true;
    rb_hash_aset(c->env, rack_key_hijack_io, io);
    return io;
}

/* ---- rack.early_hints --------------------------------------------------- */

/* env["rack.early_hints"].call(headers): a "103 Early Hints" interim
 * response (RFC 8297), not to HTTP/1.0 clients (RFC 9110 section 15.2). */
static VALUE
early_hints_call(VALUE self, VALUE headers)
{
    struct rack_conn *c = rack_current;
    struct head h = {.hijack = Qnil};
    struct iovec iov;

    (void)self;
    pfruby_asan_landed();
    if (c == NULL || c->fd < 0 || c->head_sent || c->hijacked ||
        c->write_errno != 0 || c->parser.req.version_minor < 1)
        return Qnil;
    hbuf_reset();
    HBUF_LIT("HTTP/1.1 103 Early Hints\r\n");
    head_headers(&h, headers);
    if (h.bad)
        rb_raise(rb_eArgError, "rack.early_hints: %s", h.why);
    HBUF_LIT("\r\n");
    iov = hbuf_iov();
    response_send(c, &iov, 1, 0);
    return Qnil;
}

/* ---- boot --------------------------------------------------------------- */

/* A class under Pitchfork with a call method and its one instance. */
static VALUE
response_callable(VALUE klass)
{
    VALUE obj = rb_obj_alloc(klass);

    rb_undef_alloc_func(klass);
    rb_gc_register_mark_object(obj);
    return obj;
}

void
response_init(const struct settings *s)
{
    VALUE hijack, hints;

    (void)s;
    response_head_init();
    response_body_init();
    id.call = rb_intern("call");
    id.close = rb_intern("close");
    id.arity = rb_intern("arity");
    id.for_fd = rb_intern("for_fd");
    id.closed_p = rb_intern("closed?");
    id.close_bang = rb_intern("close!");
    cTCPSocket = rb_path2class("TCPSocket");
    cUNIXSocket = rb_path2class("UNIXSocket");
    rb_gc_register_mark_object(cTCPSocket);
    rb_gc_register_mark_object(cUNIXSocket);
    hijack = rb_define_class_under(pfruby_mPitchfork, "Hijack", rb_cObject);
    rb_define_method(hijack, "call", hijack_call, 0);
    response_hijack_callable = response_callable(hijack);
    hints = rb_define_class_under(pfruby_mPitchfork, "EarlyHints",
                                  rb_cObject);
    rb_define_method(hints, "call", early_hints_call, 1);
    response_early_hints_callable = response_callable(hints);
}
