/*
 * The Host rule of RFC 9112 section 3.2, checked on a parsed head.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "http/http_parser.h"

/* RFC 3986 unreserved, sub-delims and "%" (of pct-encoded). */
static bool
is_reg_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~%!$&'()*+,;=", c) != NULL);
}

/* An IP-literal's inside: hex digits, ":" and "." (IPv6, IPv4-mapped),
 * and what IPvFuture and zone ids add. */
static bool
is_ip_literal_char(unsigned char c)
{
    return is_reg_name_char(c) || c == ':';
}

/* Host = uri-host [ ":" port ], or empty (RFC 9110 section 7.2). */
static bool
host_value_valid(const unsigned char *v, size_t n)
{
    size_t i = 0;

    if (n > 0 && v[0] == '[') {
        for (i = 1; i < n && v[i] != ']'; i++)
            if (!is_ip_literal_char(v[i]))
                return false;
        if (i == n || i == 1)
            return false;
        i++;
    } else {
        while (i < n && is_reg_name_char(v[i]))
            i++;
    }
    if (i == n)
        return true;
    if (v[i++] != ':')
        return false;
    while (i < n && v[i] >= '0' && v[i] <= '9')
        i++;
    return i == n;
}

static bool
name_is_host(const char *buf, struct http_span name)
{
    return name.len == 4 && strncasecmp(buf + name.off, "host", 4) == 0;
}

enum http_error
http_host_check(const struct http_request *req, const char *buf)
{
    size_t i, seen = 0;

    for (i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];

        if (!name_is_host(buf, h->name))
            continue;
        if (++seen > 1)
            return HTTP_E_BAD_HOST;
        if (!host_value_valid((const unsigned char *)buf + h->value.off,
                              h->value.len))
            return HTTP_E_BAD_HOST;
    }
    if (seen == 0 && req->version_minor >= 1)
        return HTTP_E_BAD_HOST;
    return HTTP_OK;
}
