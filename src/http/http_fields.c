/*
 * The framing fields of a request head: Content-Length values (RFC 9110
 * section 8.6) and Transfer-Encoding coding lists (RFC 9112 section
 * 6.1), judged on their own; the head parser (http_parser.rl) decides
 * what a combination of them means.  See http_fields.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "http/http_fields.h"

#include <string.h>

static unsigned char
ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

bool
http_fields_caseeq(const unsigned char *s, size_t n, const char *lit)
{
    size_t i;

    if (strlen(lit) != n)
        return false;
    for (i = 0; i < n; i++)
        if (ascii_lower(s[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

/* The index after the whitespace at and after v[i], at most n. */
static size_t
skip_ws(const unsigned char *v, size_t i, size_t n)
{
    while (i < n && http_fields_is_ws(v[i]))
        i++;
    return i;
}

bool
http_fields_content_length(const unsigned char *v, size_t n, uint64_t *out)
{
    uint64_t first = 0;
    bool have = false;
    size_t i = 0;

    for (;;) {
        uint64_t x = 0;
        size_t start = i;

        for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
            unsigned d = v[i] - '0';

            if (x > ((uint64_t)INT64_MAX - d) / 10)
                return false;
            x = x * 10 + d;
        }
        if (i == start || (have && x != first))
            return false;
        first = x;
        have = true;
        i = skip_ws(v, i, n);
        if (i == n)
            break;
        if (v[i++] != ',')
            return false;
        i = skip_ws(v, i, n);
    }
    *out = first;
    return true;
}

/* True when s[0..n) is a token (RFC 9110 section 5.6.2). */
static bool
is_token(const unsigned char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = ascii_lower(s[i]);

        if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
            (c == '\0' || strchr(extra, c) == NULL))
            return false;
    }
    return n > 0;
}

/* One transfer-coding of a Transfer-Encoding list, s[0..n). */
static enum http_error
transfer_coding(const unsigned char *s, size_t n, unsigned *codings)
{
    /* chunked must be applied once and last (RFC 9112 section 6.1). */
    if ((*codings & HTTP_FIELDS_CHUNKED) || !is_token(s, n))
        return HTTP_E_BAD_TRANSFER_ENCODING;
    *codings |= http_fields_caseeq(s, n, "chunked") ? HTTP_FIELDS_CHUNKED
                                                    : HTTP_FIELDS_OTHER;
    return HTTP_OK;
}

enum http_error
http_fields_transfer_codings(const unsigned char *v, size_t n,
                             unsigned *codings)
{
    size_t i = 0;

    while (i < n) {
        size_t start;
        enum http_error err;

        i = skip_ws(v, i, n);
        start = i;
        while (i < n && v[i] != ',' && !http_fields_is_ws(v[i]))
            i++;
        if (i > start) {
            err = transfer_coding(v + start, i - start, codings);
            if (err != HTTP_OK)
                return err;
        }
        i = skip_ws(v, i, n);
        if (i < n && v[i] != ',')
            return HTTP_E_BAD_TRANSFER_ENCODING;
        i++;
    }
    return HTTP_OK;
}
