/*
 * The head of a response: the buffer it is built in, the status line with
 * its reason phrase, Date and Connection: close, the app's headers checked
 * (names are tokens, values have no control characters) and appended, and
 * the head's write through rack_io_send.
 *
 * The whole head goes out in one sendmsg(2) with the first body bytes:
 * the callers put response_head_iov() first in their iovec.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/response_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "ruby/pfruby.h"
#include "ruby/rack_conn.h"
#include "ruby/rack_io.h"

static struct {
    ID each;
} id;

/* ---- the head buffer ---------------------------------------------------- */

/* The response head being built: one per process, one response at a
 * time; the bytes live in C memory, so GC cannot move them. */
static struct {
    char *p;
    size_t len, cap;
} hbuf;

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

void
response_head_cat(const char *s, size_t n)
{
    hbuf_reserve(n);
    memcpy(hbuf.p + hbuf.len, s, n);
    hbuf.len += n;
}

void
response_head_field(const char *name, size_t nlen, const char *value,
                    size_t vlen)
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

void
response_head_reset(void)
{
    hbuf.len = 0;
}

struct iovec
response_head_iov(void)
{
    return (struct iovec){hbuf.p, hbuf.len};
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
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        line_len = n > 0 && (size_t)n < sizeof(line) ? (size_t)n : 0;
        cached = now;
    }
    *len = line_len;
    return line;
}

/* Start the head: status line, Date, Connection: close but for a 101,
 * whose Connection field says "upgrade" (response_head_headers). */
void
response_head_begin(int code)
{
    char line[64];
    const char *date;
    size_t dlen;
    int n;

    hbuf.len = 0;
    n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", code,
                 response_reason(code));
    response_head_cat(line, (size_t)n);
    date = response_date(&dlen);
    response_head_cat(date, dlen);
    if (code != 101)
        RESPONSE_HEAD_LIT("Connection: close\r\n");
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

/* One field "name: p[0..len)", refused if the value has a control
 * character. */
static void
head_field(struct head *h, const char *name, size_t nlen, const char *p,
           size_t len)
{
    if (!response_field_value_ok(p, len)) {
        head_refuse(h, "control character in the value of header", name, nlen);
        return;
    }
    response_head_field(name, nlen, p, len);
}

/* Rack 2's "\n"-joined value in [p, end): one field per piece, empty
 * pieces skipped. */
static void
head_split_value(struct head *h, const char *name, size_t nlen, const char *p,
                 const char *end)
{
    while (p < end && !h->bad) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;

        if (e > p)
            head_field(h, name, nlen, p, (size_t)(e - p));
        p = nl != NULL ? nl + 1 : end;
    }
}

/*
 * One value of header name.  Without "\n" it is one field, even empty
 * (RFC 9110 section 5.5 allows an empty field-value; unicorn sends it).
 * With "\n" it is Rack 2's way of repeating a field: one field per piece,
 * and empty pieces are skipped: "a\n\nb" and a trailing "\n" as
 * unicorn's and upstream's split(/\n+/) does, to avoid blank, key-only
 * Set-Cookie fields, and a leading "\n" too (split keeps it as "").
 */
static void
head_value(struct head *h, const char *name, size_t nlen, VALUE v)
{
    const char *p;
    size_t len;

    if (!RB_TYPE_P(v, T_STRING))
        v = rb_obj_as_string(v);
    p = RSTRING_PTR(v);
    len = (size_t)RSTRING_LEN(v);
    if (memchr(p, '\n', len) == NULL)
        head_field(h, name, nlen, p, len);
    else
        head_split_value(h, name, nlen, p, p + len);
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
        VALUE shown = rb_inspect(k); /* may raise: before any C state */

        head_refuse(h, "header name is not a String:", RSTRING_PTR(shown),
                    (size_t)RSTRING_LEN(shown));
        RB_GC_GUARD(shown);
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
    /* Ours, as upstream: Date and Connection: close; a protocol switch
     * (101) sends the app's Connection, RFC 9110 section 7.8. */
    if (response_name_is(name, nlen, "connection")) {
        if (!h->upgrade)
            return true;
        h->has_conn = true;
    } else if (response_name_is(name, nlen, "date")) {
        return true;
    }
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
void
response_head_headers(struct head *h, VALUE headers)
{
    if (RB_TYPE_P(headers, T_HASH))
        rb_hash_foreach(headers, head_hash_i, (VALUE)h);
    else if (!NIL_P(headers))
        rb_block_call(headers, id.each, 0, NULL, head_each_i, (VALUE)h);
    pfruby_asan_landed(); /* rb_iter_break may have jumped here */
    if (h->upgrade && !h->has_conn && !h->bad)
        /* the Connection field that goes with the app's Upgrade */
        RESPONSE_HEAD_LIT("Connection: upgrade\r\n");
}

/* ---- writing ------------------------------------------------------------ */

/* The head is complete: final CRLF, marked as sent by the next write. */
void
response_head_end(struct rack_conn *c)
{
    RESPONSE_HEAD_LIT("\r\n");
    c->head_sent = true;
}

void
response_head_send(struct rack_conn *c, int flags)
{
    struct iovec iov;

    response_head_end(c); /* may move the buffer: take its address after */
    iov = response_head_iov();
    rack_io_send(c, &iov, 1, flags);
}

/* ---- boot --------------------------------------------------------------- */

void
response_head_init(void)
{
    id.each = rb_intern("each");
}
