/*
 * Unit tests of the journal side of src/core/log.c: the application's
 * output as entries (whole lines per write, partial lines held, the
 * 64 KiB cut, the priorities and fields), the reopened-stream check and
 * the fallback when the journal refuses an entry.  Entries reach
 * journal_capture() below (tests/journal_capture.c replaces
 * sd_journal_sendv(): the executable's definitions win over
 * libsystemd's).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "journal_capture.h"
#include "tap.h"

#define REC_MAX 16

/* The entries "sent", each field as one NUL-terminated copy. */
static struct rec {
    char *field[32];
    size_t len[32]; /* bytes after "NAME=" */
    int n;
} rec[REC_MAX];
static int nrec;
static int send_error; /* sd_journal_sendv returns -send_error if set */

int
journal_capture(const struct iovec *iov, int n)
{
    struct rec *r;

    if (send_error != 0)
        return -send_error;
    if (nrec == REC_MAX)
        bail("more than %d entries", REC_MAX);
    r = &rec[nrec++];
    for (int i = 0; i < n && i < 32; i++) {
        const char *eq = memchr(iov[i].iov_base, '=', iov[i].iov_len);

        r->field[i] = malloc(iov[i].iov_len + 1);
        if (r->field[i] == NULL || eq == NULL)
            bail("malloc or a field without '='");
        memcpy(r->field[i], iov[i].iov_base, iov[i].iov_len);
        r->field[i][iov[i].iov_len] = '\0';
        r->len[i] = iov[i].iov_len -
                    (size_t)(eq - (const char *)iov[i].iov_base) - 1;
        r->n++;
    }
    return 0;
}

static void
rec_clear(void)
{
    for (int i = 0; i < nrec; i++)
        for (int f = 0; f < rec[i].n; f++)
            free(rec[i].field[f]);
    memset(rec, 0, sizeof(rec));
    nrec = 0;
}

/* The value of NAME in entry i, or "(none)". */
static const char *
val(int i, const char *name)
{
    size_t nl = strlen(name);

    for (int f = 0; i < nrec && f < rec[i].n; f++)
        if (strncmp(rec[i].field[f], name, nl) == 0 &&
            rec[i].field[f][nl] == '=')
            return rec[i].field[f] + nl + 1;
    return "(none)";
}

/* The length of MESSAGE in entry i. */
static size_t
msg_len(int i)
{
    for (int f = 0; i < nrec && f < rec[i].n; f++)
        if (strncmp(rec[i].field[f], "MESSAGE=", 8) == 0)
            return rec[i].len[f];
    return 0;
}

static void
test_lines(void)
{
    rec_clear();
    log_app_write(1, "a line\n", 7);
    is_int(nrec, 1, "a line written at once: one entry");
    is_str(val(0, "MESSAGE"), "a line", "its newline dropped");
    is_str(val(0, "PRIORITY"), "6", "standard output is info");
    is_str(val(0, "PITCHFORK_STREAM"), "stdout", "PITCHFORK_STREAM=stdout");
    is_str(val(0, "SYSLOG_IDENTIFIER"), "pitchfork", "SYSLOG_IDENTIFIER");
    is_str(val(0, "PITCHFORK_ROLE"), "worker", "the role");
    is_str(val(0, "PITCHFORK_WORKER"), "3", "the worker number");
    is_str(val(0, "PITCHFORK_GENERATION"), "2", "the generation");

    rec_clear();
    log_app_write(2, "par", 3);
    is_int(nrec, 0, "a partial line is held");
    log_app_write(2, "tial\nnext", 9);
    is_int(nrec, 1, "its end makes it an entry");
    is_str(val(0, "MESSAGE"), "partial", "of both writes");
    is_str(val(0, "PRIORITY"), "4", "standard error is warning");
    log_app_flush(2);
    is_int(nrec, 2, "flush sends what follows the last newline");
    is_str(val(1, "MESSAGE"), "next", "alone");
    log_app_flush(2);
    is_int(nrec, 2, "a second flush sends nothing");

    rec_clear();
    log_app_write(2, "one\n\ttwo\n", 9);
    is_int(nrec, 1, "two lines in one write: one entry");
    is_str(val(0, "MESSAGE"), "one\n\ttwo", "with the inner newline");
    log_app_write(1, "\n", 1);
    is_str(val(1, "MESSAGE"), "", "an empty line is an empty entry");

    rec_clear();
    log_app_write(2,
                  "#<Thread:0x1 run> terminated with exception "
                  "(report_on_exception is true):\n",
                  75);
    is_int(nrec, 0, "the head of a thread's report is held");
    log_app_write(2, "x.rb:1: boom (RuntimeError)\n\tfrom x.rb:2\n", 41);
    is_str(val(0, "MESSAGE"),
           "#<Thread:0x1 run> terminated with exception (report_on_exception "
           "is true):\nx.rb:1: boom (RuntimeError)\n\tfrom x.rb:2",
           "and sent with the exception: one entry");
    log_app_write(2,
                  "#<Thread:0x2 run> terminated with exception "
                  "(report_on_exception is true):\n",
                  75);
    log_app_flush(2);
    is_str(val(1, "MESSAGE"),
           "#<Thread:0x2 run> terminated with exception (report_on_exception "
           "is true):",
           "flushed alone, without its newline");
}

static void
test_sizes(void)
{
    static char big[70000];

    memset(big, 'x', sizeof(big));
    rec_clear();
    log_app_write(1, big, sizeof(big));
    is_int(nrec, 2, "70000 bytes without a newline: sent, cut in two");
    ok(msg_len(0) == 65536 && msg_len(1) == 70000 - 65536,
       "at 64 KiB (%zu + %zu)", msg_len(0), msg_len(1));

    rec_clear();
    log_app_write(1, big, 60000);
    big[9999] = '\n';
    log_app_write(1, big, 10000);
    big[9999] = 'x';
    is_int(nrec, 2, "a held line that would pass 64 KiB goes first");
    ok(msg_len(0) == 60000 && msg_len(1) == 9999,
       "then the new line (%zu, %zu)", msg_len(0), msg_len(1));
}

static void
test_entries(void)
{
    rec_clear();
    is_int(log_app(3, -1, "err\n\tfrom x.rb:1", 16), 0, "log_app");
    is_str(val(0, "MESSAGE"), "err\n\tfrom x.rb:1",
           "one entry, newlines kept");
    is_str(val(0, "PRIORITY"), "3", "at the priority given");
    is_str(val(0, "PITCHFORK_STREAM"), "(none)", "no stream for fd -1");

    rec_clear();
    log_event(LOGL_ERR, NULL, LOG_FIELDS(LOG_STR("EXCEPTION", "E")),
              "app error: boom (E)\n\tfrom a.rb:1\n\tfrom b.rb:2");
    is_int(nrec, 1, "a server line with a backtrace: one entry");
    is_str(val(0, "MESSAGE"),
           "app error: boom (E)\n\tfrom a.rb:1\n\tfrom b.rb:2",
           "the backtrace in its MESSAGE");
    is_str(val(0, "PITCHFORK_EXCEPTION"), "E", "with its fields");
}

/* A stream dup2()ed over is no longer the journal's; the journal's
 * refusal writes the entry to the stream itself. */
static void
test_reopen_and_fallback(void)
{
    char path[] = "/tmp/test_log.XXXXXX", buf[64];
    int fd = mkstemp(path), saved = dup(2);
    ssize_t n;

    if (fd < 0 || saved < 0 || unlink(path) < 0)
        bail("mkstemp/dup/unlink: %s", strerror(errno));
    ok(log_fd_journal(2), "fd 2 is the journal's");
    ok(!log_fd_journal(0) && !log_fd_journal(3), "fds 0 and 3 are not");
    if (dup2(fd, 2) < 0)
        bail("dup2: %s", strerror(errno));
    ok(!log_fd_journal(2), "reopened onto a file, fd 2 is not");

    rec_clear();
    send_error = EIO;
    log_app_write(2, "refused\n", 8);
    send_error = 0;
    n = pread(fd, buf, sizeof(buf), 0);
    if (dup2(saved, 2) < 0 || close(saved) < 0 || close(fd) < 0)
        bail("dup2/close: %s", strerror(errno));
    ok(n == 8 && memcmp(buf, "refused\n", 8) == 0,
       "an entry the journal refuses is written to the stream");
    ok(log_fd_journal(2), "fd 2 is the journal's again once restored");
}

static void
test_off_journal(void)
{
    log_init(LOG_TARGET_STDERR, false);
    ok(!log_journal(), "PITCHFORK_LOG=stderr: not the journal");
    ok(!log_fd_journal(1) && !log_fd_journal(2), "nor are fds 1 and 2");
    errno = 0;
    is_int(log_app(6, 1, "x", 1), -1, "log_app refuses");
    is_int(errno, ENOTCONN, "with ENOTCONN");
}

int
main(void)
{
    plan(42);
    log_init(LOG_TARGET_JOURNAL, false);
    log_set_role("worker", 3, 2);
    ok(log_journal(), "PITCHFORK_LOG=journal: the journal");
    test_lines();
    test_sizes();
    test_entries();
    test_reopen_and_fallback();
    test_off_journal();
    rec_clear();
    return done_testing();
}
