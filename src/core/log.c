/*
 * Logging for every role.  Under journald (stderr is JOURNAL_STREAM, or
 * PITCHFORK_LOG=journal) a line is one sd_journal_send() call with
 * structured PITCHFORK_* fields; otherwise it is one logfmt line on
 * stderr: level=info role=worker worker=3 gen=2 event=timeout msg="...".
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/log.h"

#include "core/log_output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#define LOG_LINE_MAX 8192
#define LOG_FIELDS_MAX 16

/* Entries of the application's output longer than this are split; a
 * partial line is held until its newline or this size. */
#define LOG_APP_MAX 65536

/* fd 1 or 2 as log_init() found it: what it was, and whether what is
 * written to it belongs in the journal. */
struct log_stdfd {
    bool journal;
    dev_t dev;
    ino_t ino;
};

/* A partial line of the application's output, held until its newline. */
struct log_partial {
    char *buf;
    size_t len;
    size_t cap;
};

static struct {
    bool journal;
    bool debug;
    const char *role;
    int worker;
    unsigned generation;
    struct log_stdfd stdfd[3];     /* indexed by fd; 0 unused */
    struct log_partial partial[3]; /* indexed by fd; 0 unused */
} log_state = {.journal = false,
               .debug = false,
               .role = "monitor",
               .worker = -1,
               .generation = 0};

/* True when fd is the stream JOURNAL_STREAM names ("dev:ino"). */
static bool
log_fd_is_journal_stream(int fd)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(fd, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

/*
 * Record what fds 1 and 2 are.  Under the journal, a standard stream
 * carries the application's output to the journal when it is the
 * journal's stream (auto) or whatever it is (PITCHFORK_LOG=journal).
 */
static void
log_record_stdfds(enum log_target target)
{
    for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++) {
        struct log_stdfd *s = &log_state.stdfd[fd];
        struct stat st;

        s->journal = false;
        if (!log_state.journal || fstat(fd, &st) < 0)
            continue; /* not logging to the journal, or fd is closed */
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->journal = target == LOG_TARGET_JOURNAL ||
                     log_fd_is_journal_stream(fd);
    }
}

void
log_init(enum log_target target, bool debug)
{
    log_state.debug = debug;
    if (target == LOG_TARGET_AUTO)
        log_state.journal = log_fd_is_journal_stream(STDERR_FILENO);
    else
        log_state.journal = target == LOG_TARGET_JOURNAL;
    log_record_stdfds(target);
}

bool
log_journal(void)
{
    return log_state.journal;
}

bool
log_fd_journal(int fd)
{
    struct stat st;

    if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
        return false;
    if (!log_state.journal || !log_state.stdfd[fd].journal)
        return false;
    /* Reopened (IO#reopen, dup2) elsewhere: no longer the journal's. */
    return fstat(fd, &st) == 0 && st.st_dev == log_state.stdfd[fd].dev &&
           st.st_ino == log_state.stdfd[fd].ino;
}

void
log_set_role(const char *role, int worker, unsigned generation)
{
    log_state.role = role;
    log_state.worker = worker;
    log_state.generation = generation;
}

static const char *
log_level_name(enum log_level level)
{
    switch (level) {
    case LOGL_DEBUG: return "debug";
    case LOGL_INFO: return "info";
    case LOGL_WARN: return "warn";
    case LOGL_ERR: break;
    }
    return "err";
}

char *
log_escape(char *out, size_t outsz, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (outsz == 0)
        return out;
    for (size_t i = 0; i < len && o + 5 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
            out[o++] = (char)c;
            continue;
        }
        out[o++] = '\\';
        out[o++] = 'x';
        out[o++] = hex[c >> 4];
        out[o++] = hex[c & 15];
    }
    out[o] = '\0';
    return out;
}

/* Whom a line is about: this process, or a child the monitor names. */
struct log_who {
    int worker;           /* -1: not a worker */
    long long generation; /* -1: none */
};

/* This process's own identity (the monitor has no generation). */
static struct log_who
log_self(void)
{
    struct log_who w = {log_state.worker, log_state.generation};

    if (strcmp(log_state.role, "monitor") == 0)
        w.generation = -1;
    return w;
}

/* A bounded line being built; appends past the end are dropped. */
struct log_line {
    char buf[LOG_LINE_MAX + 1024];
    size_t len;
};

static void __attribute__((format(printf, 2, 3)))
log_add(struct log_line *l, const char *fmt, ...)
{
    size_t room = sizeof(l->buf) - l->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* Append s quoted for logfmt: '"' and '\\' escaped, newlines as \\n. */
static void
log_add_quoted(struct log_line *l, const char *s)
{
    log_add(l, "\"");
    for (; *s && l->len + 4 < sizeof(l->buf); s++) {
        if (*s == '"' || *s == '\\')
            log_add(l, "\\%c", *s);
        else if (*s == '\n')
            log_add(l, "\\n");
        else
            l->buf[l->len++] = *s;
    }
    l->buf[l->len] = '\0';
    log_add(l, "\"");
}

/* Append " name=value" for a "NAME=value" field, the name lower-cased. */
char *
log_field_value(const struct log_field *f, char *buf, size_t size)
{
    switch (f->kind) {
    case LOG_FIELD_STR:
        snprintf(buf, size, "%s", f->v.s != NULL ? f->v.s : "");
        break;
    case LOG_FIELD_INT: snprintf(buf, size, "%lld", f->v.i); break;
    case LOG_FIELD_UINT: snprintf(buf, size, "%llu", f->v.u); break;
    case LOG_FIELD_DOUBLE: snprintf(buf, size, "%g", f->v.d); break;
    case LOG_FIELD_END:
    default: buf[0] = '\0'; break;
    }
    return buf;
}

static void
log_add_field(struct log_line *l, const struct log_field *f)
{
    char value[256];

    log_field_value(f, value, sizeof(value));
    log_add(l, " ");
    for (const char *c = f->name; *c != '\0'; c++)
        log_add(l, "%c", (char)(*c >= 'A' && *c <= 'Z' ? *c | 0x20 : *c));
    log_add(l, "=");
    if (value[0] == '\0' || strpbrk(value, " \"\\\n") != NULL)
        log_add_quoted(l, value);
    else
        log_add(l, "%s", value);
}

/* One line on stderr.  Returns 0, or -1 when it was not written (in the
 * monitor: dropped and counted, see log_output.c). */
static int
log_to_stderr(enum log_level level, struct log_who who, const char *event,
              const struct log_field *fields, const char *msg)
{
    struct log_line l = {.len = 0};

    log_add(&l, "level=%s role=%s", log_level_name(level), log_state.role);
    if (who.worker >= 0)
        log_add(&l, " worker=%d", who.worker);
    if (who.generation >= 0)
        log_add(&l, " gen=%lld", who.generation);
    log_add(&l, " pid=%ld", (long)getpid());
    if (event != NULL)
        log_add(&l, " event=%s", event);
    for (size_t i = 0; fields != NULL && fields[i].kind != LOG_FIELD_END; i++)
        log_add_field(&l, &fields[i]);
    log_add(&l, " msg=");
    log_add_quoted(&l, msg);
    if (l.len >= sizeof(l.buf) - 1)
        l.len = sizeof(l.buf) - 2;
    l.buf[l.len++] = '\n';
    /* A failed write to stderr has nowhere to be reported. */
    return log_output_write(l.buf, l.len);
}

/*
 * Send one journal entry: MESSAGE (len bytes of msg, newlines kept),
 * PRIORITY, SYSLOG_IDENTIFIER and the PITCHFORK_* fields of who, event
 * and fields.  Returns 0, or -1 with errno (ENOMEM, or what
 * sd_journal_sendv() failed with).
 */
static int
log_journal_send(int priority, struct log_who who, const char *event,
                 const struct log_field *fields, const char *msg, size_t len)
{
    static const char prefix[] = "MESSAGE=";
    struct iovec iov[LOG_FIELDS_MAX + 8];
    char f[LOG_FIELDS_MAX + 8][256];
    char *message;
    size_t n = 0;
    int r;

    message = malloc(sizeof(prefix) - 1 + len);
    if (message == NULL)
        return -1;
    memcpy(message, prefix, sizeof(prefix) - 1);
    memcpy(message + sizeof(prefix) - 1, msg, len);
    iov[n++] = (struct iovec){message, sizeof(prefix) - 1 + len};
#define ADDF(...)                                                             \
    do {                                                                      \
        int w_ = snprintf(f[n], sizeof(f[n]), __VA_ARGS__);                   \
        iov[n] = (struct iovec){f[n], w_ < 0 ? 0 : strlen(f[n])};             \
        n++;                                                                  \
    } while (0)
    ADDF("PRIORITY=%d", priority);
    ADDF("SYSLOG_IDENTIFIER=pitchfork");
    ADDF("PITCHFORK_ROLE=%s", log_state.role);
    ADDF("PITCHFORK_PID=%ld", (long)getpid());
    if (who.worker >= 0)
        ADDF("PITCHFORK_WORKER=%d", who.worker);
    if (who.generation >= 0)
        ADDF("PITCHFORK_GENERATION=%lld", who.generation);
    if (event != NULL)
        ADDF("PITCHFORK_EVENT=%s", event);
    for (size_t i = 0;
         fields && fields[i].kind != LOG_FIELD_END && i < LOG_FIELDS_MAX;
         i++) {
        char value[224];
        ADDF("PITCHFORK_%s=%s", fields[i].name,
             log_field_value(&fields[i], value, sizeof(value)));
    }
#undef ADDF
    r = log_output_journal(iov, n); /* never waits in the monitor */
    if (r == 1) {
        r = sd_journal_sendv(iov, (int)n); /* 0 when there is no journald */
        if (r < 0) {
            errno = -r;
            r = -1;
        }
    }
    free(message);
    return r;
}

static int
log_to_journal(enum log_level level, struct log_who who, const char *event,
               const struct log_field *fields, const char *msg)
{
    /* A failed send has nowhere to be reported. */
    return log_journal_send((int)level, who, event, fields, msg, strlen(msg));
}

void
log_report_dropped(void)
{
    uint64_t n = log_output_unreported();
    const struct log_field fields[] = {LOG_UINT("LOG_LINES_DROPPED", n),
                                       {.kind = LOG_FIELD_END}};
    char msg[128];
    int rc;

    if (n == 0)
        return;
    snprintf(msg, sizeof(msg),
             "%llu log lines dropped while the log was not read",
             (unsigned long long)n);
    log_output_uncounted(true); /* when it fails, it is tried again */
    if (log_state.journal)
        rc = log_to_journal(LOGL_WARN, log_self(), "log", fields, msg);
    else
        rc = log_to_stderr(LOGL_WARN, log_self(), "log", fields, msg);
    log_output_uncounted(false);
    if (rc == 0)
        log_output_reported(n);
}

uint64_t
log_dropped_total(void)
{
    return log_output_dropped();
}

static void
log_vevent(enum log_level level, struct log_who who, const char *event,
           const struct log_field *fields, const char *suffix, const char *fmt,
           va_list ap)
{
    char msg[LOG_LINE_MAX];
    int n;

    if (level == LOGL_DEBUG && !log_state.debug)
        return;
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (suffix != NULL && n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", suffix);
    log_report_dropped(); /* first, when the reader is back */
    if (log_state.journal)
        (void)log_to_journal(level, who, event, fields, msg);
    else
        (void)log_to_stderr(level, who, event, fields, msg);
}

void
log_event(enum log_level level, const char *event,
          const struct log_field *fields, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    log_vevent(level, log_self(), event, fields, NULL, fmt, ap);
    va_end(ap);
    errno = saved;
}

void
log_event_for(enum log_level level, const char *event, int worker,
              long long generation, const struct log_field *fields,
              const char *fmt, ...)
{
    struct log_who who = {worker, generation};
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    log_vevent(level, who, event, fields, NULL, fmt, ap);
    va_end(ap);
    errno = saved;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    log_vevent(level, log_self(), NULL, NULL, NULL, fmt, ap);
    va_end(ap);
    errno = saved;
}

void
log_sys(enum log_level level, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    log_vevent(level, log_self(), NULL, NULL, strerror(saved), fmt, ap);
    va_end(ap);
    errno = saved;
}

/* ---- the application's output ----------------------------------------- */

int
log_app(int priority, int fd, const char *msg, size_t len)
{
    struct log_field fields[] = {{.kind = LOG_FIELD_END},
                                 {.kind = LOG_FIELD_END}};

    if (!log_state.journal) {
        errno = ENOTCONN;
        return -1;
    }
    if (fd == STDOUT_FILENO)
        fields[0] = LOG_STR("STREAM", "stdout");
    else if (fd == STDERR_FILENO)
        fields[0] = LOG_STR("STREAM", "stderr");
    do {
        size_t n = len < LOG_APP_MAX ? len : LOG_APP_MAX;

        if (log_journal_send(priority, log_self(), NULL, fields, msg, n) < 0)
            return -1;
        msg += n;
        len -= n;
    } while (len > 0);
    return 0;
}

/*
 * One entry of what the application wrote to fd (1 or 2): info for
 * standard output, warning for standard error.  If the journal refuses
 * it, the bytes go to fd after all, as they would without pitchfork.
 */
static void
log_app_emit(int fd, const char *msg, size_t len)
{
    int priority = fd == STDOUT_FILENO ? LOGL_INFO : LOGL_WARN;
    struct iovec iov[2] = {{(void *)msg, len}, {(void *)"\n", 1}};

    if (log_app(priority, fd, msg, len) == 0)
        return;
    /* Best effort: a short or failed write has nowhere to be reported. */
    (void)!writev(fd, iov, 2);
}

void
log_app_flush(int fd)
{
    struct log_partial *p;

    if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
        return;
    p = &log_state.partial[fd];
    if (p->len == 0)
        return;
    /* A held line may end with its newline (log_app_continued). */
    log_app_emit(fd, p->buf, p->len - (p->buf[p->len - 1] == '\n'));
    p->len = 0;
}

/*
 * Hold n bytes of fd's line that is not complete yet.  A held line that
 * would grow past LOG_APP_MAX is sent as it is first; without memory the
 * bytes are sent at once, after what was held.
 */
static void
log_app_hold(int fd, const char *s, size_t n)
{
    struct log_partial *p = &log_state.partial[fd];

    if (n == 0)
        return;
    if (p->len + n > LOG_APP_MAX)
        log_app_flush(fd);
    if (n >= LOG_APP_MAX) {
        log_app_emit(fd, s, n);
        return;
    }
    if (p->cap < p->len + n) {
        size_t cap = p->cap < 256 ? 256 : p->cap;
        char *buf;

        while (cap < p->len + n)
            cap *= 2;
        buf = realloc(p->buf, cap < LOG_APP_MAX ? cap : LOG_APP_MAX);
        if (buf == NULL) {
            log_app_flush(fd);
            log_app_emit(fd, s, n);
            return;
        }
        p->buf = buf;
        p->cap = cap < LOG_APP_MAX ? cap : LOG_APP_MAX;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
}

/*
 * Ruby reports a thread's death in two writes: this line, then the
 * exception with its backtrace.  A write that ends with it is held, so
 * that the report is one entry.
 */
static bool
log_app_continued(const char *buf, size_t len)
{
    static const char head[] =
        " terminated with exception (report_on_exception is true):\n";
    size_t n = sizeof(head) - 1;

    return len >= n && memcmp(buf + len - n, head, n) == 0;
}

void
log_app_write(int fd, const char *buf, size_t len)
{
    const char *nl = memrchr(buf, '\n', len);
    struct log_partial *p;
    size_t head;

    if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
        return;
    if (nl == NULL || log_app_continued(buf, len)) {
        log_app_hold(fd, buf, len);
        return;
    }
    /* Up to the last newline: one entry, with what was held before. */
    p = &log_state.partial[fd];
    head = (size_t)(nl - buf);
    if (p->len > 0 && p->len + head <= LOG_APP_MAX) {
        log_app_hold(fd, buf, head);
        log_app_flush(fd);
    } else {
        log_app_flush(fd);
        log_app_emit(fd, buf, head);
    }
    log_app_hold(fd, nl + 1, len - head - 1);
}
