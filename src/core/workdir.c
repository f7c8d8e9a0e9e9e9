/*
 * The working directory as named, and entering it.  See workdir.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/workdir.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/settings.h"
#include "core/unit_workdir.h"

/* True when a and b name the same directory (device and inode). */
static bool
workdir_same(const char *a, const char *b)
{
    struct stat sa, sb;

    if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
        return false; /* then they are not known to be the same */
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* True when path is absolute and names the directory "." is. */
static bool
workdir_is_dot(const char *path)
{
    return path != NULL && path[0] == '/' && workdir_same(path, ".");
}

/* The working directory as getcwd() names it, symlinks resolved. */
static char *
workdir_getcwd(char *err, size_t errsz)
{
    char *dir = getcwd(NULL, 0);

    if (dir == NULL)
        snprintf(err, errsz, "working directory: getcwd: %s", strerror(errno));
    return dir;
}

char *
workdir_start(char *how, size_t howsz, char *err, size_t errsz)
{
    const char *pwd = getenv("PWD");
    char why[512], *dir;

    if (workdir_is_dot(pwd)) {
        snprintf(how, howsz, "as $PWD names it");
        if ((dir = strdup(pwd)) == NULL)
            snprintf(err, errsz, "working directory: out of memory");
        return dir;
    }
    dir = unit_workdir_get(why, sizeof(why));
    if (dir != NULL && workdir_is_dot(dir)) {
        snprintf(how, howsz, "as the unit's WorkingDirectory= names it");
        return dir;
    }
    if (dir != NULL)
        snprintf(how, howsz,
                 "from getcwd(), symlinks resolved; the unit's "
                 "WorkingDirectory=%s is another directory",
                 dir);
    else if (why[0] != '\0')
        snprintf(how, howsz,
                 "from getcwd(), symlinks resolved; the unit's "
                 "WorkingDirectory= is unknown: %s",
                 why);
    else
        snprintf(how, howsz, "from getcwd(), symlinks resolved");
    free(dir);
    return workdir_getcwd(err, errsz);
}

char *
workdir_join(const char *dir, const char *path)
{
    size_t dlen = strlen(dir), plen;
    char *out;

    if (path[0] == '/')
        return strdup(path);
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (strcmp(path, ".") == 0 || path[0] == '\0')
        return strdup(dir);
    while (dlen > 0 && dir[dlen - 1] == '/')
        dlen--; /* "/" itself becomes "", then "/path" below */
    plen = strlen(path);
    out = malloc(dlen + plen + 2);
    if (out == NULL)
        return NULL;
    memcpy(out, dir, dlen);
    out[dlen] = '/';
    memcpy(out + dlen + 1, path, plen + 1);
    return out;
}

int
workdir_enter(const char *path, char *err, size_t errsz)
{
    if (chdir(path) < 0) {
        snprintf(err, errsz, "working_directory %s: chdir: %s", path,
                 strerror(errno));
        return -1;
    }
    if (setenv("PWD", path, 1) < 0) {
        snprintf(err, errsz, "working_directory %s: setenv PWD: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int
workdir_settle(struct settings *s, const char *start, char *err, size_t errsz)
{
    const char *named = s->working_directory;
    char *dir;

    if (named == NULL || named[0] == '\0')
        named = ".";
    dir = workdir_join(start, named);
    if (dir == NULL) {
        snprintf(err, errsz, "working_directory %s: out of memory", named);
        return -1;
    }
    free(s->working_directory);
    s->working_directory = dir;
    return workdir_enter(dir, err, errsz);
}

int
workdir_follow_env(const char *dir, const char *var, char *err, size_t errsz)
{
    const char *value = getenv(var);
    char *parent, *base, *named;
    int rc = 0;

    if (value == NULL || value[0] != '/')
        return 0;
    if ((parent = strdup(value)) == NULL) {
        snprintf(err, errsz, "%s: out of memory", var);
        return -1;
    }
    base = strrchr(parent, '/');
    *base++ = '\0';
    if (strcmp(parent, dir) != 0 &&
        workdir_same(parent[0] != '\0' ? parent : "/", dir)) {
        named = workdir_join(dir, base);
        if (named == NULL || setenv(var, named, 1) < 0) {
            snprintf(err, errsz, "%s=%s: %s", var, value,
                     named == NULL ? "out of memory" : strerror(errno));
            rc = -1;
        } else {
            rc = 1;
        }
        free(named);
    }
    free(parent);
    return rc;
}
