/*
 * Process titles as ps(1) shows them: the monitor takes over the argv and
 * environ area at start, and every role rewrites it ("pitchfork (gen:2)
 * worker[3] - requests: 12, waiting").  setproctitle() is defined here so
 * that Ruby's $0= and Process.setproctitle write the same area.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_PROCTITLE_H
#define PITCHFORK_PROCTITLE_H

/*
 * Take over argv[0..argc) and the environment strings that follow them.
 * Copies environ to the heap first and returns a heap copy of argv
 * (NULL-terminated) that the caller must use from now on, or NULL when
 * out of memory.
 */
char **proctitle_init(int argc, char **argv);

/* Set the title (printf format); /proc/PID/comm stays "pitchfork". */
void proctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
