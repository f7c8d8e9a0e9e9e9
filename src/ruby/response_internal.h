/*
 * What the files of the response module share: response.c (the Rack
 * call, partial hijack, early hints, error responses), response_head.c
 * (the head buffer, status line, header validation, sending the head)
 * and response_body.c (the body kinds).  Not for use outside these
 * files: their public interface is in response.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_RESPONSE_INTERNAL_H
#define PITCHFORK_RESPONSE_INTERNAL_H

#include <ruby.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct rack_conn;

/* What the app's headers said. */
struct head {
    bool has_cl;   /* Content-Length given */
    bool cl_valid; /* ... and a decimal number, in cl */
    uint64_t cl;
    bool has_te;   /* Transfer-Encoding given */
    VALUE hijack;  /* the rack.hijack response header, or Qnil */
    bool upgrade;  /* a 101: the app's Connection field is sent */
    bool has_conn; /* ... and it gave one */
    bool bad;      /* an invalid name or value: answer 500 */
    char why[200]; /* what was invalid, escaped */
};

/* ---- response_head.c ---------------------------------------------------- */

/* Intern the names response_head.c calls (at boot). */
void response_head_init(void);

/* Append n bytes of s to the head; raises NoMemoryError. */
void response_head_cat(const char *s, size_t n);

#define RESPONSE_HEAD_LIT(s) response_head_cat((s), sizeof(s) - 1)

/* Append the field "name: value\r\n"; raises NoMemoryError. */
void response_head_field(const char *name, size_t nlen, const char *value,
                         size_t vlen);

/* Start the head: status line, Date, Connection: close. */
void response_head_begin(int code);

/* Empty the head, to build an interim response in it. */
void response_head_reset(void);

/* The head's bytes so far, valid until the next response_head_* call. */
struct iovec response_head_iov(void);

/* The head is complete: final CRLF, marked as sent by the next write. */
void response_head_end(struct rack_conn *c);

/* Append the app's headers (a Hash, or anything with each) to the head,
 * noting in h what they said; h->bad and h->why tell what was invalid. */
void response_head_headers(struct head *h, VALUE headers);

/* End the head (response_head_end) and send it alone. */
void response_head_send(struct rack_conn *c, int flags);

/* ---- response_body.c ---------------------------------------------------- */

/* Intern the names response_body.c calls (at boot). */
void response_body_init(void);

/* Send the head (plus any framing header) and body for status code, as
 * the Rack SPEC's body kinds say; raises TypeError for a body that is
 * none of them. */
void response_body(struct rack_conn *c, struct head *h, int code, VALUE body);

#endif
