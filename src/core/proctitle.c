/*
 * Process titles: rewrite the memory that held argv and the environment
 * so /proc/PID/cmdline shows the role.  See proctitle.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/proctitle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern char **environ;

static char *title_start;
static size_t title_len;

/* The moved environment: n strings, NULL, then the same n pointers
 * again, so that strings unsetenv() drops from environ (LISTEN_* after
 * socket activation) stay owned here rather than leak.  volatile: it is
 * never read, and an optimizer would drop the store, and with it the
 * only reference LeakSanitizer can see once setenv() (PWD) replaces
 * environ. */
static char **volatile moved_environ;

/* Free the strings v[0..n) and the vector v (a copy that failed). */
static void
proctitle_free_copy(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Copy environ to the heap so its strings can be overwritten. */
static int
proctitle_move_environ(void)
{
    size_t n = 0;
    char **copy;

    while (environ[n] != NULL)
        n++;
    copy = calloc(2 * n + 1, sizeof(*copy));
    if (copy == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((copy[i] = copy[n + 1 + i] = strdup(environ[i])) == NULL) {
            proctitle_free_copy(copy, i);
            return -1;
        }
    moved_environ = copy;
    environ = copy;
    return 0;
}

char **
proctitle_init(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    char *end;

    if (args == NULL)
        return NULL;
    for (int i = 0; i < argc; i++)
        if ((args[i] = strdup(argv[i])) == NULL) {
            proctitle_free_copy(args, (size_t)i);
            return NULL;
        }
    /* The contiguous area runs from argv[0] to the end of the last
     * argument or environment string that directly follows it. */
    end = argv[0] + strlen(argv[0]) + 1;
    for (int i = 1; i < argc && argv[i] == end; i++)
        end = argv[i] + strlen(argv[i]) + 1;
    for (char **e = environ; *e != NULL && *e == end; e++)
        end = *e + strlen(*e) + 1;
    if (proctitle_move_environ() < 0) {
        proctitle_free_copy(args, (size_t)argc);
        return NULL;
    }
    title_start = argv[0];
    title_len = (size_t)(end - argv[0]);
    /* comm, inherited by every child, is "pitchfork" for pgrep and top;
     * a failure only affects that. */
    (void)prctl(PR_SET_NAME, "pitchfork", 0, 0, 0);
    return args;
}

static void
proctitle_vset(const char *fmt, va_list ap)
{
    if (title_start == NULL || title_len < 2)
        return;
    memset(title_start, 0, title_len);
    vsnprintf(title_start, title_len - 1, fmt, ap);
}

void
proctitle_set(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    proctitle_vset(fmt, ap);
    va_end(ap);
}

/*
 * libruby 3.1 exports setproctitle(); the executable's definition wins at
 * link time, so Ruby's $0= and Process.setproctitle land here.
 */
void setproctitle(const char *fmt, ...);

void
setproctitle(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    proctitle_vset(fmt, ap);
    va_end(ap);
}
