/*
 * One request's Rack call and the response it produces: env, app.call
 * (again after a "100 Continue" the app asked for), the status, the head
 * built by response_head.c and the body sent by response_body.c,
 * body.close always (rb_ensure), partial hijack, early hints, and the
 * short error responses (the app's 500, a bad body's 400 or 431, and
 * those connection.c answers a bad head with).
 *
 * Default middleware, done here in C (upstream pitchfork wraps every app
 * in Rack::TempfileReaper): after body.close, the files in
 * env["rack.tempfiles"] are close!d.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/response.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "ruby/pfruby.h"
#include "ruby/rack_conn.h"
#include "ruby/rack_env.h"
#include "ruby/rack_input.h"
#include "ruby/rack_io.h"
#include "ruby/response_internal.h"

static struct {
    ID call, close, close_bang;
} id;

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
    response_head_send(c, 0);
    c->hijacked = true;
    rb_funcall(callable, id.call, 1, rack_io_socket(c));
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
    response_head_begin(code);
    response_head_headers(&h, c->headers);
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
    tempfiles = rb_hash_lookup(sv->c->env, rack_env_key_tempfiles);
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
    rb_hash_delete(c->env, rack_env_key_http_expect);
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

/* ---- error responses ---------------------------------------------------- */

void
response_error(struct rack_conn *c, int status, const char *body)
{
    char num[32];
    size_t blen = strlen(body);
    struct iovec iov[2];

    response_head_begin(status);
    RESPONSE_HEAD_LIT("Content-Type: text/plain\r\n");
    snprintf(num, sizeof(num), "%zu", blen);
    response_head_field("Content-Length", 14, num, strlen(num));
    response_head_end(c);
    iov[0] = response_head_iov();
    iov[1] = (struct iovec){(void *)body, blen};
    rack_io_send(c, iov, 2, 0);
}

/* ---- early hints -------------------------------------------------------- */

void
response_early_hints(struct rack_conn *c, VALUE headers)
{
    struct head h = {.hijack = Qnil};
    struct iovec iov;

    if (c->head_sent || c->hijacked || c->write_errno != 0 ||
        c->parser.req.version_minor < 1)
        return;
    response_head_reset();
    RESPONSE_HEAD_LIT("HTTP/1.1 103 Early Hints\r\n");
    response_head_headers(&h, headers);
    if (h.bad)
        rb_raise(rb_eArgError, "rack.early_hints: %s", h.why);
    RESPONSE_HEAD_LIT("\r\n");
    iov = response_head_iov();
    rack_io_send(c, &iov, 1, 0);
}

/* ---- boot --------------------------------------------------------------- */

void
response_init(void)
{
    response_head_init();
    response_body_init();
    id.call = rb_intern("call");
    id.close = rb_intern("close");
    id.close_bang = rb_intern("close!");
}
