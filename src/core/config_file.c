/*
 * The configuration file's settings for the monitor, read from a
 * short-lived child.  See config_file.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/settings.h"
#include "core/settings_table.h"
#include "core/settings_value.h"

#define CONFIG_OUTPUT_MAX (64 * 1024)

/* Read everything the child wrote; returns a heap string or NULL. */
static char *
config_read_all(int fd)
{
    char *buf = malloc(CONFIG_OUTPUT_MAX + 1);
    size_t len = 0;
    ssize_t n;

    if (buf == NULL)
        return NULL;
    while (len < CONFIG_OUTPUT_MAX &&
           ((n = read(fd, buf + len, CONFIG_OUTPUT_MAX - len)) != 0)) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_syserr("read the configuration from its child");
            free(buf);
            return NULL;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* Apply "name\tvalue\n" lines to s. */
static int
config_apply_lines(struct settings *s, const char *path, char *lines)
{
    char *save = NULL, err[1024], origin[512];

    for (char *l = strtok_r(lines, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(l, '\t');
        const struct setting_def *d;
        if (tab == NULL)
            continue;
        *tab = '\0';
        d = settings_table_find(l);
        if (d == NULL) {
            log_err("%s: unknown setting %s", path, l);
            return -1;
        }
        snprintf(origin, sizeof(origin), "%s in %s", l, path);
        if (settings_value_set(s, d, tab + 1, origin, err, sizeof(err)) < 0) {
            log_err("%s", err);
            return -1;
        }
    }
    return 0;
}

int
config_file_apply(struct settings *s, const char *path,
                  config_file_child_fn child)
{
    int fds[2], st = 0, rc;
    char *out;
    pid_t pid;

    if (access(path, R_OK) < 0) {
        log_syserr("configuration file %s", path);
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        log_syserr("pipe for the configuration file");
        return -1;
    }
    /* So that the child does not write our buffered output again; a
     * failure to flush loses only those log lines. */
    (void)fflush(NULL);
    if ((pid = fork()) < 0) {
        log_syserr("fork to read the configuration file");
        return -1;
    }
    if (pid == 0) {
        (void)close(fds[0]); /* the reading end is the monitor's */
        child(s, path, fds[1]);
    }
    (void)close(fds[1]); /* so that EOF arrives when the child exits */
    out = config_read_all(fds[0]);
    (void)close(fds[0]);
    while ((rc = (int)waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        log_syserr("waitpid for the configuration file's child");
    rc = -1;
    if (out != NULL && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        rc = config_apply_lines(s, path, out);
    else
        log_err("the configuration file %s could not be evaluated", path);
    free(out);
    return rc;
}
