/*
 * Incremental, zero-copy HTTP/1.1 request-head parser (RFC 9112) and
 * chunked request-body decoder.
 *
 * The request head is parsed from one caller-owned buffer that grows as
 * bytes arrive: the caller appends to the buffer and calls
 * http_parser_execute() again with the whole buffer; the parser resumes
 * where it stopped.  Every field of the result is a span (offset and
 * length) into that buffer, so nothing is copied and the buffer may be
 * moved (realloc) between calls.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_HTTP_PARSER_H
#define PITCHFORK_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A run of bytes inside the request buffer; len 0 means absent/empty. */
struct http_span {
    uint32_t off;
    uint32_t len;
};

struct http_header {
    struct http_span name;
    struct http_span value; /* leading and trailing OWS removed */
};

enum http_framing {
    HTTP_BODY_NONE,    /* no Content-Length, no Transfer-Encoding */
    HTTP_BODY_LENGTH,  /* Content-Length: content_length bytes */
    HTTP_BODY_CHUNKED, /* Transfer-Encoding: ..., chunked */
};

/* Why a request head is refused; see http_parser_error_status(). */
enum http_error {
    HTTP_OK = 0,
    HTTP_E_SYNTAX,                  /* 400 malformed request line or head */
    HTTP_E_REQUEST_LINE_TOO_LONG,   /* 414 request line over the limit */
    HTTP_E_URI_TOO_LONG,            /* 414 request target over the limit */
    HTTP_E_HEADERS_TOO_LARGE,       /* 431 header section over the limit */
    HTTP_E_TOO_MANY_HEADERS,        /* 431 more fields than the limit */
    HTTP_E_BAD_METHOD,              /* 400 method is not a token */
    HTTP_E_BAD_TARGET,              /* 400 invalid request-target */
    HTTP_E_BAD_VERSION,             /* 400 not HTTP/D.D */
    HTTP_E_VERSION_UNSUPPORTED,     /* 505 HTTP/0.9, HTTP/2+ */
    HTTP_E_BAD_HEADER_NAME,         /* 400 field name is not a token */
    HTTP_E_BAD_HEADER_VALUE,        /* 400 CR, LF or NUL/CTL in a value */
    HTTP_E_OBS_FOLD,                /* 400 obsolete line folding */
    HTTP_E_CL_AND_TE,               /* 400 both Content-Length and TE */
    HTTP_E_BAD_CONTENT_LENGTH,      /* 400 non-digit, overflow, conflicting */
    HTTP_E_BAD_TRANSFER_ENCODING,   /* 400 chunked not final, twice, in 1.0 */
    HTTP_E_BAD_CHUNK,               /* 400 bad size line, data end, trailer */
    HTTP_E_TRAILER_TOO_LARGE,       /* 431 trailer section over the limit */
    HTTP_E_UNKNOWN_TRANSFER_CODING, /* 501 a coding before chunked */
    HTTP_E_BAD_HOST,                /* 400 no Host (1.1), two, or invalid */
    HTTP_E__COUNT
};

/*
 * A member left 0 takes its default below.  max_header_bytes counts the
 * whole head from the first byte of the buffer (empty lines before the
 * request line and the final CRLF CRLF included) and is capped at
 * UINT32_MAX; max_headers is capped at HTTP_MAX_HEADERS_CAP.
 */
struct http_limits {
    size_t max_request_line; /* bytes, request line without CRLF */
    size_t max_uri;          /* bytes of request-target */
    size_t max_header_bytes; /* whole head, request line included */
    size_t max_headers;      /* number of header fields */
};

/* Defaults: 8 KiB request line, 8 KiB URI (like upstream's 15 KiB-ish
 * URI limits, tighter), 112 KiB head, 128 fields. */
#define HTTP_DEFAULT_MAX_REQUEST_LINE (8 * 1024 + 64)
#define HTTP_DEFAULT_MAX_URI (8 * 1024)
#define HTTP_DEFAULT_MAX_HEADER_BYTES (112 * 1024)
#define HTTP_DEFAULT_MAX_HEADERS 128
#define HTTP_MAX_HEADERS_CAP 1024 /* hard upper bound of max_headers */

struct http_request {
    struct http_span method;
    struct http_span target;    /* the request-target as sent */
    struct http_span scheme;    /* absolute-form only, e.g. "http" */
    struct http_span authority; /* absolute-form only, "host[:port]" */
    struct http_span path;      /* "/a/b"; "*" for asterisk-form; empty
                                 * (len 0) for "http://host" or
                                 * "http://host?q", which mean "/" */
    struct http_span query;     /* after '?', without it; fragment dropped */
    int version_major;          /* always 1 on success */
    int version_minor;          /* 0 or 1 (HTTP/1.2..1.9 read as 1.1) */
    size_t nheaders;
    struct http_header *headers; /* array of limits.max_headers entries */
    enum http_framing framing;
    uint64_t content_length; /* valid when framing == HTTP_BODY_LENGTH */
    bool expect_continue;    /* "Expect: 100-continue" seen */
    size_t head_len;         /* bytes of head incl. final CRLF CRLF */
};

/* Parser state; treat as opaque except for req, limits and error. */
struct http_parser {
    int cs;                    /* ragel current state */
    int phase;                 /* internal: part of the head being read */
    int field;                 /* internal: kind of the field being read */
    unsigned flags;            /* internal: done, seen CL, TE, ... */
    unsigned codings;          /* internal: Transfer-Encoding codings seen */
    size_t off;                /* bytes of the buffer consumed so far */
    size_t line_start;         /* start of the request line */
    size_t mark;               /* start of the current field value */
    struct http_limits limits; /* the limits in force, defaults filled */
    struct http_request req;
    enum http_error error;
};

/*
 * Prepare p for a new request.  limits may be NULL for the defaults.
 * headers must have room for p->limits.max_headers entries (the
 * default when limits is NULL or its max_headers is 0, at most
 * HTTP_MAX_HEADERS_CAP) and stays owned by the caller.
 */
void http_parser_init(struct http_parser *p, const struct http_limits *limits,
                      struct http_header *headers);

/*
 * Feed the buffer buf[0..len) (the whole request so far, from its first
 * byte).  Returns 1 when the head is complete (p->req.head_len tells
 * where the body starts), 0 when more bytes are needed, -1 on error
 * with p->error set.  Calling again after 1 or -1 returns the same.
 * len must not shrink between calls; bytes at and after len, and after
 * the end of the head, are never read.  A limit is reported as soon as
 * a byte past it arrives, terminator or not.  Whatever the split of the
 * input into calls, the result is the same.
 *
 * Accepted: CRLF line ends only (a bare LF is HTTP_E_SYNTAX, or
 * HTTP_E_BAD_HEADER_VALUE when it ends a field line), empty
 * lines before the request line, origin-form, absolute-form (any
 * scheme, no userinfo) and, for OPTIONS only, asterisk-form.  Refused
 * with HTTP_E_BAD_TARGET: authority-form and the CONNECT method, as
 * pitchfork is no proxy.  A Transfer-Encoding must end with one
 * chunked; in HTTP/1.0, or with a Content-Length, it is refused.
 */
int http_parser_execute(struct http_parser *p, const char *buf, size_t len);

/*
 * RFC 9112 section 3.2, on a complete head (http_parser_execute() gave
 * 1): an HTTP/1.1 request must carry exactly one Host field, an HTTP/1.0
 * one at most, and its value must be empty or host[:port].  Returns
 * HTTP_OK or HTTP_E_BAD_HOST.  Kept apart from the parser, which decides
 * framing only, so that its callers choose when to apply it.
 */
enum http_error http_host_check(const struct http_request *req,
                                const char *buf);

/* A short English description of err ("URI too long"). */
const char *http_parser_error_str(enum http_error err);

/* The HTTP status code to answer err with (400, 414, 431, 501, 505). */
int http_parser_error_status(enum http_error err);

/* Pointer and length helpers for spans. */
static inline const char *
http_span_ptr(const char *buf, struct http_span s)
{
    return buf + s.off;
}

/*
 * Incremental chunked transfer-coding decoder (RFC 9112 section 7.1),
 * in place: chunk-size lines, extensions and trailers are removed and
 * data bytes are moved to the front of the buffer.
 */
struct chunked_decoder {
    int cs;
    uint64_t remaining;   /* data bytes left in the current chunk */
    uint64_t size;        /* chunk size being parsed */
    size_t line_bytes;    /* bytes of the current size/trailer line */
    size_t trailer_bytes; /* total trailer bytes seen */
    size_t max_line;      /* limit of a chunk-size line (extensions) */
    size_t max_trailer;   /* limit of the trailer section */
    bool done;            /* last-chunk and trailers consumed */
    enum http_error error;
};

#define CHUNKED_DEFAULT_MAX_LINE 4096
#define CHUNKED_DEFAULT_MAX_TRAILER (16 * 1024)

/*
 * Prepare d for a new body.  max_line bounds a chunk-size line (size
 * and extensions, CRLF excluded); max_trailer bounds the trailer field
 * lines (CRLFs included, not the final empty line).  0 takes the
 * default.
 */
void http_chunked_init(struct chunked_decoder *d, size_t max_line,
                       size_t max_trailer);

/*
 * Decode buf[0..*len) in place.  On return *len is the number of
 * decoded data bytes now at buf[0..*len).  Returns 1 when the body is
 * complete (bytes after its end are dropped; *consumed tells how many
 * input bytes belonged to the body), 0 when more input is needed, -1 on
 * error with d->error set.  consumed may be NULL.
 *
 * Unlike http_parser_execute(), each call takes only the bytes that
 * follow those of the previous call.  Errors are HTTP_E_BAD_CHUNK
 * (syntax, size over 2^63-1, line over max_line, no CRLF after the
 * data) and HTTP_E_TRAILER_TOO_LARGE; bare LF is refused here too.
 */
int http_chunked_decode(struct chunked_decoder *d, char *buf, size_t *len,
                        size_t *consumed);

#endif
