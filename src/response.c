/*
 * One request's Rack call and the response it produces: env, app.call,
 * status line with reason phrase, validated headers, Date and
 * Connection: close, then the body (Array, to_path with sendfile(2),
 * each, or a Rack 3 streaming body), body.close always (rb_ensure), full
 * and partial hijack, early hints, 100-continue, the after-reply
 * callbacks, and the error responses.
 *
 * Default middleware, done here in C (upstream pitchfork wraps every app
 * in Rack::ContentLength, its Chunked and Rack::TempfileReaper):
 * - an Array body without Content-Length and Transfer-Encoding gets a
 *   Content-Length; so does a to_path body (from fstat);
 * - any other each-body to an HTTP/1.1 client without either header is
 *   sent chunked (RFC 9112 section 7.1);
 * - after body.close, the files in env["rack.tempfiles"] are close!d.
 *
 * The whole head goes out in one sendmsg(2) with the first body bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "rack.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "listeners.h"
#include "log.h"
#include "pfruby.h"

#define BODY_BATCH 64             /* Array body elements per sendmsg */
#define DRAIN_MAX (1024 * 1024)   /* unread request bytes read at close */
#define SENDFILE_MAX (1 << 30)

struct rack_conn *rack_current;
VALUE response_hijack_callable = Qnil;
VALUE response_early_hints_callable = Qnil;

static struct {
    ID call, each, close, to_path, arity, for_fd, closed_p, close_bang;
} id;
static VALUE cTCPSocket = Qnil, cUNIXSocket = Qnil;

/* ---- the head buffer ---------------------------------------------------- */

/* The response head being built: one per process, one response at a
 * time; the bytes live in C memory, so GC cannot move them. */
static struct {
    char *p;
    size_t len, cap;
} hbuf;

/* What the app's headers said. */
struct head {
    bool has_cl;     /* Content-Length given */
    bool cl_valid;   /* ... and a decimal number, in cl */
    uint64_t cl;
    bool has_te;     /* Transfer-Encoding given */
    VALUE hijack;    /* the rack.hijack response header, or Qnil */
    bool bad;        /* an invalid name or value: answer 500 */
    char why[200];   /* what was invalid, escaped */
};

static void
hbuf_reserve(size_t n)
{
    size_t cap = hbuf.cap ? hbuf.cap : 1024;
    char *p;

    if (hbuf.len + n <= hbuf.cap)
        return;
    while (cap < hbuf.len + n)
        cap *= 2;
    p = realloc(hbuf.p, cap);
    if (p == NULL)
        rb_memerror();
    hbuf.p = p;
    hbuf.cap = cap;
}

static void
hbuf_cat(const char *s, size_t n)
{
    hbuf_reserve(n);
    memcpy(hbuf.p + hbuf.len, s, n);
    hbuf.len += n;
}

#define HBUF_LIT(s) hbuf_cat((s), sizeof(s) - 1)

static void
hbuf_field(const char *name, size_t nlen, const char *value, size_t vlen)
{
    hbuf_reserve(nlen + vlen + 4);
    memcpy(hbuf.p + hbuf.len, name, nlen);
    hbuf.len += nlen;
    hbuf.p[hbuf.len++] = ':';
    hbuf.p[hbuf.len++] = ' ';
    memcpy(hbuf.p + hbuf.len, value, vlen);
    hbuf.len += vlen;
    hbuf.p[hbuf.len++] = '\r';
    hbuf.p[hbuf.len++] = '\n';
}

/* ---- status line and Date ----------------------------------------------- */

static const char *
response_reason(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 511: return "Network Authentication Required";
    }
    return ""; /* RFC 9112 section 4: the reason-phrase may be empty */
}

/* "Date: <IMF-fixdate>\r\n" (RFC 9110 section 5.6.7), cached per second. */
static const char *
response_date(size_t *len)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                    "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                        "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec"};
    static char line[64];
    static size_t line_len;
    static time_t cached = (time_t)-1;
    time_t now = time(NULL);
    struct tm tm;

    if (now != cached && gmtime_r(&now, &tm) != NULL) {
        int n = snprintf(line, sizeof(line),
                         "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                         days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                         tm.tm_sec);
        line_len = n > 0 && (size_t)n < sizeof(line) ? (size_t)n : 0;
        cached = now;
    }
    *len = line_len;
    return line;
}

/* Start the head: status line, Date, Connection: close. */
static void
hbuf_begin(int code)
{
    char line[64];
    const char *date;
    size_t dlen;
    int n;

    hbuf.len = 0;
    n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", code,
                 response_reason(code));
    hbuf_cat(line, (size_t)n);
    date = response_date(&dlen);
    hbuf_cat(date, dlen);
    HBUF_LIT("Connection: close\r\n");
}

/* ---- header validation -------------------------------------------------- */

/* tchar of RFC 9110 section 5.6.2. */
static bool
response_tchar(unsigned char ch)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9'))
        return true;
    return ch != '\0' && strchr(extra, ch) != NULL;
}

static bool
response_token(const char *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!response_tchar((unsigned char)p[i]))
            return false;
    return true;
}

/* No control character but HTAB: CR, LF and NUL would split or end the
 * field (RFC 9110 section 5.5). */
static bool
response_field_value_ok(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return false;
    }
    return true;
}

static bool
response_name_is(const char *p, size_t len, const char *lit)
{
    return len == strlen(lit) && strncasecmp(p, lit, len) == 0;
}

static void
head_refuse(struct head *h, const char *what, const char *name, size_t nlen)
{
    char esc[96];

    if (h->bad)
        return;
    h->bad = true;
    log_escape(esc, sizeof(esc), name, nlen < 64 ? nlen : 64);
    snprintf(h->why, sizeof(h->why), "%s \"%s\"", what, esc);
}

/* One value of header name: "\n" separates fields (Rack 2), empty pieces
 * are skipped as upstream does. */
static void
head_value(struct head *h, const char *name, size_t nlen, VALUE v)
{
    const char *p, *end;

    if (!RB_TYPE_P(v, T_STRING))
        v = rb_obj_as_string(v);
    p = RSTRING_PTR(v);
    end = p + RSTRING_LEN(v);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;

        if (e > p) {
            if (!response_field_value_ok(p, (size_t)(e - p))) {
                head_refuse(h, "control character in the value of header",
                            name, nlen);
                return;
            }
            hbuf_field(name, nlen, p, (size_t)(e - p));
        }
        p = nl != NULL ? nl + 1 : end;
    }
    RB_GC_GUARD(v);
}

static void
head_content_length(struct head *h, VALUE v)
{
    const char *p;
    long len;
    uint64_t n = 0;

    h->has_cl = true;
    if (!RB_TYPE_P(v, T_STRING))
        return;
    p = RSTRING_PTR(v);
    len = RSTRING_LEN(v);
    if (len == 0 || len > 19)
        return;
    for (long i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return;
        n = n * 10 + (uint64_t)(p[i] - '0');
    }
    h->cl = n;
    h->cl_valid = true;
}

/* Append the field(s) for one (name, value) pair of the app's headers.
 * Returns false to stop at the first invalid one. */
static bool
head_pair(struct head *h, VALUE k, VALUE v)
{
    const char *name;
    size_t nlen;

    if (!RB_TYPE_P(k, T_STRING)) {
        head_refuse(h, "header name is not a String:", "", 0);
        return false;
    }
    name = RSTRING_PTR(k);
    nlen = (size_t)RSTRING_LEN(k);
    if (nlen > 5 && memcmp(name, "rack.", 5) == 0) {
        if (response_name_is(name, nlen, "rack.hijack"))
            h->hijack = v;
        return true; /* server-side keys, never sent */
    }
    if (!response_token(name, nlen)) {
        head_refuse(h, "invalid header name", name, nlen);
        return false;
    }
    /* Ours, as upstream: Date and Connection: close. */
    if (response_name_is(name, nlen, "date") ||
        response_name_is(name, nlen, "connection"))
        return true;
    if (response_name_is(name, nlen, "content-length"))
        head_content_length(h, v);
    else if (response_name_is(name, nlen, "transfer-encoding"))
        h->has_te = true;
    if (RB_TYPE_P(v, T_ARRAY)) { /* Rack 3: one field per element */
        for (long i = 0; i < RARRAY_LEN(v) && !h->bad; i++)
            head_value(h, name, nlen, RARRAY_AREF(v, i));
    } else {
        head_value(h, name, nlen, v);
    }
    RB_GC_GUARD(k);
    return !h->bad;
}

static int
head_hash_i(VALUE k, VALUE v, VALUE arg)
{
    return head_pair((struct head *)arg, k, v) ? ST_CONTINUE : ST_STOP;
}

static VALUE
head_each_i(RB_BLOCK_CALL_FUNC_ARGLIST(pair, arg))
{
    struct head *h = (struct head *)arg;
    VALUE k, v;

    if (argc == 2) {
        k = argv[0];
        v = argv[1];
    } else {
        pair = rb_check_array_type(pair);
        if (NIL_P(pair) || RARRAY_LEN(pair) != 2) {
            head_refuse(h, "headers#each did not yield pairs", "", 0);
            rb_iter_break();
        }
        k = RARRAY_AREF(pair, 0);
        v = RARRAY_AREF(pair, 1);
    }
    if (!head_pair(h, k, v))
        rb_iter_break();
    return Qnil;
}

/* Append the app's headers (a Hash, or anything with each). */
static void
head_headers(struct head *h, VALUE headers)
{
    if (RB_TYPE_P(headers, T_HASH))
        rb_hash_foreach(headers, head_hash_i, (VALUE)h);
    else if (!NIL_P(headers))
        rb_block_call(headers, id.each, 0, NULL, head_each_i, (VALUE)h);
    pfruby_asan_landed(); /* rb_iter_break may have jumped here */
}

/* ---- writing ------------------------------------------------------------ */

/* Write iov; on failure remember errno (the client went away: later
 * writes are skipped).  Returns false once writing failed. */
static bool
response_send(struct rack_conn *c, struct iovec *iov, int cnt, int flags)
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

/* The head is complete: final CRLF, marked as sent by the next write. */
static void
hbuf_end(struct rack_conn *c)
{
    HBUF_LIT("\r\n");
    c->head_sent = true;
}

static void
response_send_head(struct rack_conn *c, int flags)
{
    struct iovec iov = {hbuf.p, hbuf.len};

    hbuf_end(c);
    iov.iov_len = hbuf.len;
    response_send(c, &iov, 1, flags);
}

static bool
response_no_body_status(int code)
{
    return (code >= 100 && code < 200) || code == 204 || code == 304;
}

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

    hbuf_end(c);
    iov[0] = (struct iovec){hbuf.p, hbuf.len};
    do {
        int cnt = 0, first = i == 0 ? 1 : 0;

        for (; i < n && cnt < BODY_BATCH; i++) {
            keep[cnt] = RARRAY_AREF(ary, i);
            iov[first + cnt] = (struct iovec){RSTRING_PTR(keep[cnt]),
                                              (size_t)RSTRING_LEN(keep[cnt])};
            cnt++;
        }
        if (!response_send(c, iov + 1 - first, cnt + first, 0))
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

    response_send_head(c, f->with_body && f->size > 0 ? MSG_MORE : 0);
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
        hbuf_field("Content-Length", 14, num, strlen(num));
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
        hbuf_end(c);
        iov[cnt++] = (struct iovec){hbuf.p, hbuf.len};
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
    if (!response_send(c, iov, cnt, 0))
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
        HBUF_LIT("Transfer-Encoding: chunked\r\n");
    rb_block_call(body, id.each, 0, NULL, body_each_i, (VALUE)&e);
    pfruby_asan_landed(); /* rb_iter_break may have jumped here */
    if (c->write_errno != 0)
        return;
    if (!c->head_sent) {
        hbuf_end(c);
        iov[cnt++] = (struct iovec){hbuf.p, hbuf.len};
    }
    if (chunked)
        iov[cnt++] = (struct iovec){(void *)"0\r\n\r\n", 5};
    if (cnt > 0)
        response_send(c, iov, cnt, 0);
}

/* ---- the response ------------------------------------------------------- */

/* The status as an int in 100..999, else raises ArgumentError. */
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
    if (code < 100 || code > 999)
        rb_raise(rb_eArgError, "invalid response status %ld", code);
    return (int)code;
}

static bool
response_is_head(const struct rack_conn *c)
{
    const struct http_span m = c->parser.req.method;

    return m.len == 4 && memcmp(c->buf + m.off, "HEAD", 4) == 0;
}

/* Partial hijack: the head, then the app's callable owns the socket. */
static void
response_partial_hijack(struct rack_conn *c, VALUE callable)
{
    response_send_head(c, 0);
    c->hijacked = true;
    rb_funcall(callable, id.call, 1, response_conn_io(c));
}

/* Body kinds, in the order of the Rack SPEC: to_ary, to_path, each,
 * call.  1xx, 204 and 304 have no body and get no framing header (RFC
 * 9110 sections 8.6 and 15); HEAD gets the framing headers of a GET. */
static void
response_body(struct rack_conn *c, struct head *h, int code, VALUE body)
{
    bool with_body = !response_is_head(c);
    VALUE ary;
    uint64_t total;
    char num[32];

    if (response_no_body_status(code)) {
        response_send_head(c, 0);
        return;
    }
    ary = rb_check_array_type(body);
    if (!NIL_P(ary) && body_strings(ary, &total)) {
        if (!h->has_cl && !h->has_te) {
            snprintf(num, sizeof(num), "%llu", (unsigned long long)total);
            hbuf_field("Content-Length", 14, num, strlen(num));
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
            response_send_head(c, 0);
        return;
    }
    if (rb_respond_to(body, id.call)) {
        /* Rack 3 streaming body: close-delimited, on the socket. */
        response_send_head(c, 0);
        if (with_body && c->write_errno == 0)
            rb_funcall(body, id.call, 1, response_conn_io(c));
        return;
    }
    rb_raise(rb_eTypeError, "response body must respond to each or call");
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

/* body.close, then Rack::TempfileReaper's job. */
static VALUE
serve_close_body(VALUE arg)
{
    struct serve *sv = (struct serve *)arg;
    VALUE tempfiles;

    pfruby_asan_landed(); /* an ensure runs while unwinding */
    if (rb_respond_to(sv->body, id.close))
        rb_funcall(sv->body, id.close, 0);
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

/* An interim "100 Continue" the app asked for by returning status 100
 * (the unicorn way); then it is called again. */
static bool
serve_app_continue(struct serve *sv)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct rack_conn *c = sv->c;

    if (!FIXNUM_P(c->status) || FIX2INT(c->status) != 100)
        return false;
    serve_close_body((VALUE)sv);
    if (!c->continue_sent && c->parser.req.version_minor >= 1) {
        c->continue_sent = true;
        if (rack_io_write(c->fd, msg, sizeof(msg) - 1, 0) < 0)
            c->write_errno = errno;
    }
    return true;
}

static VALUE
serve_body(VALUE arg)
{
    struct serve *sv = (struct serve *)arg;
    struct rack_conn *c = sv->c;

    c->env = rack_env_build(c);
    do {
        serve_call(sv);
        if (c->hijacked) { /* full hijack: the app owns the socket */
            serve_close_body(arg);
            return Qnil;
        }
    } while (c->write_errno == 0 && serve_app_continue(sv));
    if (c->write_errno != 0)
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
            response_error(c, 400, "Bad Request\n");
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
    iov[0] = (struct iovec){hbuf.p, hbuf.len};
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
    hbuf.len = 0;
    HBUF_LIT("HTTP/1.1 103 Early Hints\r\n");
    head_headers(&h, headers);
    if (h.bad)
        rb_raise(rb_eArgError, "rack.early_hints: %s", h.why);
    HBUF_LIT("\r\n");
    iov = (struct iovec){hbuf.p, hbuf.len};
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
    id.call = rb_intern("call");
    id.each = rb_intern("each");
    id.close = rb_intern("close");
    id.to_path = rb_intern("to_path");
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
