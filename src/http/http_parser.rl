/*
 * The HTTP/1.1 request-head parser (RFC 9112 sections 2 to 6), as a
 * Ragel state machine.  It runs over a caller-owned buffer and only
 * records offsets; the actions below call small C functions that fill
 * struct http_request, check the limits and decide the framing from
 * Content-Length and Transfer-Encoding (whose values http_fields.c
 * judges) and Expect.  The chunked body decoder is http_chunked.rl.  Compiled with `ragel -G2`.
 *
 * SPDX-License-Identifier: MIT
 */
#include "http/http_parser.h"

#include <stdint.h>
#include <string.h>

#include "http/http_fields.h"

/* Where the head machine is; decides which limits apply and which error
 * a byte the grammar refuses stands for. */
enum http_phase {
    PHASE_START,   /* before the request line, among empty lines */
    PHASE_METHOD,  /* in the method */
    PHASE_TARGET,  /* in the request-target */
    PHASE_VERSION, /* in HTTP-version, up to the CR of the request line */
    PHASE_LINE,    /* at the start of a field line or of the empty line */
    PHASE_NAME,    /* in a field name */
    PHASE_VALUE,   /* after the colon, up to the LF of the field line */
};

/* Fields the parser itself has to understand. */
enum http_field {
    FIELD_OTHER,
    FIELD_CONTENT_LENGTH,
    FIELD_TRANSFER_ENCODING,
    FIELD_EXPECT,
};

/* struct http_parser flags. */
#define F_DONE 0x01u       /* head complete */
#define F_CL 0x02u         /* Content-Length seen */
#define F_TE 0x04u         /* Transfer-Encoding seen: its codings are
                            * in codings */

#define POS(ptr) ((size_t)((ptr) - buf))

%%{
    machine http_parser;
    alphtype unsigned char;
    include http_common "http_common.rl";

    action method_start {
        hp->phase = PHASE_METHOD;
        hp->line_start = POS(fpc);
    }
    action method_end {
        span_set(&hp->req.method, hp->line_start, POS(fpc));
        hp->req.target.off = (uint32_t)(POS(fpc) + 1);
        hp->phase = PHASE_TARGET;
    }
    action path_start { hp->req.path.off = (uint32_t)POS(fpc); }
    action path_end { span_set(&hp->req.path, hp->req.path.off, POS(fpc)); }
    action query_start { hp->req.query.off = (uint32_t)(POS(fpc) + 1); }
    action query_end {
        span_set(&hp->req.query, hp->req.query.off, POS(fpc));
    }
    action scheme_start { hp->req.scheme.off = (uint32_t)POS(fpc); }
    action scheme_end {
        span_set(&hp->req.scheme, hp->req.scheme.off, POS(fpc));
    }
    action authority_start { hp->req.authority.off = (uint32_t)POS(fpc); }
    action authority_end {
        span_set(&hp->req.authority, hp->req.authority.off, POS(fpc));
        span_set(&hp->req.path, POS(fpc), POS(fpc));
    }
    action asterisk { span_set(&hp->req.path, POS(fpc), POS(fpc) + 1); }
    action target_end {
        if (!on_target_end(hp, buf, POS(fpc)))
            fbreak;
    }
    action version {
        if (!on_version(hp, buf, POS(fpc)))
            fbreak;
    }
    action request_line_end {
        if (!check(hp, POS(fpc), HTTP_OK))
            fbreak;
        hp->phase = PHASE_LINE;
    }
    action name_start {
        if (!on_name_start(hp, POS(fpc)))
            fbreak;
    }
    action colon { on_colon(hp, buf, POS(fpc)); }
    action value_end {
        if (!on_value_end(hp, buf, POS(fpc)))
            fbreak;
    }
    action line_end { hp->phase = PHASE_LINE; }
    action head_done {
        on_head_done(hp, POS(fpc));
        fbreak;
    }

    method = tchar+ >method_start %method_end;

    # RFC 9112 section 3.2.  The bytes of the target are checked for what
    # would break the framing or a log line (CTL, SP, DEL), not against
    # RFC 3986's pchar: browsers send "|", "^", "{", "}" unescaped in
    # queries (the WHATWG URL query percent-encode set leaves them).
    path_char = vchar - [?#];
    query_char = vchar - "#";
    path = ("/" path_char*) >path_start %path_end;
    query = ("?" @query_start query_char*) %query_end;
    fragment = "#" vchar*;
    origin_form = path query? fragment?;

    # RFC 9110 section 4.2.1: userinfo ("@") is refused; "http://" needs
    # a host.
    authority_char = alnum | [\-._~%!$&'()*+,;=];
    host = "[" (authority_char | ":")+ "]" | authority_char+;
    authority = (host (":" digit*)?) >authority_start %authority_end;
    scheme = (alpha (alnum | [+\-.])*) >scheme_start %scheme_end;
    absolute_form = scheme "://" authority path? query? fragment?;

    asterisk_form = "*" @asterisk;

    target = (origin_form | absolute_form | asterisk_form) %target_end;

    version = "HTTP/" digit "." digit @version;

    request_line = method " " target " " version CR @request_line_end LF;

    # RFC 9112 section 5: no whitespace before the colon; OWS around the
    # value is trimmed by on_value_end().  A line starting with SP or HTAB
    # (obs-fold) matches nothing and is refused.
    header_line = tchar+ >name_start ":" @colon field_content*
                  CR @value_end LF @line_end;

    # RFC 9112 section 2.2: empty lines before the request line are
    # ignored.
    main := (CR LF)* request_line header_line* CR LF @head_done;
}%%

%% write data noentry nofinal;

static void
span_set(struct http_span *s, size_t start, size_t end)
{
    s->off = (uint32_t)start;
    s->len = (uint32_t)(end - start);
}

static bool
method_is(const struct http_parser *hp, const unsigned char *buf,
          const char *name)
{
    size_t n = strlen(name);

    return hp->req.method.len == n &&
           memcmp(buf + hp->req.method.off, name, n) == 0;
}

/*
 * The length limit crossed by the bytes before pos, or HTTP_OK.  Only the
 * limits of what is being read count (the request line, the target); the
 * head limit is enforced by http_parser_execute() clamping its input.
 * When two are crossed the one crossed first wins, so that the answer
 * does not depend on where the input was split.
 */
static enum http_error
limit_crossed(const struct http_parser *hp, size_t pos)
{
    uint64_t line_end = UINT64_MAX, uri_end = UINT64_MAX;

    if (hp->phase == PHASE_TARGET)
        uri_end = (uint64_t)hp->req.target.off + hp->limits.max_uri;
    if (hp->phase >= PHASE_METHOD && hp->phase <= PHASE_VERSION)
        line_end = (uint64_t)hp->line_start + hp->limits.max_request_line;
    if (uri_end < pos && uri_end <= line_end)
        return HTTP_E_URI_TOO_LONG;
    if (line_end < pos)
        return HTTP_E_REQUEST_LINE_TOO_LONG;
    return HTTP_OK;
}

/*
 * Record the first error found at pos: a limit crossed before it, else
 * err.  Returns true when there is none and parsing goes on.
 */
static bool
check(struct http_parser *hp, size_t pos, enum http_error err)
{
    enum http_error limit = limit_crossed(hp, pos);

    hp->error = limit != HTTP_OK ? limit : err;
    return hp->error == HTTP_OK;
}

/* The error for the byte at pos, which the grammar refused. */
static enum http_error
syntax_error(const struct http_parser *hp, const unsigned char *buf,
             size_t pos)
{
    unsigned char c = buf[pos];
    bool eol = c == '\r' || c == '\n';

    /* A CR must be followed by LF (RFC 9112 section 2.2). */
    if (pos > 0 && buf[pos - 1] == '\r')
        return hp->phase == PHASE_VALUE ? HTTP_E_BAD_HEADER_VALUE
                                        : HTTP_E_SYNTAX;
    switch (hp->phase) {
    case PHASE_START:
        return eol || http_fields_is_ws(c) ? HTTP_E_SYNTAX
                                           : HTTP_E_BAD_METHOD;
    case PHASE_METHOD:
        return eol ? HTTP_E_SYNTAX : HTTP_E_BAD_METHOD;
    case PHASE_TARGET:
        /* "GET /" then CRLF is an HTTP/0.9 request. */
        return eol && pos > hp->req.target.off ? HTTP_E_VERSION_UNSUPPORTED
                                               : HTTP_E_BAD_TARGET;
    case PHASE_VERSION:
        return c == '\n' ? HTTP_E_SYNTAX : HTTP_E_BAD_VERSION;
    case PHASE_LINE:
        /* RFC 9112 section 5.2: obs-fold; also whitespace between the
         * request line and the first field (section 2.2). */
        if (http_fields_is_ws(c))
            return HTTP_E_OBS_FOLD;
        return eol ? HTTP_E_SYNTAX : HTTP_E_BAD_HEADER_NAME;
    case PHASE_NAME:
        return eol ? HTTP_E_SYNTAX : HTTP_E_BAD_HEADER_NAME;
    default:
        return HTTP_E_BAD_HEADER_VALUE;
    }
}

/*
 * The request-target ends at pos.  Asterisk-form is for OPTIONS only
 * (RFC 9112 section 3.2.4); CONNECT needs authority-form (section
 * 3.2.3), which a Rack server does not serve.
 */
static bool
on_target_end(struct http_parser *hp, const unsigned char *buf, size_t pos)
{
    enum http_error err = HTTP_OK;

    span_set(&hp->req.target, hp->req.target.off, pos);
    if (buf[hp->req.target.off] == '*' && !method_is(hp, buf, "OPTIONS"))
        err = HTTP_E_BAD_TARGET;
    else if (method_is(hp, buf, "CONNECT"))
        err = HTTP_E_BAD_TARGET;
    if (!check(hp, pos, err))
        return false;
    hp->phase = PHASE_VERSION;
    return true;
}

/*
 * The minor version digit is at pos.  Major 1 only; a higher minor is
 * read as 1.1 (RFC 9110 section 2.5).
 */
static bool
on_version(struct http_parser *hp, const unsigned char *buf, size_t pos)
{
    int major = buf[pos - 2] - '0', minor = buf[pos] - '0';

    hp->req.version_major = major;
    hp->req.version_minor = minor > 1 ? 1 : minor;
    return check(hp, pos, major == 1 ? HTTP_OK : HTTP_E_VERSION_UNSUPPORTED);
}

/* A field name starts at pos: take the next headers[] entry. */
static bool
on_name_start(struct http_parser *hp, size_t pos)
{
    struct http_header *h;

    if (hp->req.nheaders >= hp->limits.max_headers)
        return check(hp, pos, HTTP_E_TOO_MANY_HEADERS);
    h = &hp->req.headers[hp->req.nheaders++];
    span_set(&h->name, pos, pos);
    span_set(&h->value, pos, pos);
    hp->phase = PHASE_NAME;
    return true;
}

/* The colon after a field name is at pos. */
static void
on_colon(struct http_parser *hp, const unsigned char *buf, size_t pos)
{
    struct http_header *h = &hp->req.headers[hp->req.nheaders - 1];
    const unsigned char *name = buf + h->name.off;
    size_t n = pos - h->name.off;

    h->name.len = (uint32_t)n;
    hp->field = FIELD_OTHER;
    if (http_fields_caseeq(name, n, "content-length"))
        hp->field = FIELD_CONTENT_LENGTH;
    else if (http_fields_caseeq(name, n, "transfer-encoding"))
        hp->field = FIELD_TRANSFER_ENCODING;
    else if (http_fields_caseeq(name, n, "expect"))
        hp->field = FIELD_EXPECT;
    hp->mark = pos + 1;
    hp->phase = PHASE_VALUE;
}

static enum http_error
on_content_length(struct http_parser *hp, const unsigned char *v, size_t n)
{
    uint64_t cl;

    /* RFC 9112 section 6.3: a sign of request smuggling. */
    if (hp->flags & F_TE)
        return HTTP_E_CL_AND_TE;
    if (!http_fields_content_length(v, n, &cl))
        return HTTP_E_BAD_CONTENT_LENGTH;
    if ((hp->flags & F_CL) && cl != hp->req.content_length)
        return HTTP_E_BAD_CONTENT_LENGTH;
    hp->flags |= F_CL;
    hp->req.content_length = cl;
    return HTTP_OK;
}

/* A Transfer-Encoding field's value v[0..n). */
static enum http_error
on_transfer_encoding(struct http_parser *hp, const unsigned char *v,
                     size_t n)
{
    if (hp->flags & F_CL)
        return HTTP_E_CL_AND_TE;
    /* RFC 9112 section 6.1: faulty framing in HTTP/1.0. */
    if (hp->req.version_minor == 0)
        return HTTP_E_BAD_TRANSFER_ENCODING;
    hp->flags |= F_TE;
    return http_fields_transfer_codings(v, n, &hp->codings);
}

/*
 * The CR ending a field line is at pos: trim OWS off the value, then
 * judge the fields that decide framing.
 */
static bool
on_value_end(struct http_parser *hp, const unsigned char *buf, size_t pos)
{
    struct http_header *h = &hp->req.headers[hp->req.nheaders - 1];
    size_t start = hp->mark, end = pos;
    enum http_error err = HTTP_OK;

    while (start < end && http_fields_is_ws(buf[start]))
        start++;
    while (end > start && http_fields_is_ws(buf[end - 1]))
        end--;
    span_set(&h->value, start, end);
    switch (hp->field) {
    case FIELD_CONTENT_LENGTH:
        err = on_content_length(hp, buf + start, end - start);
        break;
    case FIELD_TRANSFER_ENCODING:
        err = on_transfer_encoding(hp, buf + start, end - start);
        break;
    case FIELD_EXPECT:
        /* RFC 9110 section 10.1.1: ignored in HTTP/1.0. */
        if (hp->req.version_minor >= 1 &&
            http_fields_caseeq(buf + start, end - start, "100-continue"))
            hp->req.expect_continue = true;
        break;
    default:
        break;
    }
    return check(hp, pos, err);
}

/*
 * The LF ending the head is at pos: decide the framing (RFC 9112 section
 * 6.3).  A final chunked after another coding is 501 (section 6.1), no
 * final chunked is 400 (section 6.3, rule 4).
 */
static void
on_head_done(struct http_parser *hp, size_t pos)
{
    enum http_error err = HTTP_OK;

    hp->req.head_len = pos + 1;
    if (hp->flags & F_TE) {
        if (!(hp->codings & HTTP_FIELDS_CHUNKED))
            err = HTTP_E_BAD_TRANSFER_ENCODING;
        else if (hp->codings & HTTP_FIELDS_OTHER)
            err = HTTP_E_UNKNOWN_TRANSFER_CODING;
        hp->req.framing = HTTP_BODY_CHUNKED;
    } else if (hp->flags & F_CL) {
        hp->req.framing = HTTP_BODY_LENGTH;
    }
    if (check(hp, pos + 1, err))
        hp->flags |= F_DONE;
}

static size_t
limit_or(size_t value, size_t dflt, size_t cap)
{
    if (value == 0)
        return dflt;
    return value > cap ? cap : value;
}

void
http_parser_init(struct http_parser *p, const struct http_limits *limits,
                 struct http_header *headers)
{
    static const struct http_limits none;

    if (limits == NULL)
        limits = &none;
    memset(p, 0, sizeof(*p));
    p->cs = http_parser_start;
    p->phase = PHASE_START;
    p->limits.max_request_line =
        limit_or(limits->max_request_line, HTTP_DEFAULT_MAX_REQUEST_LINE,
                 UINT32_MAX);
    p->limits.max_uri =
        limit_or(limits->max_uri, HTTP_DEFAULT_MAX_URI, UINT32_MAX);
    p->limits.max_header_bytes =
        limit_or(limits->max_header_bytes, HTTP_DEFAULT_MAX_HEADER_BYTES,
                 UINT32_MAX);
    p->limits.max_headers = limit_or(
        limits->max_headers, HTTP_DEFAULT_MAX_HEADERS, HTTP_MAX_HEADERS_CAP);
    p->req.headers = headers;
    p->req.framing = HTTP_BODY_NONE;
}

/*
 * Run the head machine over buf[from..to).  Returns the offset where it
 * stopped: to, the byte after the head, the byte it refused (hp->cs is
 * then the error state) or the byte after one an action refused
 * (hp->error is then set).
 */
static size_t
head_run(struct http_parser *hp, const unsigned char *buf, size_t from,
         size_t to)
{
    const unsigned char *p = buf + from, *pe = buf + to;
    int cs = hp->cs;

    %% write exec;

    hp->cs = cs;
    return POS(p);
}

int
http_parser_execute(struct http_parser *p, const char *buf, size_t len)
{
    const unsigned char *ubuf = (const unsigned char *)buf;
    size_t stop = len;
    enum http_error err;

    if (p->error != HTTP_OK)
        return -1;
    if (p->flags & F_DONE)
        return 1;
    if (len <= p->off)
        return 0;
    /* The head limit: never look past it. */
    if (stop > p->limits.max_header_bytes)
        stop = p->limits.max_header_bytes;
    p->off = head_run(p, ubuf, p->off, stop);
    if (p->error != HTTP_OK)
        return -1;
    if (p->cs == http_parser_error) {
        err = limit_crossed(p, p->off);
        p->error = err != HTTP_OK ? err : syntax_error(p, ubuf, p->off);
        return -1;
    }
    if (p->flags & F_DONE)
        return 1;
    err = limit_crossed(p, stop);
    if (err == HTTP_OK && stop < len)
        err = HTTP_E_HEADERS_TOO_LARGE;
    p->error = err;
    return err == HTTP_OK ? 0 : -1;
}

static const struct {
    const char *str;
    int status;
} http_errors[HTTP_E__COUNT] = {
    [HTTP_OK] = {"no error", 200},
    [HTTP_E_SYNTAX] = {"malformed request", 400},
    [HTTP_E_REQUEST_LINE_TOO_LONG] = {"request line too long", 414},
    [HTTP_E_URI_TOO_LONG] = {"URI too long", 414},
    [HTTP_E_HEADERS_TOO_LARGE] = {"header section too large", 431},
    [HTTP_E_TOO_MANY_HEADERS] = {"too many header fields", 431},
    [HTTP_E_BAD_METHOD] = {"invalid method", 400},
    [HTTP_E_BAD_TARGET] = {"invalid request target", 400},
    [HTTP_E_BAD_VERSION] = {"invalid HTTP version", 400},
    [HTTP_E_VERSION_UNSUPPORTED] = {"HTTP version not supported", 505},
    [HTTP_E_BAD_HEADER_NAME] = {"invalid header field name", 400},
    [HTTP_E_BAD_HEADER_VALUE] = {"invalid header field value", 400},
    [HTTP_E_OBS_FOLD] = {"obsolete line folding", 400},
    [HTTP_E_CL_AND_TE] = {"both Content-Length and Transfer-Encoding",
                          400},
    [HTTP_E_BAD_CONTENT_LENGTH] = {"invalid Content-Length", 400},
    [HTTP_E_BAD_TRANSFER_ENCODING] = {"invalid Transfer-Encoding", 400},
    [HTTP_E_BAD_CHUNK] = {"invalid chunked encoding", 400},
    [HTTP_E_TRAILER_TOO_LARGE] = {"trailer section too large", 431},
    [HTTP_E_UNKNOWN_TRANSFER_CODING] = {"transfer coding not implemented",
                                        501},
    [HTTP_E_BAD_HOST] = {"missing, repeated or invalid Host", 400},
};

const char *
http_parser_error_str(enum http_error err)
{
    if ((unsigned)err >= HTTP_E__COUNT)
        return "unknown error";
    return http_errors[err].str;
}

/*
 * 400 for malformed requests, 414 for a long request line or target,
 * 431 for large or many fields, 501 for a transfer coding other than
 * chunked, 505 for a version other than 1.x; 200 for HTTP_OK and 500
 * for a value outside the enum.
 */
int
http_parser_error_status(enum http_error err)
{
    if ((unsigned)err >= HTTP_E__COUNT)
        return 500;
    return http_errors[err].status;
}
