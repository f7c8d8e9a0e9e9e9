/*
 * The values of the request fields that decide how a body is framed
 * (Content-Length, Transfer-Encoding), judged for the head parser, and
 * the ASCII helpers it shares with them.  Internal to src/http.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_HTTP_FIELDS_H
#define PITCHFORK_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http_parser.h"

/* The codings a head's Transfer-Encoding fields named so far. */
#define HTTP_FIELDS_CHUNKED 0x1u /* chunked, so far the last coding */
#define HTTP_FIELDS_OTHER 0x2u   /* a coding other than chunked */

/* True for the whitespace of RFC 9110 section 5.6.3: SP or HTAB. */
static inline bool
http_fields_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* True when s[0..n) equals the lower-case lit, ignoring ASCII case (no
 * locale: Ruby sets LC_CTYPE and a Turkish one breaks strncasecmp). */
bool http_fields_caseeq(const unsigned char *s, size_t n, const char *lit);

/*
 * Parse a Content-Length value v[0..n): 1*DIGIT, or a comma list of
 * identical ones (RFC 9110 section 8.6), at most 2^63-1, into *out.
 * Returns false when it is malformed or conflicting.
 */
bool http_fields_content_length(const unsigned char *v, size_t n,
                                uint64_t *out);

/*
 * Judge the codings of one Transfer-Encoding value v[0..n): a comma list
 * (empty elements ignored, RFC 9110 section 5.6.1) of tokens without
 * parameters (chunked takes none, and any other coding is refused at
 * the end of the head).  *codings gathers HTTP_FIELDS_* over the fields
 * of one head.  Returns HTTP_OK, or HTTP_E_BAD_TRANSFER_ENCODING for a
 * malformed list or a coding after chunked (RFC 9112 section 6.1).
 */
enum http_error http_fields_transfer_codings(const unsigned char *v, size_t n,
                                             unsigned *codings);

#endif
