/*
 * Unit tests of the HTTP request-head parser and of the chunked decoder
 * (src/http_parser.rl): every field of the result, every error kind, the
 * limits, and that any split of the input into calls, with the buffer
 * moving between calls, gives the result of one call.  Inputs sit in
 * buffers of their exact size (for ASan) or before a PROT_NONE page, to
 * prove that nothing is read past the bytes given.
 *
 * SPDX-License-Identifier: MIT
 */
#include "http/http_parser.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NHEADERS HTTP_MAX_HEADERS_CAP
#define NOLIMITS ((const struct http_limits *)NULL)
/* The members of a struct input with NUL bytes: {BIN("a\0b")}. */
#define BIN(lit) lit, sizeof(lit) - 1

/* What one parse gave; req.headers points into headers. */
struct outcome {
    int rc;
    enum http_error error;
    struct http_request req;
    struct http_header headers[NHEADERS];
};

/* A test input: s[0..n), n = strlen(s) unless given (for NUL bytes). */
struct input {
    const char *s;
    size_t n;
};

static size_t
input_len(const struct input *in)
{
    return in->n != 0 ? in->n : strlen(in->s);
}

/* A copy of s[0..n) in a buffer of exactly n bytes. */
static char *
dup_exact(const char *s, size_t n)
{
    char *b = malloc(n != 0 ? n : 1);

    if (b == NULL)
        bail("out of memory");
    memcpy(b, s, n);
    return b;
}

/* prefix + n copies of fill + suffix, malloc'd and NUL-terminated. */
static char *
make_long(const char *prefix, char fill, size_t n, const char *suffix)
{
    size_t a = strlen(prefix), c = strlen(suffix);
    char *s = malloc(a + n + c + 1);

    if (s == NULL)
        bail("out of memory");
    memcpy(s, prefix, a);
    memset(s + a, fill, n);
    memcpy(s + a + n, suffix, c + 1);
    return s;
}

static void
outcome_begin(struct outcome *o, struct http_parser *p,
              const struct http_limits *lim)
{
    memset(o, 0, sizeof(*o));
    http_parser_init(p, lim, o->headers);
}

static void
outcome_end(struct outcome *o, const struct http_parser *p, int rc)
{
    o->rc = rc;
    o->error = p->error;
    o->req = p->req;
}

/* Parse s[0..n) in one call. */
static void
parse_once(const char *s, size_t n, const struct http_limits *lim,
           struct outcome *o)
{
    struct http_parser p;
    char *b = dup_exact(s, n);

    outcome_begin(o, &p, lim);
    outcome_end(o, &p, http_parser_execute(&p, b, n));
    free(b);
}

/*
 * Parse s[0..n) as the growing prefixes cuts[0] < ... < cuts[ncuts-1],
 * the last being n; each call gets a new buffer, as after realloc.
 */
static void
parse_cuts(const char *s, const size_t *cuts, size_t ncuts,
           const struct http_limits *lim, struct outcome *o)
{
    struct http_parser p;
    int rc = 0;
    size_t i;

    outcome_begin(o, &p, lim);
    for (i = 0; i < ncuts; i++) {
        char *b = dup_exact(s, cuts[i]);

        rc = http_parser_execute(&p, b, cuts[i]);
        free(b);
    }
    outcome_end(o, &p, rc);
}

static bool
same_span(struct http_span x, struct http_span y)
{
    return x.off == y.off && x.len == y.len;
}

/* Same return and error; on success, same result in every field. */
static bool
same_outcome(const struct outcome *a, const struct outcome *b)
{
    const struct http_request *x = &a->req, *y = &b->req;
    size_t i;

    if (a->rc != b->rc || a->error != b->error)
        return false;
    if (a->rc != 1)
        return true;
    if (!same_span(x->method, y->method) || !same_span(x->target, y->target) ||
        !same_span(x->scheme, y->scheme) ||
        !same_span(x->authority, y->authority) ||
        !same_span(x->path, y->path) || !same_span(x->query, y->query))
        return false;
    if (x->version_major != y->version_major ||
        x->version_minor != y->version_minor || x->nheaders != y->nheaders ||
        x->framing != y->framing || x->content_length != y->content_length ||
        x->expect_continue != y->expect_continue || x->head_len != y->head_len)
        return false;
    for (i = 0; i < x->nheaders; i++)
        if (!same_span(x->headers[i].name, y->headers[i].name) ||
            !same_span(x->headers[i].value, y->headers[i].value))
            return false;
    return true;
}

/*
 * Check that every split of s[0..n) into two calls, and feeding it byte
 * by byte, gives the one-call result.  Two assertions.
 */
static void
test_splits(const char *what, const char *s, size_t n,
            const struct http_limits *lim)
{
    static struct outcome once, other;
    size_t *cuts = malloc((n + 1) * sizeof(*cuts));
    size_t k, bad = 0;

    if (cuts == NULL)
        bail("out of memory");
    parse_once(s, n, lim, &once);
    for (k = 1; k < n; k++) {
        size_t two[2] = {k, n};

        parse_cuts(s, two, 2, lim, &other);
        if (!same_outcome(&once, &other) && bad++ == 0)
            diag("%s: split at %zu: rc %d error %d, one call: rc %d "
                 "error %d",
                 what, k, other.rc, other.error, once.rc, once.error);
    }
    ok(bad == 0, "%s: every split point", what);
    for (k = 0; k < n; k++)
        cuts[k] = k + 1;
    parse_cuts(s, cuts, n, lim, &other);
    ok(same_outcome(&once, &other), "%s: byte by byte", what);
    free(cuts);
}

/* is_str() on the bytes of a span. */
static bool
is_span(const char *buf, struct http_span sp, const char *want,
        const char *what, const char *field)
{
    char got[256];
    size_t n = sp.len < sizeof(got) - 1 ? sp.len : sizeof(got) - 1;

    memcpy(got, buf + sp.off, n);
    got[n] = '\0';
    return is_str(got, want, "%s: %s", what, field);
}

/* A request that must parse, and what it must give. */
struct valid {
    const char *what;
    const char *text;
    const char *method, *target, *scheme, *authority, *path, *query;
    int minor;
    enum http_framing framing;
    uint64_t content_length;
    bool expect_continue;
    size_t body;                /* bytes of text after the head */
    const struct field *fields; /* up to {NULL, NULL}, or NULL */
};

/* An expected field line. */
struct field {
    const char *name, *value;
};

static const struct field curl_fields[] = {
    {"Host", "localhost:8080"},
    {"User-Agent", "curl/7.88.1"},
    {"Accept", "*/*"},
    {NULL, NULL},
};
static const struct field ows_fields[] = {
    {"Host", "h"}, {"X-Pad", "a  b"},        {"X-Tab", "c"}, {"X-Empty", ""},
    {"X-Ws", ""},  {"X-Obs", "caf\xc3\xa9"}, {NULL, NULL},
};
static const struct field post_fields[] = {
    {"Host", "api.example.com"},
    {"Content-Type", "application/json"},
    {"Content-Length", "13"},
    {"Expect", "100-Continue"},
    {NULL, NULL},
};

static const struct valid valids[] = {
    {"curl GET",
     "GET /index.html HTTP/1.1\r\nHost: localhost:8080\r\n"
     "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
     "GET", "/index.html", "", "", "/index.html", "", 1, HTTP_BODY_NONE, 0,
     false, 0, curl_fields},
    {"query and fragment", "GET /a/b?x=1&y=%20|^{}#frag HTTP/1.1\r\n\r\n",
     "GET", "/a/b?x=1&y=%20|^{}#frag", "", "", "/a/b", "x=1&y=%20|^{}", 1,
     HTTP_BODY_NONE, 0, false, 0, NULL},
    {"fragment without query", "GET /p#a?b HTTP/1.1\r\n\r\n", "GET", "/p#a?b",
     "", "", "/p", "", 1, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"empty query", "GET /p? HTTP/1.1\r\n\r\n", "GET", "/p?", "", "", "/p", "",
     1, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"absolute-form", "GET http://example.com:8080/p/q?x=y#f HTTP/1.1\r\n\r\n",
     "GET", "http://example.com:8080/p/q?x=y#f", "http", "example.com:8080",
     "/p/q", "x=y", 1, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"absolute-form without path",
     "GET https://example.com?q HTTP/1.1\r\n\r\n", "GET",
     "https://example.com?q", "https", "example.com", "", "q", 1,
     HTTP_BODY_NONE, 0, false, 0, NULL},
    {"absolute-form IPv6", "HEAD http://[::1]:80 HTTP/1.0\r\n\r\n", "HEAD",
     "http://[::1]:80", "http", "[::1]:80", "", "", 0, HTTP_BODY_NONE, 0,
     false, 0, NULL},
    {"asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*",
     "", "", "*", "", 1, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"HTTP/1.0 and empty lines first", "\r\n\r\nGET / HTTP/1.0\r\n\r\n", "GET",
     "/", "", "", "/", "", 0, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"HTTP/1.2 read as 1.1", "GET / HTTP/1.2\r\n\r\n", "GET", "/", "", "", "/",
     "", 1, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"extension method", "M-SEARCH /x HTTP/1.1\r\n\r\n", "M-SEARCH", "/x", "",
     "", "/x", "", 1, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"OWS trimmed",
     "GET / HTTP/1.1\r\nHost:h\r\nX-Pad:   a  b \t \r\nX-Tab:\tc\t\r\n"
     "X-Empty:\r\nX-Ws: \t \r\nX-Obs: caf\xc3\xa9\r\n\r\n",
     "GET", "/", "", "", "/", "", 1, HTTP_BODY_NONE, 0, false, 0, ows_fields},
    {"JSON POST with Expect and body",
     "POST /v1/items HTTP/1.1\r\nHost: api.example.com\r\n"
     "Content-Type: application/json\r\nContent-Length: 13\r\n"
     "Expect: 100-Continue\r\n\r\n{\"id\": 12345}",
     "POST", "/v1/items", "", "", "/v1/items", "", 1, HTTP_BODY_LENGTH, 13,
     true, 13, post_fields},
    {"Expect ignored in HTTP/1.0",
     "PUT / HTTP/1.0\r\nexpect: 100-continue\r\ncontent-length: 0\r\n\r\n",
     "PUT", "/", "", "", "/", "", 0, HTTP_BODY_LENGTH, 0, false, 0, NULL},
    {"other expectation ignored",
     "PUT / HTTP/1.1\r\nExpect: 100-continue-please\r\n\r\n", "PUT", "/", "",
     "", "/", "", 1, HTTP_BODY_NONE, 0, false, 0, NULL},
    {"Content-Length repeated and listed",
     "POST / HTTP/1.1\r\nContent-Length: 007\r\nCONTENT-LENGTH: 7 ,7\r\n"
     "\r\nabcdefg",
     "POST", "/", "", "", "/", "", 1, HTTP_BODY_LENGTH, 7, false, 7, NULL},
    {"Content-Length 2^63-1",
     "POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", "POST",
     "/", "", "", "/", "", 1, HTTP_BODY_LENGTH, UINT64_C(9223372036854775807),
     false, 0, NULL},
    {"chunked",
     "POST /up HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
     "5\r\nhello\r\n0\r\n\r\n",
     "POST", "/up", "", "", "/up", "", 1, HTTP_BODY_CHUNKED, 0, false, 15,
     NULL},
    {"chunked with empty list elements",
     "POST / HTTP/1.1\r\ntransfer-encoding: , chunked ,\r\n\r\n", "POST", "/",
     "", "", "/", "", 1, HTTP_BODY_CHUNKED, 0, false, 0, NULL},
    {"pipelined bytes are not read",
     "GET / HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n\x01\x02", "GET", "/",
     "", "", "/", "", 1, HTTP_BODY_NONE, 0, false, 24, NULL},
};

/* Parse v in one call and check every field; about 16 assertions. */
static void
test_valid(const struct valid *v)
{
    static struct outcome o;
    const struct http_request *r = &o.req;
    size_t n = strlen(v->text), nfields = 0, i;

    parse_once(v->text, n, NOLIMITS, &o);
    if (!is_int(o.rc, 1, "%s: parsed", v->what))
        diag("error: %s", http_parser_error_str(o.error));
    is_span(v->text, r->method, v->method, v->what, "method");
    is_span(v->text, r->target, v->target, v->what, "target");
    is_span(v->text, r->scheme, v->scheme, v->what, "scheme");
    is_span(v->text, r->authority, v->authority, v->what, "authority");
    is_span(v->text, r->path, v->path, v->what, "path");
    is_span(v->text, r->query, v->query, v->what, "query");
    ok(r->version_major == 1 && r->version_minor == v->minor,
       "%s: version 1.%d", v->what, v->minor);
    is_int(r->framing, v->framing, "%s: framing", v->what);
    is_int((long long)r->content_length, (long long)v->content_length,
           "%s: content_length", v->what);
    is_int(r->expect_continue, v->expect_continue, "%s: expect_continue",
           v->what);
    is_int((long long)r->head_len, (long long)(n - v->body), "%s: head_len",
           v->what);
    if (v->fields == NULL)
        return;
    while (v->fields[nfields].name != NULL)
        nfields++;
    is_int((long long)r->nheaders, (long long)nfields, "%s: nheaders",
           v->what);
    for (i = 0; i < nfields && i < r->nheaders; i++) {
        char what[64];

        snprintf(what, sizeof(what), "%s: field %zu", v->what, i);
        is_span(v->text, r->headers[i].name, v->fields[i].name, what, "name");
        is_span(v->text, r->headers[i].value, v->fields[i].value, what,
                "value");
    }
}

/* A request that must be refused, and why. */
struct invalid {
    const char *what;
    struct input in;
    enum http_error error;
};

#define RL "GET / HTTP/1.1\r\n"
#define POST "POST / HTTP/1.1\r\n"

static const struct invalid invalids[] = {
    {"bare LF ending a field line",
     {RL "Host: x\n\r\n", 0},
     HTTP_E_BAD_HEADER_VALUE},
    {"bare LF ending the request line",
     {"GET / HTTP/1.1\nHost: x\r\n\r\n", 0},
     HTTP_E_SYNTAX},
    {"bare LF ending the head", {RL "Host: x\r\n\n", 0}, HTTP_E_SYNTAX},
    {"CR without LF ending the head", {RL "\rX", 0}, HTTP_E_SYNTAX},
    {"CR without LF after the request line",
     {"GET / HTTP/1.1\rHost: x\r\n\r\n", 0},
     HTTP_E_SYNTAX},
    {"bare LF before the request line", {"\n" RL "\r\n", 0}, HTTP_E_SYNTAX},
    {"bare CR before the request line", {"\r" RL "\r\n", 0}, HTTP_E_SYNTAX},
    {"space before the method", {" " RL "\r\n", 0}, HTTP_E_SYNTAX},
    {"method alone", {"GET\r\n\r\n", 0}, HTTP_E_SYNTAX},
    {"field name without colon", {RL "Host\r\n\r\n", 0}, HTTP_E_SYNTAX},
    {"method with (", {"G(T / HTTP/1.1\r\n\r\n", 0}, HTTP_E_BAD_METHOD},
    {"TLS ClientHello", {BIN("\x16\x03\x01\x02\x00\x01")}, HTTP_E_BAD_METHOD},
    {"NUL in the method",
     {BIN("GE\0T / HTTP/1.1\r\n\r\n")},
     HTTP_E_BAD_METHOD},
    {"HTAB after the method",
     {"GET\t/ HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_METHOD},
    {"method glued to the target",
     {"GET/ HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_METHOD},
    {"empty target", {"GET  / HTTP/1.1\r\n\r\n", 0}, HTTP_E_BAD_TARGET},
    {"CTL in the target",
     {"GET /a\x01 HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"DEL in the target",
     {"GET /a\x7f HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"NUL in the target",
     {BIN("GET /a\0 HTTP/1.1\r\n\r\n")},
     HTTP_E_BAD_TARGET},
    {"HTAB in the target",
     {"GET /a\tb HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"asterisk-form for GET",
     {"GET * HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"asterisk with more",
     {"OPTIONS *x HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"authority-form",
     {"CONNECT example.com:443 HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"CONNECT with origin-form",
     {"CONNECT / HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"userinfo",
     {"GET http://u:p@example.com/ HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"empty host", {"GET http:///x HTTP/1.1\r\n\r\n", 0}, HTTP_E_BAD_TARGET},
    {"scheme without //",
     {"GET http:/x HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"relative target",
     {"GET index.html HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"unclosed IP literal",
     {"GET http://[::1/ HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"letters in the port",
     {"GET http://h:8a/ HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"scheme starting with a digit",
     {"GET 1a://h/ HTTP/1.1\r\n\r\n", 0},
     HTTP_E_BAD_TARGET},
    {"two-digit minor", {"GET / HTTP/1.10\r\n\r\n", 0}, HTTP_E_BAD_VERSION},
    {"lower-case version", {"GET / http/1.1\r\n\r\n", 0}, HTTP_E_BAD_VERSION},
    {"no minor", {"GET / HTTP/1\r\n\r\n", 0}, HTTP_E_BAD_VERSION},
    {"space after the version",
     {"GET / HTTP/1.1 \r\n\r\n", 0},
     HTTP_E_BAD_VERSION},
    {"letter as major", {"GET / HTTP/A.1\r\n\r\n", 0}, HTTP_E_BAD_VERSION},
    {"two-digit major", {"GET / HTTP/11.1\r\n\r\n", 0}, HTTP_E_BAD_VERSION},
    {"HTTPS/1.1", {"GET / HTTPS/1.1\r\n\r\n", 0}, HTTP_E_BAD_VERSION},
    {"empty version", {"GET / \r\n\r\n", 0}, HTTP_E_BAD_VERSION},
    {"HTTP/0.9 request line",
     {"GET /index.html\r\n", 0},
     HTTP_E_VERSION_UNSUPPORTED},
    {"HTTP/0.9 with LF", {"GET /\n", 0}, HTTP_E_VERSION_UNSUPPORTED},
    {"HTTP/2.0", {"GET / HTTP/2.0\r\n\r\n", 0}, HTTP_E_VERSION_UNSUPPORTED},
    {"HTTP/0.9 with a version",
     {"GET / HTTP/0.9\r\n\r\n", 0},
     HTTP_E_VERSION_UNSUPPORTED},
    {"HTTP/3.0", {"GET / HTTP/3.0\r\n\r\n", 0}, HTTP_E_VERSION_UNSUPPORTED},
    {"space before the colon",
     {RL "Host : x\r\n\r\n", 0},
     HTTP_E_BAD_HEADER_NAME},
    {"HTAB before the colon",
     {RL "Host\t: x\r\n\r\n", 0},
     HTTP_E_BAD_HEADER_NAME},
    {"empty field name", {RL ": x\r\n\r\n", 0}, HTTP_E_BAD_HEADER_NAME},
    {"( in a field name", {RL "Ho(st: x\r\n\r\n", 0}, HTTP_E_BAD_HEADER_NAME},
    {"CTL in a field name",
     {RL "Ho\x01st: x\r\n\r\n", 0},
     HTTP_E_BAD_HEADER_NAME},
    {"space in a field name",
     {RL "Na me: x\r\n\r\n", 0},
     HTTP_E_BAD_HEADER_NAME},
    {"high byte in a field name",
     {RL "\x80Host: x\r\n\r\n", 0},
     HTTP_E_BAD_HEADER_NAME},
    {"NUL in a value", {BIN(RL "X: a\0b\r\n\r\n")}, HTTP_E_BAD_HEADER_VALUE},
    {"CTL in a value",
     {RL "X: a\x01"
         "b\r\n\r\n",
      0},
     HTTP_E_BAD_HEADER_VALUE},
    {"ESC in a value", {RL "X: \x1b[31m\r\n\r\n", 0}, HTTP_E_BAD_HEADER_VALUE},
    {"DEL in a value", {RL "X: a\x7f\r\n\r\n", 0}, HTTP_E_BAD_HEADER_VALUE},
    {"bare CR in a value", {RL "X: a\rb\r\n\r\n", 0}, HTTP_E_BAD_HEADER_VALUE},
    {"obs-fold with SP", {RL "X: a\r\n b\r\n\r\n", 0}, HTTP_E_OBS_FOLD},
    {"obs-fold with HTAB", {RL "X: a\r\n\tb\r\n\r\n", 0}, HTTP_E_OBS_FOLD},
    {"whitespace before the first field",
     {RL " Host: x\r\n\r\n", 0},
     HTTP_E_OBS_FOLD},
    {"Content-Length then Transfer-Encoding",
     {POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
     HTTP_E_CL_AND_TE},
    {"Transfer-Encoding then Content-Length",
     {POST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0},
     HTTP_E_CL_AND_TE},
    {"Content-Length letters",
     {POST "Content-Length: abc\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length empty",
     {POST "Content-Length: \r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length negative",
     {POST "Content-Length: -1\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length with +",
     {POST "Content-Length: +5\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length with a space",
     {POST "Content-Length: 4 2\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length hex",
     {POST "Content-Length: 0x10\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length decimal point",
     {POST "Content-Length: 1.0\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length conflicting list",
     {POST "Content-Length: 42, 43\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length conflicting fields",
     {POST "Content-Length: 42\r\nContent-Length: 43\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length trailing comma",
     {POST "Content-Length: 42,\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length empty element",
     {POST "Content-Length: 42,,42\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length 2^63",
     {POST "Content-Length: 9223372036854775808\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Content-Length 2^64",
     {POST "Content-Length: 18446744073709551616\r\n\r\n", 0},
     HTTP_E_BAD_CONTENT_LENGTH},
    {"Transfer-Encoding gzip alone",
     {POST "Transfer-Encoding: gzip\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"chunked not last",
     {POST "Transfer-Encoding: chunked, gzip\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"chunked twice",
     {POST "Transfer-Encoding: chunked, chunked\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"chunked twice in two fields",
     {POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"coding after chunked in a second field",
     {POST "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"Transfer-Encoding in HTTP/1.0",
     {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"chunked with a parameter",
     {POST "Transfer-Encoding: chunked;q=1\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"Transfer-Encoding empty",
     {POST "Transfer-Encoding:\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"codings without a comma",
     {POST "Transfer-Encoding: gzip chunked\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"quote in a coding",
     {POST "Transfer-Encoding: \"chunked\"\r\n\r\n", 0},
     HTTP_E_BAD_TRANSFER_ENCODING},
    {"gzip before chunked",
     {POST "Transfer-Encoding: gzip, chunked\r\n\r\n", 0},
     HTTP_E_UNKNOWN_TRANSFER_CODING},
    {"gzip and chunked in two fields",
     {POST "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
     HTTP_E_UNKNOWN_TRANSFER_CODING},
    {"identity before chunked",
     {POST "Transfer-Encoding: identity,chunked\r\n\r\n", 0},
     HTTP_E_UNKNOWN_TRANSFER_CODING},
};

/* One call must fail with the error; one assertion. */
static void
test_invalid(const char *what, const char *s, size_t n,
             const struct http_limits *lim, enum http_error want)
{
    static struct outcome o;

    parse_once(s, n, lim, &o);
    /* -1 (an impossible error) when the parse did not fail */
    is_int(o.rc == -1 ? (long long)o.error : -1, want, "%s: %s", what,
           http_parser_error_str(want));
}

/* A request under custom limits: its result and the splits. */
struct limited {
    const char *what;
    const char *text;
    struct http_limits limits;
    int rc;
    enum http_error error;
};

static const struct limited limiteds[] = {
    {"request line at its limit",
     "GET /aaaaaaaaaa HTTP/1.1\r\n\r\n",
     {24, 0, 0, 0},
     1,
     HTTP_OK},
    {"request line one over",
     "GET /aaaaaaaaaaa HTTP/1.1\r\n\r\n",
     {24, 0, 0, 0},
     -1,
     HTTP_E_REQUEST_LINE_TOO_LONG},
    {"long method",
     "PROPFINDXYZ / HTTP/1.1\r\n\r\n",
     {10, 0, 0, 0},
     -1,
     HTTP_E_REQUEST_LINE_TOO_LONG},
    {"request line unterminated",
     "GET /",
     {4, 0, 0, 0},
     -1,
     HTTP_E_REQUEST_LINE_TOO_LONG},
    {"target at its limit",
     "GET /123456789 HTTP/1.1\r\n\r\n",
     {0, 10, 0, 0},
     1,
     HTTP_OK},
    {"target one over",
     "GET /1234567890 HTTP/1.1\r\n\r\n",
     {0, 10, 0, 0},
     -1,
     HTTP_E_URI_TOO_LONG},
    {"target unterminated",
     "GET /1234567890",
     {0, 10, 0, 0},
     -1,
     HTTP_E_URI_TOO_LONG},
    {"target limit before a bad byte",
     "GET /1234567890\x01 HTTP/1.1\r\n",
     {0, 10, 0, 0},
     -1,
     HTTP_E_URI_TOO_LONG},
    {"bad byte before the target limit",
     "GET /12\x01"
     "4567890 HTTP/1.1\r\n",
     {0, 10, 0, 0},
     -1,
     HTTP_E_BAD_TARGET},
    {"bad byte at the target limit",
     "GET /123456789\x01 HTTP/1.1\r\n",
     {0, 10, 0, 0},
     -1,
     HTTP_E_BAD_TARGET},
    {"target limit first",
     "GET /aaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n",
     {20, 10, 0, 0},
     -1,
     HTTP_E_URI_TOO_LONG},
    {"request line limit first",
     "GET /aaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n",
     {10, 20, 0, 0},
     -1,
     HTTP_E_REQUEST_LINE_TOO_LONG},
    {"version beyond the line limit",
     "GET /a HTTP/2.0\r\n\r\n",
     {10, 0, 0, 0},
     -1,
     HTTP_E_REQUEST_LINE_TOO_LONG},
    {"head at its limit",
     "GET / HTTP/1.1\r\nX: 0123456789\r\n\r\n",
     {0, 0, 33, 0},
     1,
     HTTP_OK},
    {"head one over",
     "GET / HTTP/1.1\r\nX: 01234567890\r\n\r\n",
     {0, 0, 33, 0},
     -1,
     HTTP_E_HEADERS_TOO_LARGE},
    {"head unterminated",
     "GET / HTTP/1.1\r\nX: 01234567890123456789",
     {0, 0, 33, 0},
     -1,
     HTTP_E_HEADERS_TOO_LARGE},
    {"head limit before a bad byte",
     "GET / HTTP/1.1\r\nX: 0123456789012345\x01\r\n\r\n",
     {0, 0, 33, 0},
     -1,
     HTTP_E_HEADERS_TOO_LARGE},
    {"empty lines count in the head",
     "\r\n\r\nGET / HTTP/1.1\r\n\r\n",
     {0, 0, 20, 0},
     -1,
     HTTP_E_HEADERS_TOO_LARGE},
    {"request line over the head limit",
     "GET /aaaaaaaaaaaaaaaaaaaaaaaaaa",
     {0, 0, 20, 0},
     -1,
     HTTP_E_HEADERS_TOO_LARGE},
    {"fields at their limit",
     "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n",
     {0, 0, 0, 2},
     1,
     HTTP_OK},
    {"one field over",
     "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC",
     {0, 0, 0, 2},
     -1,
     HTTP_E_TOO_MANY_HEADERS},
    {"one field over, bad name",
     "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n(",
     {0, 0, 0, 2},
     -1,
     HTTP_E_BAD_HEADER_NAME},
};

static void
test_limited(const struct limited *l)
{
    static struct outcome o;

    parse_once(l->text, strlen(l->text), &l->limits, &o);
    ok(o.rc == l->rc && o.error == l->error, "%s: %d %s", l->what, l->rc,
       http_parser_error_str(l->error));
    if (o.rc != l->rc || o.error != l->error)
        diag("got %d %s", o.rc, http_parser_error_str(o.error));
    test_splits(l->what, l->text, strlen(l->text), &l->limits);
}

/* The default limits, with inputs built at their boundaries. */
static void
test_default_limits(void)
{
    static struct outcome o;
    char *s;

    s = make_long("GET /", 'a', HTTP_DEFAULT_MAX_URI - 1, " HTTP/1.1\r\n\r\n");
    parse_once(s, strlen(s), NOLIMITS, &o);
    is_int(o.rc, 1, "default: target of %d bytes", HTTP_DEFAULT_MAX_URI);
    is_int(o.req.target.len, HTTP_DEFAULT_MAX_URI, "default: target span");
    free(s);

    s = make_long("GET /", 'a', HTTP_DEFAULT_MAX_URI, "");
    parse_once(s, strlen(s), NOLIMITS, &o);
    is_int(o.error, HTTP_E_URI_TOO_LONG,
           "default: target one over, unterminated");
    parse_once(s, strlen(s) - 1, NOLIMITS, &o);
    is_int(o.rc, 0, "default: target at its limit, unterminated");
    free(s);

    s = make_long("", 'M', HTTP_DEFAULT_MAX_REQUEST_LINE + 1, "");
    parse_once(s, strlen(s), NOLIMITS, &o);
    is_int(o.error, HTTP_E_REQUEST_LINE_TOO_LONG,
           "default: method over the request line limit");
    free(s);

    /* A head of exactly HTTP_DEFAULT_MAX_HEADER_BYTES, then one more. */
    s = make_long("GET / HTTP/1.1\r\nX: ", 'v',
                  HTTP_DEFAULT_MAX_HEADER_BYTES - 23, "\r\n\r\n");
    parse_once(s, strlen(s), NOLIMITS, &o);
    ok(o.rc == 1 && o.req.head_len == HTTP_DEFAULT_MAX_HEADER_BYTES,
       "default: head of 112 KiB");
    free(s);
    s = make_long("GET / HTTP/1.1\r\nX: ", 'v',
                  HTTP_DEFAULT_MAX_HEADER_BYTES - 22, "\r\n\r\n");
    parse_once(s, strlen(s), NOLIMITS, &o);
    is_int(o.error, HTTP_E_HEADERS_TOO_LARGE, "default: head one over");
    parse_once(s, HTTP_DEFAULT_MAX_HEADER_BYTES, NOLIMITS, &o);
    is_int(o.rc, 0, "default: 112 KiB unterminated needs more");
    parse_once(s, HTTP_DEFAULT_MAX_HEADER_BYTES + 1, NOLIMITS, &o);
    is_int(o.error, HTTP_E_HEADERS_TOO_LARGE,
           "default: 112 KiB + 1 unterminated");
    free(s);
}

/* n fields "H: v" after a request line, malloc'd. */
static char *
make_fields(size_t n)
{
    char *s = malloc(32 + n * 6), *q = s;
    size_t i;

    if (s == NULL)
        bail("out of memory");
    q += sprintf(q, "GET / HTTP/1.1\r\n");
    for (i = 0; i < n; i++)
        q += sprintf(q, "H: v\r\n");
    sprintf(q, "\r\n");
    return s;
}

static void
test_field_count(void)
{
    static struct outcome o;
    struct http_limits big = {0, 0, 0, 100000};
    char *s;

    s = make_fields(HTTP_DEFAULT_MAX_HEADERS);
    parse_once(s, strlen(s), NOLIMITS, &o);
    ok(o.rc == 1 && o.req.nheaders == HTTP_DEFAULT_MAX_HEADERS,
       "default: 128 fields");
    free(s);
    s = make_fields(HTTP_DEFAULT_MAX_HEADERS + 1);
    parse_once(s, strlen(s), NOLIMITS, &o);
    is_int(o.error, HTTP_E_TOO_MANY_HEADERS, "default: 129 fields");
    free(s);
    s = make_fields(HTTP_MAX_HEADERS_CAP + 1);
    parse_once(s, strlen(s), &big, &o);
    is_int(o.error, HTTP_E_TOO_MANY_HEADERS, "max_headers capped at %d",
           HTTP_MAX_HEADERS_CAP);
    free(s);
}

static void
test_init(void)
{
    struct http_header h[4];
    struct http_parser p;
    struct http_limits zero = {0, 0, 0, 0}, some = {100, 50, 1000, 4};
    struct http_limits huge = {0, 0, SIZE_MAX, 5000};

    http_parser_init(&p, &zero, h);
    ok(p.limits.max_request_line == HTTP_DEFAULT_MAX_REQUEST_LINE &&
           p.limits.max_uri == HTTP_DEFAULT_MAX_URI &&
           p.limits.max_header_bytes == HTTP_DEFAULT_MAX_HEADER_BYTES &&
           p.limits.max_headers == HTTP_DEFAULT_MAX_HEADERS,
       "init: zero limits take the defaults");
    http_parser_init(&p, &some, h);
    ok(p.limits.max_request_line == 100 && p.limits.max_uri == 50 &&
           p.limits.max_header_bytes == 1000 && p.limits.max_headers == 4,
       "init: limits kept");
    http_parser_init(&p, &huge, h);
    ok(p.limits.max_header_bytes == UINT32_MAX &&
           p.limits.max_headers == HTTP_MAX_HEADERS_CAP,
       "init: limits capped");
    ok(p.error == HTTP_OK && p.req.nheaders == 0 && p.req.headers == h,
       "init: fresh state");
}

/* Repeated calls: same answer after 1 and -1, 0 while incomplete. */
static void
test_repeat(void)
{
    static const char good[] = "GET / HTTP/1.1\r\n\r\n";
    static const char bad[] = "GET / HTTP/1.1\r\nX\x01: y\r\n\r\n";
    struct http_header h[8];
    struct http_parser p;

    http_parser_init(&p, NULL, h);
    is_int(http_parser_execute(&p, good, 5), 0, "repeat: partial is 0");
    is_int(http_parser_execute(&p, good, 5), 0, "repeat: same len again");
    is_int(http_parser_execute(&p, good, 3), 0, "repeat: shorter len");
    is_int(http_parser_execute(&p, good, sizeof(good) - 1), 1,
           "repeat: complete");
    is_int(http_parser_execute(&p, good, sizeof(good) - 1), 1,
           "repeat: 1 again");
    http_parser_init(&p, NULL, h);
    is_int(http_parser_execute(&p, bad, sizeof(bad) - 1), -1, "repeat: error");
    is_int(http_parser_execute(&p, good, sizeof(good) - 1), -1,
           "repeat: -1 again");
    is_int(p.error, HTTP_E_BAD_HEADER_NAME, "repeat: error kept");
    http_parser_init(&p, NULL, h);
    is_int(http_parser_execute(&p, "", 0), 0, "repeat: empty buffer");
}

/* RFC 9112 section 3.2: Host, checked on complete heads. */
static void
test_host(void)
{
    static const struct {
        const char *what, *text;
        enum http_error want;
    } cases[] = {
        {"1.1 with Host", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
         HTTP_OK},
        {"host with port", "GET / HTTP/1.1\r\nhost: a.b:8080\r\n\r\n",
         HTTP_OK},
        {"IPv6 literal", "GET / HTTP/1.1\r\nHOST: [::1]:80\r\n\r\n", HTTP_OK},
        {"empty Host", "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", HTTP_OK},
        {"absolute-form with Host",
         "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", HTTP_OK},
        {"1.0 without Host", "GET / HTTP/1.0\r\n\r\n", HTTP_OK},
        {"1.1 without Host", "GET / HTTP/1.1\r\nX-Host: a\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"absolute-form without Host", "GET http://a/ HTTP/1.1\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"two Hosts in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"a path in Host", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"userinfo in Host", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"a space in Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"a port with letters", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"an unclosed literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
         HTTP_E_BAD_HOST},
        {"an empty literal", "GET / HTTP/1.1\r\nHost: []\r\n\r\n",
         HTTP_E_BAD_HOST},
    };
    struct http_header h[8];
    struct http_parser p;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *t = cases[i].text;

        http_parser_init(&p, NULL, h);
        if (http_parser_execute(&p, t, strlen(t)) != 1) {
            ok(false, "host: %s: parses", cases[i].what);
            continue;
        }
        is_str(http_parser_error_str(http_host_check(&p.req, t)),
               http_parser_error_str(cases[i].want), "host: %s",
               cases[i].what);
    }
}

static void
test_error_table(void)
{
    static const int status[HTTP_E__COUNT] = {
        [HTTP_OK] = 200,
        [HTTP_E_SYNTAX] = 400,
        [HTTP_E_REQUEST_LINE_TOO_LONG] = 414,
        [HTTP_E_URI_TOO_LONG] = 414,
        [HTTP_E_HEADERS_TOO_LARGE] = 431,
        [HTTP_E_TOO_MANY_HEADERS] = 431,
        [HTTP_E_BAD_METHOD] = 400,
        [HTTP_E_BAD_TARGET] = 400,
        [HTTP_E_BAD_VERSION] = 400,
        [HTTP_E_VERSION_UNSUPPORTED] = 505,
        [HTTP_E_BAD_HEADER_NAME] = 400,
        [HTTP_E_BAD_HEADER_VALUE] = 400,
        [HTTP_E_OBS_FOLD] = 400,
        [HTTP_E_CL_AND_TE] = 400,
        [HTTP_E_BAD_CONTENT_LENGTH] = 400,
        [HTTP_E_BAD_TRANSFER_ENCODING] = 400,
        [HTTP_E_BAD_CHUNK] = 400,
        [HTTP_E_TRAILER_TOO_LARGE] = 431,
        [HTTP_E_UNKNOWN_TRANSFER_CODING] = 501,
        [HTTP_E_BAD_HOST] = 400,
    };
    int e, bad_str = 0, bad_status = 0;

    for (e = 0; e < HTTP_E__COUNT; e++) {
        const char *s = http_parser_error_str((enum http_error)e);

        if (s == NULL || *s == '\0' || strcmp(s, "unknown error") == 0)
            bad_str++;
        if (http_parser_error_status((enum http_error)e) != status[e]) {
            diag("status of %d: %d", e,
                 http_parser_error_status((enum http_error)e));
            bad_status++;
        }
    }
    ok(bad_str == 0, "every error has a description");
    ok(bad_status == 0, "every error has its status");
    is_str(http_parser_error_str(HTTP_E_URI_TOO_LONG), "URI too long",
           "http_parser_error_str(HTTP_E_URI_TOO_LONG)");
    is_str(http_parser_error_str(HTTP_E__COUNT), "unknown error",
           "http_parser_error_str out of range");
    is_int(http_parser_error_status(HTTP_E__COUNT), 500,
           "http_parser_error_status out of range");
}

/*
 * The guard page: a page of memory followed by a PROT_NONE one, so that
 * reading one byte past the input placed at the end of the first page
 * faults.
 */
static char *guard_base;
static size_t guard_size;

static void
guard_init(void)
{
    long ps = sysconf(_SC_PAGESIZE);

    guard_size = ps > 0 ? (size_t)ps : 4096;
    guard_base = mmap(NULL, 2 * guard_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard_base == MAP_FAILED)
        bail("mmap: %s", strerror(errno));
    if (mprotect(guard_base + guard_size, guard_size, PROT_NONE) != 0)
        bail("mprotect: %s", strerror(errno));
}

/* Copy s[0..n) so that it ends where the guard page starts. */
static char *
guard_place(const char *s, size_t n)
{
    char *dst = guard_base + guard_size - n;

    if (n > guard_size)
        bail("guard_place: %zu bytes is over a page", n);
    memmove(dst, s, n);
    return dst;
}

/*
 * Parse every prefix of s before the guard page, each prefix moved so
 * that it ends at the page end, with one parser (incremental) and with
 * a fresh one (one call).  Reaching the end proves no byte past len was
 * read.
 */
static void
test_guard_head(const char *what, const char *s, size_t n)
{
    static struct outcome once, inc, fresh;
    struct http_parser p, q;
    int rc = 0;
    size_t k;

    parse_once(s, n, NOLIMITS, &once);
    outcome_begin(&inc, &p, NULL);
    for (k = 1; k <= n; k++) {
        rc = http_parser_execute(&p, guard_place(s, k), k);
        outcome_begin(&fresh, &q, NULL);
        outcome_end(&fresh, &q, http_parser_execute(&q, guard_place(s, k), k));
    }
    outcome_end(&inc, &p, rc);
    ok(same_outcome(&once, &inc) && same_outcome(&once, &fresh),
       "guard page: %s", what);
}

/* The result of decoding a chunked body. */
struct decoded {
    int rc;
    enum http_error error;
    size_t consumed;
    size_t len;
    char data[4096];
};

/* Decode one piece, appended to out; the piece is copied to a buffer of
 * its exact size, or before the guard page. */
static void
decode_piece(struct chunked_decoder *d, const char *s, size_t n, bool guard,
             struct decoded *out)
{
    char *b = guard ? guard_place(s, n) : dup_exact(s, n);
    size_t len = n, consumed = 0;

    out->rc = http_chunked_decode(d, b, &len, &consumed);
    out->error = d->error;
    if (out->len + len <= sizeof(out->data)) {
        memcpy(out->data + out->len, b, len);
        out->len += len;
    }
    out->consumed += consumed;
    if (!guard)
        free(b);
}

/* Decode s[0..n) cut at the cuts (growing, the last n). */
static void
decode_cuts(const char *s, const size_t *cuts, size_t ncuts,
            const size_t lims[2], bool guard, struct decoded *out)
{
    struct chunked_decoder d;
    size_t i, from = 0;

    memset(out, 0, sizeof(*out));
    http_chunked_init(&d, lims[0], lims[1]);
    for (i = 0; i < ncuts; i++) {
        decode_piece(&d, s + from, cuts[i] - from, guard, out);
        from = cuts[i];
    }
}

static bool
same_decoded(const struct decoded *a, const struct decoded *b)
{
    return a->rc == b->rc && a->error == b->error &&
           a->consumed == b->consumed && a->len == b->len &&
           memcmp(a->data, b->data, a->len) == 0;
}

/* A chunked body and what decoding it must give. */
struct body {
    const char *what;
    struct input in;
    size_t lims[2]; /* max_line, max_trailer; 0 for the default */
    int rc;
    enum http_error error;
    struct input data; /* for rc 1 */
    size_t consumed;   /* for rc 1; 0 means all */
};

static const struct body bodies[] = {
    {"one chunk",
     {"5\r\nhello\r\n0\r\n\r\n", 0},
     {0, 0},
     1,
     HTTP_OK,
     {"hello", 0},
     0},
    {"two chunks",
     {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0},
     {0, 0},
     1,
     HTTP_OK,
     {"hello world", 0},
     0},
    {"hex sizes",
     {"A\r\n0123456789\r\na\r\nabcdefghij\r\n1F\r\n"
      "0123456789abcdefghijklmnopqrstu\r\n0\r\n\r\n",
      0},
     {0, 0},
     1,
     HTTP_OK,
     {"0123456789abcdefghij0123456789abcdefghijklmnopqrstu", 0},
     0},
    {"leading zeros",
     {"0005\r\nhello\r\n000\r\n\r\n", 0},
     {0, 0},
     1,
     HTTP_OK,
     {"hello", 0},
     0},
    {"extensions",
     {"5;name=value\r\nhello\r\n3 ; a = \"q;\\\"x\" ;b\t;c=d\r\nabc\r\n"
      "0;last\r\n\r\n",
      0},
     {0, 0},
     1,
     HTTP_OK,
     {"helloabc", 0},
     0},
    {"trailers",
     {"3\r\nabc\r\n0\r\nX-Sum: 123\r\nX-Empty:\r\n\r\n", 0},
     {0, 0},
     1,
     HTTP_OK,
     {"abc", 0},
     0},
    {"bytes after the body",
     {"1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 0},
     {0, 0},
     1,
     HTTP_OK,
     {BIN("a")},
     11},
    {"empty body", {"0\r\n\r\n", 0}, {0, 0}, 1, HTTP_OK, {"", 0}, 0},
    {"CRLF inside data",
     {"7\r\n0\r\n\r\nxx\r\n0\r\n\r\n", 0},
     {0, 0},
     1,
     HTTP_OK,
     {"0\r\n\r\nxx", 0},
     0},
    {"NUL inside data",
     {BIN("3\r\na\0b\r\n0\r\n\r\n")},
     {0, 0},
     1,
     HTTP_OK,
     {BIN("a\0b")},
     0},
    {"line at its limit",
     {"5;abcde\r\nhello\r\n0\r\n\r\n", 0},
     {7, 0},
     1,
     HTTP_OK,
     {"hello", 0},
     0},
    {"trailer at its limit",
     {"0\r\nX: 12345\r\n\r\n", 0},
     {0, 10},
     1,
     HTTP_OK,
     {"", 0},
     0},
    {"incomplete", {"5\r\nhel", 0}, {0, 0}, 0, HTTP_OK, {NULL, 0}, 0},
    {"size 2^63-1",
     {"7fffffffffffffff\r\nabc", 0},
     {0, 0},
     0,
     HTTP_OK,
     {NULL, 0},
     0},
    {"not hex", {"x\r\n", 0}, {0, 0}, -1, HTTP_E_BAD_CHUNK, {NULL, 0}, 0},
    {"empty size", {"\r\n", 0}, {0, 0}, -1, HTTP_E_BAD_CHUNK, {NULL, 0}, 0},
    {"negative size",
     {"-5\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"no CRLF after data",
     {"5\r\nhelloX\r\n0\r\n\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"LF only after data",
     {"5\r\nhello\n0\r\n\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"bare LF after the size",
     {"5\nhello\r\n0\r\n\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"space after the size",
     {"5 \r\nhello\r\n0\r\n\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"size 2^63",
     {"8000000000000000\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"size 2^64",
     {"10000000000000000\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"extension without name",
     {"5;\r\nhello\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"unterminated quoted string",
     {"5;a=\"x\r\nhello\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"CTL in a quoted string",
     {"5;a=\"\x01\"\r\nhello\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"two tokens in an extension",
     {"5;a b\r\nhello\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"line one over",
     {"5;abcdef\r\nhello\r\n0\r\n\r\n", 0},
     {7, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"long line unterminated",
     {"5;aaaaaaaaaaaaaaaaaaaaaaaa", 0},
     {7, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"bad trailer name",
     {"0\r\nX : y\r\n\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"folded trailer",
     {"0\r\nX: y\r\n z\r\n\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"bare LF in the trailer",
     {"0\r\nX: y\n\r\n", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"CR without LF at the end",
     {"0\r\n\rX", 0},
     {0, 0},
     -1,
     HTTP_E_BAD_CHUNK,
     {NULL, 0},
     0},
    {"trailer one over",
     {"0\r\nX: 123456\r\n\r\n", 0},
     {0, 10},
     -1,
     HTTP_E_TRAILER_TOO_LARGE,
     {NULL, 0},
     0},
    {"trailer over, unterminated",
     {"0\r\nX: 123456789012345", 0},
     {0, 10},
     -1,
     HTTP_E_TRAILER_TOO_LARGE,
     {NULL, 0},
     0},
    {"trailer over before a bad byte",
     {"0\r\nX: 12345678\x01\r\n\r\n", 0},
     {0, 10},
     -1,
     HTTP_E_TRAILER_TOO_LARGE,
     {NULL, 0},
     0},
};

/* One body: one call, every split, byte by byte, the guard page. */
static void
test_body(const struct body *b)
{
    static struct decoded once, other;
    size_t n = input_len(&b->in), k, bad = 0;
    size_t *cuts = malloc(n * sizeof(*cuts));

    if (cuts == NULL)
        bail("out of memory");
    decode_cuts(b->in.s, &n, 1, b->lims, false, &once);
    if (b->rc == 1)
        ok(once.rc == 1 && once.len == input_len(&b->data) &&
               memcmp(once.data, b->data.s, once.len) == 0 &&
               once.consumed == (b->consumed != 0 ? b->consumed : n),
           "chunked %s: decoded", b->what);
    else
        ok(once.rc == b->rc && once.error == b->error, "chunked %s: %d %s",
           b->what, b->rc, http_parser_error_str(b->error));
    for (k = 1; k < n; k++) {
        size_t two[2] = {k, n};

        decode_cuts(b->in.s, two, 2, b->lims, false, &other);
        if (!same_decoded(&once, &other) && bad++ == 0)
            diag("split at %zu differs", k);
    }
    ok(bad == 0, "chunked %s: every split point", b->what);
    for (k = 0; k < n; k++)
        cuts[k] = k + 1;
    decode_cuts(b->in.s, cuts, n, b->lims, false, &other);
    ok(same_decoded(&once, &other), "chunked %s: byte by byte", b->what);
    decode_cuts(b->in.s, cuts, n, b->lims, true, &other);
    ok(same_decoded(&once, &other), "chunked %s: guard page", b->what);
    free(cuts);
}

/* Calls after the end or an error, and decoding in place. */
static void
test_chunked_repeat(void)
{
    struct chunked_decoder d;
    char body[] = "3\r\nabc\r\n0\r\n\r\nrest";
    char bad[] = "z";
    size_t len = sizeof(body) - 1, consumed = 99;

    http_chunked_init(&d, 0, 0);
    ok(d.max_line == CHUNKED_DEFAULT_MAX_LINE &&
           d.max_trailer == CHUNKED_DEFAULT_MAX_TRAILER,
       "chunked: zero limits take the defaults");
    is_int(http_chunked_decode(&d, body, &len, &consumed), 1, "chunked: done");
    ok(len == 3 && memcmp(body, "abc", 3) == 0, "chunked: data in place");
    is_int((long long)consumed, 13, "chunked: consumed");
    len = 4;
    is_int(http_chunked_decode(&d, body + 13, &len, &consumed), 1,
           "chunked: 1 again");
    ok(len == 0 && consumed == 0, "chunked: nothing more taken");
    http_chunked_init(&d, 0, 0);
    len = 1;
    is_int(http_chunked_decode(&d, bad, &len, NULL), -1, "chunked: error");
    len = sizeof(body) - 1;
    is_int(http_chunked_decode(&d, body, &len, NULL), -1, "chunked: -1 again");
    ok(len == 0, "chunked: nothing decoded after an error");
}

/* Requests for the split and guard-page tests besides the tables. */
static const char chrome_get[] =
    "GET /search?q=pitchfork+ruby&hl=en HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
    "image/avif,image/webp,*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9,fr;q=0.8\r\n"
    "Cookie: _session=eyJhbGciOiJIUzI1NiJ9.e30.abc; theme=dark; "
    "_ga=GA1.1.123456789.1700000000\r\n"
    "\r\n";

static const char chunked_post[] =
    "POST /upload HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Expect: 100-continue\r\n"
    "\r\n"
    "5;ext=\"a b\"\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n";

int
main(void)
{
    size_t i;

    guard_init();
    test_init();
    for (i = 0; i < sizeof(valids) / sizeof(valids[0]); i++)
        test_valid(&valids[i]);
    for (i = 0; i < sizeof(invalids) / sizeof(invalids[0]); i++)
        test_invalid(invalids[i].what, invalids[i].in.s,
                     input_len(&invalids[i].in), NOLIMITS, invalids[i].error);
    for (i = 0; i < sizeof(limiteds) / sizeof(limiteds[0]); i++)
        test_limited(&limiteds[i]);
    test_default_limits();
    test_field_count();
    test_repeat();
    test_host();
    test_error_table();

    for (i = 0; i < sizeof(valids) / sizeof(valids[0]); i++)
        test_splits(valids[i].what, valids[i].text, strlen(valids[i].text),
                    NOLIMITS);
    for (i = 0; i < sizeof(invalids) / sizeof(invalids[0]); i++)
        test_splits(invalids[i].what, invalids[i].in.s,
                    input_len(&invalids[i].in), NOLIMITS);
    test_splits("Chrome GET", chrome_get, sizeof(chrome_get) - 1, NOLIMITS);
    test_splits("chunked POST", chunked_post, sizeof(chunked_post) - 1,
                NOLIMITS);

    test_guard_head("Chrome GET", chrome_get, sizeof(chrome_get) - 1);
    test_guard_head("chunked POST", chunked_post, sizeof(chunked_post) - 1);
    for (i = 0; i < sizeof(valids) / sizeof(valids[0]); i++)
        test_guard_head(valids[i].what, valids[i].text,
                        strlen(valids[i].text));
    for (i = 0; i < sizeof(invalids) / sizeof(invalids[0]); i++)
        test_guard_head(invalids[i].what, invalids[i].in.s,
                        input_len(&invalids[i].in));

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        test_body(&bodies[i]);
    test_chunked_repeat();
    return done_testing();
}
