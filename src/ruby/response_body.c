/*
 * The body of a response, by the kinds of the Rack SPEC: an Array of
 * Strings (sent in batches, one sendmsg(2) per BODY_BATCH elements), a
 * to_path body (sendfile(2)), an each body, or a Rack 3 streaming body
 * (call, on the socket).
 *
 * Default middleware, done here in C (upstream pitchfork wraps every app
 * in Rack::ContentLength and its Chunked):
 * - an Array body without Content-Length and Transfer-Encoding gets a
 *   Content-Length; so does a to_path body (from fstat);
 * - any other each-body to an HTTP/1.1 client without either header is
 *   sent chunked (RFC 9112 section 7.1).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/response_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "ruby/pfruby.h"
#include "ruby/rack_conn.h"
#include "ruby/rack_io.h"

#define BODY_BATCH 64 /* Array body elements per sendmsg */
#define SENDFILE_MAX (1 << 30)

static struct {
    ID call, each, to_path;
} id;

/* ---- Array bodies ------------------------------------------------------- */

/* True when every element is a String (else the each path converts). */
static bool
body_strings(VALUE ary, uint64_t *total)
{
    *total = 0;
    for (long i = 0; i < RARRAY_LEN(ary); i++) {
        VALUE s = RARRAY_AREF(ary, i);

        if (!RB_TYPE_P(s, T_STRING))
            return false;
        *total += (uint64_t)RSTRING_LEN(s);
    }
    return true;
}

/* Head and elements in batches of BODY_BATCH per sendmsg.  The batch's
 * VALUEs sit in a stack array so that GC.compact in another thread
 * (during a wait) cannot move them. */
static void
body_write_array(struct rack_conn *c, VALUE ary, bool with_body)
{
    struct iovec iov[BODY_BATCH + 1];
    VALUE keep[BODY_BATCH];
    long n = with_body ? RARRAY_LEN(ary) : 0, i = 0;

    response_head_end(c);
    iov[0] = response_head_iov();
    do {
        int cnt = 0, first = i == 0 ? 1 : 0;

        for (; i < n && cnt < BODY_BATCH; i++) {
            keep[cnt] = RARRAY_AREF(ary, i);
            iov[first + cnt] = (struct iovec){RSTRING_PTR(keep[cnt]),
                                              (size_t)RSTRING_LEN(keep[cnt])};
            cnt++;
        }
        if (!rack_io_send(c, iov + 1 - first, cnt + first, 0))
            return;
        RB_GC_GUARD(keep[0]);
    } while (i < n);
}

/* ---- to_path bodies ----------------------------------------------------- */

struct file_send {
    struct rack_conn *c;
    int fd;
    off_t size;
    bool with_body;
};

static VALUE
file_send_body(VALUE arg)
{
    struct file_send *f = (struct file_send *)arg;
    struct rack_conn *c = f->c;
    off_t off = 0;

    response_head_send(c, f->with_body && f->size > 0 ? MSG_MORE : 0);
    if (!f->with_body)
        return Qnil;
    while (off < f->size && c->write_errno == 0) {
        size_t want = (size_t)(f->size - off) > SENDFILE_MAX
                          ? SENDFILE_MAX
                          : (size_t)(f->size - off);
        ssize_t n = sendfile(c->fd, f->fd, &off, want);

        if (n > 0) {
            c->bytes_written += (uint64_t)n;
            continue;
        }
        if (n == 0) {
            log_warn("to_path file shrank while it was sent (%lld of %lld "
                     "bytes)",
                     (long long)off, (long long)f->size);
            c->write_errno = EIO;
        } else if (errno == EAGAIN) {
            if (rack_io_wait(c->fd, POLLOUT) < 0)
                c->write_errno = errno;
        } else if (errno != EINTR) {
            c->write_errno = errno;
        }
    }
    return Qnil;
}

static VALUE
file_send_close(VALUE arg)
{
    struct file_send *f = (struct file_send *)arg;

    pfruby_asan_landed(); /* an ensure runs while unwinding */
    if (close(f->fd) < 0)
        log_syswarn("close to_path file");
    return Qnil;
}

/*
 * Send body.to_path with sendfile(2) when it names a regular file whose
 * size matches the Content-Length (when there is one).  Returns false,
 * with nothing written, when the each path must be used instead.
 */
static bool
body_write_file(struct rack_conn *c, struct head *h, VALUE body,
                bool with_body)
{
    VALUE path = rb_get_path(rb_funcall(body, id.to_path, 0));
    struct file_send f = {c, -1, 0, with_body};
    struct stat st;
    char num[32];

    f.fd = open(StringValueCStr(path), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (f.fd < 0) {
        log_debug("to_path %s: %s, using each", RSTRING_PTR(path),
                  strerror(errno));
        return false;
    }
    if (fstat(f.fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (h->has_cl && (!h->cl_valid || h->cl != (uint64_t)st.st_size))) {
        if (close(f.fd) < 0)
            log_syswarn("close to_path file");
        return false;
    }
    f.size = st.st_size;
    if (!h->has_cl && !h->has_te) {
        snprintf(num, sizeof(num), "%lld", (long long)st.st_size);
        response_head_field("Content-Length", 14, num, strlen(num));
    }
    rb_ensure(file_send_body, (VALUE)&f, file_send_close, (VALUE)&f);
    RB_GC_GUARD(path);
    return true;
}

/* ---- each bodies -------------------------------------------------------- */

struct each_send {
    struct rack_conn *c;
    bool chunked;
};

static VALUE
body_each_i(RB_BLOCK_CALL_FUNC_ARGLIST(chunk, arg))
{
    struct each_send *e = (struct each_send *)arg;
    struct rack_conn *c = e->c;
    struct iovec iov[4];
    char size_line[24];
    int cnt = 0;

    (void)argc;
    (void)argv;
    StringValue(chunk);
    if (RSTRING_LEN(chunk) == 0)
        return Qnil; /* an empty chunk would end a chunked body */
    if (!c->head_sent) {
        response_head_end(c);
        iov[cnt++] = response_head_iov();
    }
    if (e->chunked) {
        int n = snprintf(size_line, sizeof(size_line), "%lx\r\n",
                         (unsigned long)RSTRING_LEN(chunk));
        iov[cnt++] = (struct iovec){size_line, (size_t)n};
    }
    iov[cnt++] = (struct iovec){RSTRING_PTR(chunk),
                                (size_t)RSTRING_LEN(chunk)};
    if (e->chunked)
        iov[cnt++] = (struct iovec){(void *)"\r\n", 2};
    if (!rack_io_send(c, iov, cnt, 0))
        rb_iter_break(); /* the client is gone: stop iterating */
    RB_GC_GUARD(chunk);
    return Qnil;
}

static void
body_write_each(struct rack_conn *c, VALUE body, bool chunked)
{
    struct each_send e = {c, chunked};
    struct iovec iov[2];
    int cnt = 0;

    if (chunked)
        RESPONSE_HEAD_LIT("Transfer-Encoding: chunked\r\n");
    rb_block_call(body, id.each, 0, NULL, body_each_i, (VALUE)&e);
    pfruby_asan_landed(); /* rb_iter_break may have jumped here */
    if (c->write_errno != 0)
        return;
    if (!c->head_sent) {
        response_head_end(c);
        iov[cnt++] = response_head_iov();
    }
    if (chunked)
        iov[cnt++] = (struct iovec){(void *)"0\r\n\r\n", 5};
    if (cnt > 0)
        rack_io_send(c, iov, cnt, 0);
}

/* ---- the body ----------------------------------------------------------- */

static bool
response_no_body_status(int code)
{
    return (code >= 100 && code < 200) || code == 204 || code == 304;
}

static bool
response_is_head(const struct rack_conn *c)
{
    const struct http_span m = c->parser.req.method;

    return m.len == 4 && memcmp(c->buf + m.off, "HEAD", 4) == 0;
}

/* Body kinds, in the order of the Rack SPEC: to_ary, to_path, each,
 * call.  1xx, 204 and 304 have no body and get no framing header (RFC
 * 9110 sections 8.6 and 15); HEAD gets the framing headers of a GET. */
void
response_body(struct rack_conn *c, struct head *h, int code, VALUE body)
{
    bool with_body = !response_is_head(c);
    VALUE ary;
    uint64_t total;
    char num[32];

    if (response_no_body_status(code)) {
        response_head_send(c, 0);
        return;
    }
    ary = rb_check_array_type(body);
    if (!NIL_P(ary) && body_strings(ary, &total)) {
        if (!h->has_cl && !h->has_te) {
            snprintf(num, sizeof(num), "%llu", (unsigned long long)total);
            response_head_field("Content-Length", 14, num, strlen(num));
        }
        body_write_array(c, ary, with_body);
        return;
    }
    if (rb_respond_to(body, id.to_path) &&
        body_write_file(c, h, body, with_body))
        return;
    if (rb_respond_to(body, id.each)) {
        bool chunked = with_body && !h->has_cl && !h->has_te &&
                       c->parser.req.version_minor >= 1;

        if (with_body)
            body_write_each(c, body, chunked);
        else
            response_head_send(c, 0);
        return;
    }
    if (rb_respond_to(body, id.call)) {
        /* Rack 3 streaming body: close-delimited, on the socket. */
        response_head_send(c, 0);
        if (with_body && c->write_errno == 0)
            rb_funcall(body, id.call, 1, rack_io_socket(c));
        return;
    }
    rb_raise(rb_eTypeError, "response body must respond to each or call");
}

/* ---- boot --------------------------------------------------------------- */

void
response_body_init(void)
{
    id.call = rb_intern("call");
    id.each = rb_intern("each");
    id.to_path = rb_intern("to_path");
}
