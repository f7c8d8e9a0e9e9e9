/*
 * The chunked transfer-coding decoder of request bodies (RFC 9112
 * section 7.1), as a Ragel state machine.  The machine reads chunk-size
 * lines with their extensions, the CRLF after each chunk's data and the
 * trailer section, which it discards; chunk data is moved by
 * http_chunked_decode() itself while d->remaining > 0, so the body is
 * decoded in place.  Compiled with `ragel -G2`.
 *
 * SPDX-License-Identifier: MIT
 */
#include "http/http_parser.h"

#include <stdint.h>
#include <string.h>

#define POS(ptr) ((size_t)((ptr) - buf))

%%{
    machine chunked;
    alphtype unsigned char;
    include http_common "http_common.rl";

    action size_digit {
        if (!chunk_size_digit(d, fc))
            fbreak;
    }
    action line_byte {
        if (++d->line_bytes > d->max_line) {
            d->error = HTTP_E_BAD_CHUNK;
            fbreak;
        }
    }
    action size_end {
        if (d->size == 0) {
            fnext trailer;
        } else {
            d->remaining = d->size;
            fnext data_end;
            fbreak;
        }
    }
    action chunk_end {
        d->size = 0;
        d->line_bytes = 0;
        fnext main;
    }
    action trailer_byte {
        if (++d->trailer_bytes > d->max_trailer) {
            d->error = HTTP_E_TRAILER_TOO_LARGE;
            fbreak;
        }
    }
    action body_end {
        d->done = true;
        fbreak;
    }

    # RFC 9112 section 7.1.1: chunk-ext = *( BWS ";" BWS name
    # [ BWS "=" BWS value ] ), value a token or a quoted-string.
    qdtext = ws | 0x21 | 0x23..0x5b | 0x5d..0x7e | 0x80..0xff;
    quoted_string = "\"" (qdtext | "\\" (ws | vchar))* "\"";
    chunk_ext = ws* ";" ws* tchar+ (ws* "=" ws* (tchar+ | quoted_string))?;
    size_line = (xdigit+ $size_digit chunk_ext*) $line_byte;

    # RFC 9112 section 7.1.2: trailer fields are read like header fields
    # (no obs-fold, CRLF only) and discarded.
    trailer_line = tchar+ ":" field_content* CR LF;

    main := size_line CR LF @size_end;
    data_end := CR LF @chunk_end;
    trailer := trailer_line* $trailer_byte CR LF @body_end;
}%%

%% write data noentry nofinal;

/* Add the hex digit c to the chunk size; false past 2^63-1. */
static bool
chunk_size_digit(struct chunked_decoder *d, unsigned char c)
{
    /* an xdigit: '0' to '9', or a letter that | 0x20 makes lower case */
    unsigned v = c <= '9' ? (unsigned)(c - '0') : (c | 0x20u) - 'a' + 10;

    if (d->size > ((uint64_t)INT64_MAX - v) / 16) {
        d->error = HTTP_E_BAD_CHUNK;
        return false;
    }
    d->size = d->size * 16 + v;
    return true;
}

void
http_chunked_init(struct chunked_decoder *d, size_t max_line, size_t max_trailer)
{
    memset(d, 0, sizeof(*d));
    d->cs = chunked_start;
    d->max_line = max_line != 0 ? max_line : CHUNKED_DEFAULT_MAX_LINE;
    d->max_trailer =
        max_trailer != 0 ? max_trailer : CHUNKED_DEFAULT_MAX_TRAILER;
    d->error = HTTP_OK;
}

/*
 * Run the chunked machine over buf[from..to).  Returns where it stopped:
 * to, after a chunk-size line (d->remaining is then set), after the
 * body, or at an error (d->error is then set).
 */
static size_t
chunked_run(struct chunked_decoder *d, const unsigned char *buf,
            size_t from, size_t to)
{
    const unsigned char *p = buf + from, *pe = buf + to;
    int cs = d->cs;

    %% write exec;

    d->cs = cs;
    if (cs == chunked_error && d->error == HTTP_OK)
        d->error = HTTP_E_BAD_CHUNK;
    return POS(p);
}

int
http_chunked_decode(struct chunked_decoder *d, char *buf, size_t *len,
               size_t *consumed)
{
    size_t in = 0, out = 0, n = *len;

    while (in < n && !d->done && d->error == HTTP_OK) {
        if (d->remaining > 0) {
            size_t k = n - in;

            if (k > d->remaining)
                k = (size_t)d->remaining;
            if (out != in)
                memmove(buf + out, buf + in, k);
            out += k;
            in += k;
            d->remaining -= k;
        } else {
            in = chunked_run(d, (const unsigned char *)buf, in, n);
        }
    }
    *len = out;
    if (consumed != NULL)
        *consumed = in;
    if (d->error != HTTP_OK)
        return -1;
    return d->done ? 1 : 0;
}
