/*
 * The request body bytes kept for rack.input (see body_store.h).  A
 * rewindable input keeps every byte: in memory up to its limit
 * (client_body_buffer_size), then all of them in an unlinked temporary
 * file, made with O_TMPFILE or, where the filesystem lacks it, mkostemp
 * and unlink.  A streaming input keeps only the bytes the app has not
 * read yet, in memory, moving them to the front as it reads.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "ruby/body_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ruby.h>

#include "core/log.h"

#define BODY_STORE_MEM_MIN 4096

/* ---- the temporary file ------------------------------------------------- */

/* $TMPDIR, or /tmp. */
static const char *
body_store_dir(void)
{
    const char *dir = getenv("TMPDIR");

    return dir == NULL || *dir == '\0' ? "/tmp" : dir;
}

/* Raise the SystemCallError of errno for the temporary file: its name
 * is gone (unlinked), its directory says which filesystem failed. */
static void
body_store_fail(void)
{
    char what[PATH_MAX + 64];
    int e = errno;

    snprintf(what, sizeof(what), "rack.input temporary file in %s",
             body_store_dir());
    rb_syserr_fail(e, what);
}

/* An unlinked temporary file in $TMPDIR (or /tmp).  Raises. */
static int
body_store_tmpfile(void)
{
    const char *dir = body_store_dir();
    char path[PATH_MAX];
    int fd;

    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
    if (fd >= 0)
        return fd;
    /* O_TMPFILE unsupported by this filesystem: mkstemp + unlink. */
    if (snprintf(path, sizeof(path), "%s/pitchfork-body.XXXXXX", dir) >=
        (int)sizeof(path))
        rb_raise(rb_eIOError, "TMPDIR too long: %s", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        rb_sys_fail(path);
    if (unlink(path) < 0) {
        int e = errno;

        (void)close(fd); /* the unlink error is the one reported */
        rb_syserr_fail(e, path);
    }
    return fd;
}

/* pwrite(2) every byte.  Raises. */
static void
body_store_pwrite(int fd, const char *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            body_store_fail();
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
}

void
body_store_spill(struct body_store *st)
{
    int fd = body_store_tmpfile();

    st->tmpfd = fd;
    if (st->stored > 0)
        body_store_pwrite(fd, st->mem, (size_t)st->stored, 0);
    free(st->mem);
    st->mem = NULL;
    st->mem_cap = 0;
}

/* ---- storing ------------------------------------------------------------ */

/* Room for n more bytes in mem, dropping consumed bytes when streaming. */
static void
body_store_reserve(struct body_store *st, size_t n)
{
    size_t used, cap;
    char *p;

    if (!st->rewindable && st->pos > st->mem_off) {
        size_t drop = (size_t)(st->pos - st->mem_off);

        memmove(st->mem, st->mem + drop, (size_t)(st->stored - st->pos));
        st->mem_off = st->pos;
    }
    used = (size_t)(st->stored - st->mem_off);
    if (used + n <= st->mem_cap)
        return;
    cap = st->mem_cap < BODY_STORE_MEM_MIN ? BODY_STORE_MEM_MIN : st->mem_cap;
    while (cap < used + n)
        cap *= 2;
    p = realloc(st->mem, cap);
    if (p == NULL)
        rb_memerror();
    st->mem = p;
    st->mem_cap = cap;
}

void
body_store_append(struct body_store *st, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (st->rewindable && st->tmpfd < 0 && st->stored + n > st->limit)
        body_store_spill(st);
    if (st->tmpfd >= 0) {
        body_store_pwrite(st->tmpfd, p, n, st->stored);
    } else {
        body_store_reserve(st, n);
        memcpy(st->mem + (st->stored - st->mem_off), p, n);
    }
    st->stored += n;
}

/* ---- reading ------------------------------------------------------------ */

void
body_store_copy(struct body_store *st, char *dst, size_t n)
{
    if (n == 0)
        return; /* mem may be NULL */
    if (st->tmpfd < 0) {
        memcpy(dst, st->mem + (st->pos - st->mem_off), n);
        st->pos += n;
        return;
    }
    while (n > 0) {
        ssize_t r = pread(st->tmpfd, dst, n, (off_t)st->pos);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO; /* the file is shorter than what we wrote */
            body_store_fail();
        }
        dst += r;
        n -= (size_t)r;
        st->pos += (uint64_t)r;
    }
}

int64_t
body_store_find_newline(struct body_store *st, uint64_t from)
{
    char block[8192];

    if (from >= st->stored)
        return -1; /* nothing kept (mem may be NULL) */
    if (st->tmpfd < 0) {
        const char *base = st->mem + (from - st->mem_off);
        const char *nl = memchr(base, '\n', (size_t)(st->stored - from));

        return nl == NULL ? -1 : (int64_t)(from + (uint64_t)(nl - base));
    }
    while (from < st->stored) {
        size_t want = st->stored - from < sizeof(block)
                          ? (size_t)(st->stored - from)
                          : sizeof(block);
        ssize_t r = pread(st->tmpfd, block, want, (off_t)from);
        const char *nl;

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            body_store_fail();
        }
        nl = memchr(block, '\n', (size_t)r);
        if (nl != NULL)
            return (int64_t)(from + (uint64_t)(nl - block));
        from += (uint64_t)r;
    }
    return -1;
}

/* ---- releasing ---------------------------------------------------------- */

void
body_store_release(struct body_store *st)
{
    free(st->mem);
    st->mem = NULL;
    st->mem_cap = 0;
    if (st->tmpfd >= 0 && close(st->tmpfd) < 0)
        log_syswarn("close rack.input temporary file");
    st->tmpfd = -1;
}
