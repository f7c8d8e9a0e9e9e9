/*
 * Logging: one module for every process role.  Under journald each line
 * is sent with sd_journal_send() and structured PITCHFORK_* fields;
 * elsewhere it is one "key=value" line on stderr.  Under journald the
 * application's output (log_app*) becomes entries with the same fields.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_LOG_H
#define PITCHFORK_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOGL_DEBUG = 7, LOGL_INFO = 6, LOGL_WARN = 4, LOGL_ERR = 3 };

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_JOURNAL, LOG_TARGET_STDERR };

/* Choose the sink; AUTO picks the journal when stderr is JOURNAL_STREAM. */
void log_init(enum log_target target, bool debug);

/* Identify this process in every later line: role is "monitor", "mold",
 * "worker" or "service" (the service worker); worker is -1 when not a
 * worker. */
void log_set_role(const char *role, int worker, unsigned generation);

/*
 * Log one line at level.  event is a PITCHFORK_EVENT value (spawn, ready,
 * exit, ...) or NULL.  fields is NULL or a NULL-terminated array of extra
 * "NAME=value" strings (NAME without the PITCHFORK_ prefix, upper case),
 * e.g. (const char *[]){"REQUESTS=12", NULL}.  errno is preserved.
 */
void log_event(enum log_level level, const char *event,
               const char *const *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * log_event() about another process: the monitor's lines about worker
 * (-1 for a mold) of generation (-1: none) carry PITCHFORK_WORKER and
 * PITCHFORK_GENERATION of that child, so that
 * "journalctl PITCHFORK_WORKER=3" finds them.  errno is preserved.
 */
void log_event_for(enum log_level level, const char *event, int worker,
                   long long generation, const char *const *fields,
                   const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Same as log_event(level, NULL, NULL, ...). */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* log_msg with ": strerror(errno)" appended; errno is preserved. */
void log_sys(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOGL_ERR, __VA_ARGS__)
#define log_syserr(...) log_sys(LOGL_ERR, __VA_ARGS__)
#define log_syswarn(...) log_sys(LOGL_WARN, __VA_ARGS__)

/* True when this process logs to the journal (log_init's decision). */
bool log_journal(void);

/*
 * True when this process logs to the journal and fd (1 or 2) is the
 * stream it was at log_init(): the journal's stream (or anything under
 * PITCHFORK_LOG=journal), not reopened since.  What the application
 * writes to it then belongs in the journal as entries of its own.
 */
bool log_fd_journal(int fd);

/*
 * One journal entry of the application's output: MESSAGE is the len
 * bytes of msg (newlines and all), PRIORITY is priority (0-7), with
 * SYSLOG_IDENTIFIER, PITCHFORK_ROLE, _PID, _WORKER and _GENERATION as on
 * the server's lines, and PITCHFORK_STREAM=stdout or stderr when fd is 1
 * or 2 (pass -1 for none).  A message over 64 KiB is cut into several
 * entries.  Returns 0, or -1 with errno: ENOTCONN when not logging to
 * the journal, or the send's.
 */
int log_app(int priority, int fd, const char *msg, size_t len);

/*
 * What the application wrote to fd (1 or 2) in one call: everything up
 * to its last newline, with the partial line held from earlier writes,
 * is one entry (the newline dropped; info for fd 1, warning for fd 2);
 * what follows the last newline is held for the next write.  Use when
 * log_fd_journal(fd).
 */
void log_app_write(int fd, const char *buf, size_t len);

/* Send the partial line held for fd (1 or 2), if any, as an entry. */
void log_app_flush(int fd);

/* Write len bytes of s into out (size outsz) with non-printable bytes
 * escaped as \xNN; for client bytes in logs.  Returns out. */
char *log_escape(char *out, size_t outsz, const char *s, size_t len);

#endif
