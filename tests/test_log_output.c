/*
 * Unit tests of src/core/log_output.c with standard error on a pipe
 * nobody reads: in non-blocking mode (the monitor's) no log line waits,
 * the lines the pipe cannot take are dropped and counted, and once it is
 * read again the next line is preceded by "N log lines dropped while the
 * log was not read"; a line longer than PIPE_BUF is cut, newline kept.
 * alarm(2) bounds the test: a log line that waited would end it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/log_output.h"
#include "tap.h"

static char got[1 << 17];

/* Everything in the pipe now, NUL-terminated in got; its length. */
static size_t
drain(int fd)
{
    size_t n = 0;
    ssize_t r;

    while (n < sizeof(got) - 1 &&
           (r = read(fd, got + n, sizeof(got) - 1 - n)) > 0)
        n += (size_t)r;
    got[n] = '\0';
    return n;
}

int
main(void)
{
    int p[2], saved = dup(STDERR_FILENO);
    char want[128], big[6000];
    uint64_t dropped;
    size_t n;

    if (saved < 0 || pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0 ||
        fcntl(p[1], F_SETPIPE_SZ, 4096) < 0 || dup2(p[1], STDERR_FILENO) < 0)
        bail("set up a pipe on fd 2: %s", strerror(errno));
    /* fd 2 itself blocks: only log_output's own descriptor does not. */
    if (fcntl(STDERR_FILENO, F_SETFL, 0) < 0)
        bail("fcntl fd 2: %s", strerror(errno));
    alarm(30);
    log_init(LOG_TARGET_STDERR, false);
    is_int(log_output_nonblocking(true), 0, "non-blocking mode on a pipe");
    for (int i = 0; i < 200; i++)
        log_info("line %d of a log nobody reads", i);
    dropped = log_dropped_total();
    ok(dropped > 100 && dropped < 200,
       "200 lines into a 4 KiB pipe: %llu dropped, no wait",
       (unsigned long long)dropped);
    is_int((int)log_output_unreported(), (int)dropped, "none reported yet");

    drain(p[0]);
    log_info("the reader is back");
    drain(p[0]);
    snprintf(want, sizeof(want),
             "event=log log_lines_dropped=%llu msg=\"%llu log lines dropped "
             "while the log was not read\"",
             (unsigned long long)dropped, (unsigned long long)dropped);
    ok(strstr(got, want) != NULL, "the next line says how many were dropped");
    ok(strstr(got, want) < strstr(got, "the reader is back"), "before it");
    is_int((int)log_output_unreported(), 0, "all reported");
    ok(log_dropped_total() == dropped, "the total stays for metrics");

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_info("%s", big);
    n = drain(p[0]);
    ok(n == PIPE_BUF && got[n - 1] == '\n',
       "a line longer than PIPE_BUF is cut there, its newline kept");

    is_int(log_output_nonblocking(false), 0, "blocking again");
    if (dup2(saved, STDERR_FILENO) < 0)
        bail("restore fd 2: %s", strerror(errno));
    return done_testing();
}
