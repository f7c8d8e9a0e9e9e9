/*
 * libFuzzer target for the chunked body decoder and its trailers
 * (src/http/http_chunked.rl).  The first input byte picks the limits
 * (bits 0-1) and the mode (bit 2), the second seeds how the input is cut
 * into calls; the rest is the body.
 *
 * Raw mode decodes the body as sent, in one call, in two (cut where the
 * seed says), in pieces of 1 to 16 bytes and byte by byte: the result
 * (return value, error, decoded bytes, bytes consumed) must be the same.
 * It must also be consistent: an incomplete body consumed every byte, a
 * complete one ends with CRLF and was incomplete one byte earlier,
 * nothing is decoded or consumed after the end or an error, and lower
 * limits refuse more bodies but never decode one differently.
 *
 * Encode mode chunks the body itself (sizes, extensions and trailers
 * drawn from the seed), appends a byte of what would come next, and the
 * decoder must give the body back and consume exactly the encoding.
 * Any disagreement aborts.
 *
 * SPDX-License-Identifier: MIT
 */
#include "http/http_parser.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The limits of bits 0-1, laxest first: a body the laxest refuses is
 * refused by every other. */
static const size_t limits[4][2] = {{0, 0}, {64, 256}, {8, 16}, {1, 1}};

struct decoded {
    int rc;
    enum http_error error;
    size_t consumed, len;
    char *data;
};

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_http_chunked: %s\n", what);
    abort();
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n != 0 ? n : 1);

    if (p == NULL)
        fail("out of memory");
    return p;
}

/* A small deterministic generator (xorshift32), never 0. */
static uint32_t
next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* One call over a copy of s[0..n) of exactly n bytes (for ASan);
 * appends what it decodes to out.  Returns the call's result. */
static int
feed(struct chunked_decoder *d, const uint8_t *s, size_t n,
     struct decoded *out)
{
    size_t len = n, consumed = 0;
    char *b = xmalloc(n);
    int rc;

    if (n != 0)
        memcpy(b, s, n);
    rc = http_chunked_decode(d, b, &len, &consumed);
    if (len > n || consumed > n || len > consumed)
        fail("more out than in");
    if (rc == 0 && consumed != n)
        fail("incomplete, yet input left over");
    memcpy(out->data + out->len, b, len);
    out->len += len;
    out->consumed += consumed;
    free(b);
    return rc;
}

/*
 * Decode s[0..n) under limits lim, in calls of the sizes that plan
 * gives: 0 for one call, 1 for two (cut at n * seed / 256), 2 for
 * pieces of 1 to 16 bytes, 3 for one byte at a time.
 */
static void
decode(const uint8_t *s, size_t n, int lim, int plan, uint8_t seed,
       struct decoded *out)
{
    struct chunked_decoder d;
    uint32_t x = seed + 1u;
    size_t from = 0, calls = 0;

    http_chunked_init(&d, limits[lim][0], limits[lim][1]);
    out->data = xmalloc(n + 5); /* room for the call after the end */
    out->len = out->consumed = 0;
    out->rc = 0;
    do {
        size_t k = n - from;

        if (plan == 1 && calls++ == 0)
            k = n * seed / 256; /* 0 too: a call with no bytes */
        else if (plan == 2)
            k = 1 + next_rand(&x) % 16;
        else if (plan == 3)
            k = 1;
        if (k > n - from)
            k = n - from;
        out->rc = feed(&d, s + from, k, out);
        from += k;
    } while (from < n);
    out->error = d.error;
    if ((out->rc == -1) != (out->error != HTTP_OK))
        fail("rc and error disagree");
    if (out->error != HTTP_OK && out->error != HTTP_E_BAD_CHUNK &&
        out->error != HTTP_E_TRAILER_TOO_LARGE)
        fail("an error the decoder does not give");
    /* After the end or an error, more input changes nothing. */
    if (out->rc != 0) {
        size_t len = out->len, consumed = out->consumed;

        if (feed(&d, (const uint8_t *)"0\r\n\r\n", 5, out) != out->rc ||
            out->len != len || out->consumed != consumed ||
            d.error != out->error)
            fail("a call after the end or an error did something");
    }
}

static bool
same(const struct decoded *a, const struct decoded *b)
{
    return a->rc == b->rc && a->error == b->error && a->len == b->len &&
           a->consumed == b->consumed && memcmp(a->data, b->data, a->len) == 0;
}

/* A complete body ends at its CRLF, and one byte less is incomplete. */
static void
check_end(const uint8_t *s, const struct decoded *once, int lim)
{
    struct decoded shorter;
    size_t c = once->consumed;

    if (once->rc != 1)
        return;
    if (c < 5 || memcmp(s + c - 2, "\r\n", 2) != 0 || once->len > c - 5)
        fail("a complete body that does not end as one");
    decode(s, c - 1, lim, 0, 0, &shorter);
    if (shorter.rc != 0 || shorter.len > once->len ||
        memcmp(shorter.data, once->data, shorter.len) != 0)
        fail("complete one byte before its end");
    free(shorter.data);
}

/* Raw mode: every plan agrees with one call, and lower limits only
 * refuse more. */
static void
fuzz_raw(const uint8_t *s, size_t n, int lim, uint8_t seed)
{
    struct decoded once, other;

    decode(s, n, lim, 0, seed, &once);
    for (int plan = 1; plan <= 3; plan++) {
        decode(s, n, lim, plan, seed, &other);
        if (!same(&once, &other))
            fail("splitting the input changed the result");
        free(other.data);
    }
    check_end(s, &once, lim);
    if (lim != 0) {
        decode(s, n, 0, 0, seed, &other);
        if (once.rc != -1 && !same(&once, &other))
            fail("a higher limit changed an accepted body");
        if (other.rc == -1 && once.rc != -1)
            fail("a lower limit accepted a body a higher one refused");
        free(other.data);
    }
    free(once.data);
}

/* Append s[0..n) to the encoding e at *m. */
static void
put(char *e, size_t *m, const char *s, size_t n)
{
    memcpy(e + *m, s, n);
    *m += n;
}

/* A chunk-size line: the size in hex (either case, zeros in front
 * sometimes), an extension sometimes, CRLF. */
static void
put_size(char *e, size_t *m, size_t size, uint32_t *x)
{
    static const char *const ext[] = {
        "", ";a", " ; a = b", ";q=\"x\\\"y; z\"", "\t;n=v;m", ";e=\"\"",
    };
    uint32_t r = next_rand(x);
    char hex[32];
    int k = snprintf(hex, sizeof(hex), r & 1 ? "%s%zX" : "%s%zx",
                     r & 2 ? "00" : "", size);

    put(e, m, hex, (size_t)k);
    r = next_rand(x) % 12;
    if (r < 6)
        put(e, m, ext[r], strlen(ext[r]));
    put(e, m, "\r\n", 2);
}

/* Encode mode: chunk s[0..n) and decode it back. */
static void
fuzz_encode(const uint8_t *s, size_t n, uint8_t seed)
{
    static const char *const trailer[] = {
        "",
        "X-Sum: 1\r\n",
        "Expires:\r\n",
        "a: b\tc \r\nB:d\r\n",
        "T: \x80\xff\r\n",
    };
    uint32_t x = seed + 1u;
    size_t m = 0, from = 0, t;
    char *e = xmalloc(2 * n + 64 * (n + 2));
    struct decoded once, other;

    while (from < n) {
        size_t k = 1 + next_rand(&x) % 64;

        if (k > n - from)
            k = n - from;
        put_size(e, &m, k, &x);
        put(e, &m, (const char *)s + from, k);
        put(e, &m, "\r\n", 2);
        from += k;
    }
    put_size(e, &m, 0, &x);
    t = next_rand(&x) % 5;
    put(e, &m, trailer[t], strlen(trailer[t]));
    put(e, &m, "\r\nG", 3);
    for (int plan = 0; plan <= 3; plan++) {
        decode((const uint8_t *)e, m, 0, plan, seed,
               plan == 0 ? &once : &other);
        if (plan != 0 && !same(&once, &other))
            fail("encode: splitting the input changed the result");
        if (plan != 0)
            free(other.data);
    }
    if (once.rc != 1 || once.len != n || once.consumed != m - 1 ||
        (n != 0 && memcmp(once.data, s, n) != 0))
        fail("encode: the body did not come back");
    free(once.data);
    free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (data[0] & 4)
        fuzz_encode(data + 2, size - 2, data[1]);
    else
        fuzz_raw(data + 2, size - 2, data[0] & 3, data[1]);
    return 0;
}
