/*
 * libFuzzer target for the request-head parser and the chunked decoder.
 * The first input byte picks a split point; the rest is a request.  The
 * head is parsed in one call and in two calls (split there, the buffer
 * moved in between), under the default limits and under small ones, and
 * the results must agree and be consistent; then the bytes after the
 * head (or all of them, when the head is refused) go through the chunked
 * decoder, in one call and in two, which must agree too.  Any
 * disagreement aborts.
 *
 * SPDX-License-Identifier: MIT
 */
#include "http/http_parser.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct result {
    int rc;
    enum http_error error;
    struct http_request req;
    struct http_header headers[HTTP_MAX_HEADERS_CAP];
};

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_http_parser: %s\n", what);
    abort();
}

/* A copy of s[0..n) in a buffer of exactly n bytes, for ASan. */
static char *
dup_exact(const uint8_t *s, size_t n)
{
    char *b = malloc(n != 0 ? n : 1);

    if (b == NULL)
        fail("out of memory");
    if (n != 0)
        memcpy(b, s, n);
    return b;
}

/* Parse s[0..n) in calls ending at cut (if 0 < cut < n) and at n. */
static void
parse(const uint8_t *s, size_t n, size_t cut, const struct http_limits *lim,
      struct result *r)
{
    struct http_parser p;
    char *b;

    http_parser_init(&p, lim, r->headers);
    r->rc = 0;
    if (cut > 0 && cut < n) {
        b = dup_exact(s, cut);
        r->rc = http_parser_execute(&p, b, cut);
        free(b);
    }
    b = dup_exact(s, n);
    r->rc = http_parser_execute(&p, b, n);
    if (http_parser_execute(&p, b, n) != r->rc)
        fail("a repeated call changed the result");
    if (r->rc == 1) {
        enum http_error h = http_host_check(&p.req, b);

        if (h != HTTP_OK && h != HTTP_E_BAD_HOST)
            fail("the Host check gave another error");
    }
    free(b);
    r->error = p.error;
    r->req = p.req;
    if ((r->rc == -1) != (r->error != HTTP_OK))
        fail("rc and error disagree");
}

static bool
span_eq(struct http_span a, struct http_span b)
{
    return a.off == b.off && a.len == b.len;
}

static bool
request_eq(const struct http_request *a, const struct http_request *b)
{
    size_t i;

    if (!span_eq(a->method, b->method) || !span_eq(a->target, b->target) ||
        !span_eq(a->scheme, b->scheme) ||
        !span_eq(a->authority, b->authority) || !span_eq(a->path, b->path) ||
        !span_eq(a->query, b->query))
        return false;
    if (a->version_major != b->version_major ||
        a->version_minor != b->version_minor || a->nheaders != b->nheaders ||
        a->framing != b->framing || a->content_length != b->content_length ||
        a->expect_continue != b->expect_continue || a->head_len != b->head_len)
        return false;
    for (i = 0; i < a->nheaders; i++)
        if (!span_eq(a->headers[i].name, b->headers[i].name) ||
            !span_eq(a->headers[i].value, b->headers[i].value))
            return false;
    return true;
}

static bool
span_inside(struct http_span s, size_t end)
{
    return (size_t)s.off + s.len <= end;
}

/* What a successful parse must satisfy. */
static void
check_success(const uint8_t *s, const struct http_request *q,
              const struct http_limits *lim)
{
    size_t i, end = q->head_len;

    if (q->head_len < 4 || q->head_len > lim->max_header_bytes ||
        memcmp(s + q->head_len - 4, "\r\n\r\n", 4) != 0)
        fail("bad head_len");
    if (q->version_major != 1 || q->version_minor > 1)
        fail("bad version");
    if (q->method.len == 0 || q->target.len == 0 ||
        q->target.len > lim->max_uri || !span_inside(q->method, end) ||
        !span_inside(q->target, end) || !span_inside(q->path, end) ||
        !span_inside(q->query, end) || !span_inside(q->scheme, end) ||
        !span_inside(q->authority, end))
        fail("bad request-line span");
    if (q->nheaders > lim->max_headers)
        fail("too many headers accepted");
    for (i = 0; i < q->nheaders; i++) {
        struct http_span v = q->headers[i].value;
        size_t j;

        if (q->headers[i].name.len == 0 ||
            !span_inside(q->headers[i].name, end) || !span_inside(v, end))
            fail("bad header span");
        for (j = v.off; j < (size_t)v.off + v.len; j++)
            if (s[j] == '\r' || s[j] == '\n' || s[j] == '\0')
                fail("CR, LF or NUL in a value");
        if (v.len > 0 && (s[v.off] == ' ' || s[v.off + v.len - 1] == ' ' ||
                          s[v.off] == '\t' || s[v.off + v.len - 1] == '\t'))
            fail("value not trimmed");
    }
    if (q->framing == HTTP_BODY_LENGTH &&
        q->content_length > (uint64_t)INT64_MAX)
        fail("Content-Length over 2^63-1");
}

/* Parse the head in one call and split at cut; returns the head length
 * on success, 0 otherwise. */
static size_t
fuzz_head(const uint8_t *s, size_t n, size_t cut,
          const struct http_limits *lim)
{
    static struct result once, split;

    parse(s, n, 0, lim, &once);
    parse(s, n, cut, lim, &split);
    if (once.rc != split.rc || once.error != split.error)
        fail("split changed the result");
    if (once.rc != 1)
        return 0;
    if (!request_eq(&once.req, &split.req))
        fail("split changed the request");
    check_success(s, &once.req, lim);
    return once.req.head_len;
}

struct decoded {
    int rc;
    enum http_error error;
    size_t consumed, len;
    char *data;
};

/* Decode s[0..n) in calls ending at cut (if 0 < cut < n) and at n. */
static void
decode(const uint8_t *s, size_t n, size_t cut, size_t max_line,
       size_t max_trailer, struct decoded *out)
{
    struct chunked_decoder d;
    size_t from = 0, ends[2], i, nends = 0;

    http_chunked_init(&d, max_line, max_trailer);
    out->data = malloc(n != 0 ? n : 1);
    out->len = out->consumed = 0;
    out->rc = 0;
    if (out->data == NULL)
        fail("out of memory");
    if (cut > 0 && cut < n)
        ends[nends++] = cut;
    ends[nends++] = n;
    for (i = 0; i < nends; i++) {
        size_t len = ends[i] - from, consumed = 0, in = len;
        char *b = dup_exact(s + from, len);

        out->rc = http_chunked_decode(&d, b, &len, &consumed);
        if (len > in || consumed > in)
            fail("chunked: more out than in");
        memcpy(out->data + out->len, b, len);
        out->len += len;
        out->consumed += consumed;
        free(b);
        from = ends[i];
    }
    out->error = d.error;
    if ((out->rc == -1) != (out->error != HTTP_OK))
        fail("chunked: rc and error disagree");
}

static void
fuzz_chunked(const uint8_t *s, size_t n, size_t cut, size_t max_line,
             size_t max_trailer)
{
    struct decoded once, split;

    decode(s, n, 0, max_line, max_trailer, &once);
    decode(s, n, cut, max_line, max_trailer, &split);
    if (once.rc != split.rc || once.error != split.error ||
        once.len != split.len || once.consumed != split.consumed ||
        memcmp(once.data, split.data, once.len) != 0)
        fail("chunked: split changed the result");
    if (once.rc == 1 && once.consumed > n)
        fail("chunked: consumed past the input");
    free(once.data);
    free(split.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_limits small = {64, 32, 256, 8};
    struct http_limits dflt;
    struct http_parser p;
    size_t n, cut, head, rest;
    const uint8_t *s;

    if (size < 1)
        return 0;
    s = data + 1;
    n = size - 1;
    cut = n * data[0] / 256;
    http_parser_init(&p, NULL, NULL);
    dflt = p.limits;
    head = fuzz_head(s, n, cut, &dflt);
    (void)fuzz_head(s, n, cut, &small);
    rest = n - head;
    cut = rest * data[0] / 256;
    fuzz_chunked(s + head, rest, cut, 0, 0);
    fuzz_chunked(s + head, rest, cut, 8, 16);
    return 0;
}
