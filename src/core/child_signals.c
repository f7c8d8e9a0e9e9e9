/*
 * A worker's and the service worker's signals (see child_signals.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/child_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static volatile sig_atomic_t child_sig_stop; /* TERM, QUIT */
static volatile sig_atomic_t child_sig_pipe_wr = -1;

static const int child_signals[] = {SIGTERM, SIGQUIT, SIGINT,  SIGUSR1,
                                    SIGUSR2, SIGHUP,  SIGTTIN, SIGTTOU};

static void
child_on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    int fd = child_sig_pipe_wr;

    if (sig == SIGINT)
        _exit(0);
    if (sig == SIGTERM || sig == SIGQUIT)
        child_sig_stop = 1;
    if (fd >= 0)
        (void)!write(fd, &b, 1); /* full pipe: a wakeup is pending anyway */
    errno = saved;
}

int
child_signals_setup(int *pipe_rd)
{
    struct sigaction sa;
    int p[2];

    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        log_syserr("pipe2 for the signals");
        return -1;
    }
    *pipe_rd = p[0];
    child_sig_pipe_wr = p[1];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = child_on_signal;
    if (sigemptyset(&sa.sa_mask) < 0) {
        log_syserr("sigemptyset");
        return -1;
    }
    for (size_t i = 0; i < sizeof(child_signals) / sizeof(int); i++) {
        if (sigaction(child_signals[i], &sa, NULL) < 0) {
            log_syserr("sigaction %s", strsignal(child_signals[i]));
            return -1;
        }
    }
    return 0;
}

bool
child_signals_stop(void)
{
    return child_sig_stop != 0;
}

void
child_signals_drain(int pipe_rd)
{
    unsigned char b[64];

    while (read(pipe_rd, b, sizeof(b)) > 0)
        ; /* the flag says what happened */
}

void
child_signals_teardown(int pipe_rd)
{
    int wr = child_sig_pipe_wr;

    child_sig_pipe_wr = -1;
    if (wr >= 0 && close(wr) < 0)
        log_syswarn("close signal pipe");
    if (pipe_rd >= 0 && close(pipe_rd) < 0)
        log_syswarn("close signal pipe");
}
