/*
 * The signals of a worker and of the service worker: C handlers (never
 * Ruby traps) that write the signal number to a self-pipe created for
 * the process, without SA_RESTART so that every wait sees EINTR.  INT
 * exits at once, as upstream's exit!(0): no hook, no at_exit; TERM and
 * QUIT ask for a graceful stop; the other signals the server owns (USR1,
 * USR2, HUP, TTIN, TTOU) only wake the process.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CHILD_SIGNALS_H
#define PITCHFORK_CHILD_SIGNALS_H

#include <stdbool.h>

/* Create the self-pipe (never the mold's) and install the handlers;
 * *pipe_rd gets its read end.  Returns 0, or -1 after logging. */
int child_signals_setup(int *pipe_rd);

/* TERM or QUIT was received. */
bool child_signals_stop(void);

/* Read everything the handlers wrote (the flag says what happened). */
void child_signals_drain(int pipe_rd);

/* Close the pipe; the handlers stay but stop writing (the fd number may
 * be reused by whoever runs next, e.g. a promoted mold). */
void child_signals_teardown(int pipe_rd);

#endif
