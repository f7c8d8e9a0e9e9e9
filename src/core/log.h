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
#include <stdint.h>

enum log_level { LOGL_DEBUG = 7, LOGL_INFO = 6, LOGL_WARN = 4, LOGL_ERR = 3 };

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_JOURNAL, LOG_TARGET_STDERR };

/* Choose the sink; AUTO picks the journal when stderr is JOURNAL_STREAM. */
void log_init(enum log_target target, bool debug);

/* Identify this process in every later line: role is "monitor", "mold",
 * "worker" or "service" (the service worker); worker is -1 when not a
 * worker. */
void log_set_role(const char *role, int worker, unsigned generation);

/* One structured field of a line: PITCHFORK_<name> in the journal,
 * <name in lower case>=<value> on stderr.  Make them with LOG_STR,
 * LOG_INT, LOG_UINT and LOG_DOUBLE, and a list with LOG_FIELDS. */
enum log_field_kind {
    LOG_FIELD_END = 0,
    LOG_FIELD_STR,
    LOG_FIELD_INT,
    LOG_FIELD_UINT,
    LOG_FIELD_DOUBLE,
};

struct log_field {
    const char *name; /* upper case, without the PITCHFORK_ prefix */
    enum log_field_kind kind;
    union {
        const char *s;
        long long i;
        unsigned long long u;
        double d;
    } v;
};

#define LOG_STR(n, x)                                                         \
    ((struct log_field){.name = (n), .kind = LOG_FIELD_STR, .v.s = (x)})
#define LOG_INT(n, x)                                                         \
    ((struct log_field){.name = (n),                                          \
                        .kind = LOG_FIELD_INT,                                \
                        .v.i = (long long)(x)})
#define LOG_UINT(n, x)                                                        \
    ((struct log_field){.name = (n),                                          \
                        .kind = LOG_FIELD_UINT,                               \
                        .v.u = (unsigned long long)(x)})
#define LOG_DOUBLE(n, x)                                                      \
    ((struct log_field){.name = (n),                                          \
                        .kind = LOG_FIELD_DOUBLE,                             \
                        .v.d = (double)(x)})
/* A list of fields for log_event(), ended for it:
 * LOG_FIELDS(LOG_INT("CHILD_PID", pid), LOG_STR("REASON", why)). */
#define LOG_FIELDS(...)                                                       \
    ((const struct log_field[]){__VA_ARGS__, {.kind = LOG_FIELD_END}})

/* Write f's value as text into buf (size); returns buf. */
char *log_field_value(const struct log_field *f, char *buf, size_t size);

/*
 * Log one line at level.  event is a PITCHFORK_EVENT value (spawn, ready,
 * exit, ...) or NULL.  fields is NULL or a LOG_FIELDS() list.  errno is
 * preserved.
 */
void log_event(enum log_level level, const char *event,
               const struct log_field *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * log_event() about another process: the monitor's lines about worker
 * (-1 for a mold) of generation (-1: none) carry PITCHFORK_WORKER and
 * PITCHFORK_GENERATION of that child, so that
 * "journalctl PITCHFORK_WORKER=3" finds them.  errno is preserved.
 */
void log_event_for(enum log_level level, const char *event, int worker,
                   long long generation, const struct log_field *fields,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

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

/*
 * When lines were dropped because the log's reader did not take them (in
 * the monitor, whose log writes never wait: log_output.h), log "N log
 * lines dropped while the log was not read" (PITCHFORK_LOG_LINES_DROPPED)
 * if the reader takes it now.  Every log line tries this first; the
 * monitor's loop also calls it every tick.
 */
void log_report_dropped(void);

/* Lines dropped since the start, for pitchfork_log_lines_dropped_total. */
uint64_t log_dropped_total(void);

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
