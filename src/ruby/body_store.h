/*
 * The request body bytes kept for rack.input: in memory, then, for a
 * rewindable input past a limit, in an unlinked temporary file in
 * $TMPDIR (or /tmp).  A streaming input keeps only what the app has not
 * read yet.  Errors raise Ruby exceptions (Errno::*, IOError,
 * NoMemoryError), as rack.input's methods that call these do.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_BODY_STORE_H
#define PITCHFORK_BODY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct body_store {
    bool rewindable; /* keep every byte (else drop what was read) */
    size_t limit;    /* rewindable: bytes kept in memory at most */
    char *mem;       /* bytes [mem_off, stored) when tmpfd < 0 */
    size_t mem_cap;
    uint64_t mem_off;
    int tmpfd;       /* spilled: bytes [0, stored) in this file */
    uint64_t stored; /* body bytes received so far */
    uint64_t pos;    /* read position */
};

/* Move the kept bytes (maybe none) to a new temporary file; later bytes
 * go there too.  Raises. */
void body_store_spill(struct body_store *st);

/* Keep n more body bytes of p.  Raises. */
void body_store_append(struct body_store *st, const char *p, size_t n);

/* Copy the n kept bytes at pos into dst and advance pos.  Raises. */
void body_store_copy(struct body_store *st, char *dst, size_t n);

/* Offset of the first "\n" kept in [from, stored), or -1.  Raises. */
int64_t body_store_find_newline(struct body_store *st, uint64_t from);

/* Free the memory and close the temporary file (logging a failure);
 * the store keeps nothing afterwards. */
void body_store_release(struct body_store *st);

#endif
