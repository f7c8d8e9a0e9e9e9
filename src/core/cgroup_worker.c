/*
 * Per-worker cgroups with a hard memory limit (see cgroup_worker.h):
 * v1 memory.limit_in_bytes (and memory.memsw.limit_in_bytes, so that
 * swap is no way around it) with memory.oom_control's oom_kill counter,
 * or v2 memory.max, memory.swap.max 0 and memory.oom.group with
 * memory.events' oom_kill counter.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/cgroup_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cgroup.h"

/* Set by the monitor before its first fork, inherited by its children. */
static struct {
    int version;     /* 1 or 2; 0: off */
    char base[4096]; /* the service's memory cgroup */
    char home[4200]; /* the monitor's and the molds': base or base/monitor */
    uint64_t limit;  /* bytes */
} cw;

/* Write text to dir/file as "echo text > file" does.  Returns 0, or -1
 * with errno. */
static int
cgroup_worker_write(const char *dir, const char *file, const char *text)
{
    char path[4400];
    size_t n = strlen(text);
    ssize_t w;
    int fd, saved;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
        return -1;
    w = write(fd, text, n);
    saved = errno;
    if (close(fd) < 0 && w == (ssize_t)n)
        return -1;
    errno = saved;
    return w == (ssize_t)n ? 0 : -1;
}

/* Write this process's pid to dir/cgroup.procs: move it there. */
static int
cgroup_worker_move_self(const char *dir)
{
    char pid[32];

    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    return cgroup_worker_write(dir, "cgroup.procs", pid);
}

/* v2: the monitor into the leaf base/monitor, then the memory
 * controller for base's children (the "no internal processes" rule:
 * a cgroup that enables controllers for its children holds no
 * process).  Returns 0, or -1 with why filled. */
static int
cgroup_worker_setup_v2(char *why, size_t whysz)
{
    snprintf(cw.home, sizeof(cw.home), "%s/monitor", cw.base);
    if (mkdir(cw.home, 0755) < 0 && errno != EEXIST) {
        snprintf(why, whysz, "cannot create the cgroup %s: %s", cw.home,
                 strerror(errno));
        return -1;
    }
    if (cgroup_worker_move_self(cw.home) < 0) {
        snprintf(why, whysz, "cannot move the monitor into %s: %s", cw.home,
                 strerror(errno));
        return -1;
    }
    cgroup_set_leaf("monitor"); /* the limits read stay the service's */
    if (cgroup_worker_write(cw.base, "cgroup.subtree_control", "+memory") <
        0) {
        snprintf(why, whysz,
                 "cannot enable the memory controller in "
                 "%s/cgroup.subtree_control: %s",
                 cw.base, strerror(errno));
        return -1;
    }
    return 0;
}

int
cgroup_worker_setup(const char *root, const char *proc_cgroup, uint64_t limit,
                    char *why, size_t whysz)
{
    char procs[4200];
    int version;

    cw.version = 0;
    version = cgroup_memory_dir(root, proc_cgroup, cw.base, sizeof(cw.base));
    if (version < 0) {
        snprintf(why, whysz, "%s names no memory cgroup", proc_cgroup);
        return -1;
    }
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", cw.base);
    if (access(procs, W_OK) < 0) {
        snprintf(why, whysz,
                 "the cgroup %s is not delegated to the service "
                 "(Delegate=yes), %s: %s",
                 cw.base, procs, strerror(errno));
        return -1;
    }
    snprintf(cw.home, sizeof(cw.home), "%s", cw.base);
    if (version == 2 && cgroup_worker_setup_v2(why, whysz) < 0)
        return -1;
    cw.limit = limit;
    cw.version = version;
    return 0;
}

int
cgroup_worker_version(void)
{
    return cw.version;
}

void
cgroup_worker_dir(int nr, char *buf, size_t size)
{
    snprintf(buf, size, "%s/worker-%d", cw.base, nr);
}

/* Write an optional file: one the kernel lacks (no swap accounting,
 * an older kernel) is fine. */
static int
cgroup_worker_write_optional(const char *dir, const char *file,
                             const char *text)
{
    if (cgroup_worker_write(dir, file, text) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

int
cgroup_worker_make(int nr)
{
    char dir[4400], limit[32];

    if (cw.version == 0) {
        errno = ENOTSUP;
        return -1;
    }
    cgroup_worker_dir(nr, dir, sizeof(dir));
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -1;
    snprintf(limit, sizeof(limit), "%" PRIu64 "\n", cw.limit);
    if (cw.version == 1) {
        if (cgroup_worker_write(dir, "memory.limit_in_bytes", limit) < 0)
            return -1;
        /* memsw: memory and swap together, so that swap is no way out */
        return cgroup_worker_write_optional(dir, "memory.memsw.limit_in_bytes",
                                            limit);
    }
    if (cgroup_worker_write(dir, "memory.max", limit) < 0 ||
        cgroup_worker_write_optional(dir, "memory.swap.max", "0\n") < 0)
        return -1;
    /* oom.group: what the worker started dies with it, not in its place */
    return cgroup_worker_write_optional(dir, "memory.oom.group", "1\n");
}

int
cgroup_worker_enter(int nr)
{
    char dir[4400];

    if (cw.version == 0) {
        errno = ENOTSUP;
        return -1;
    }
    cgroup_worker_dir(nr, dir, sizeof(dir));
    return cgroup_worker_move_self(dir);
}

int
cgroup_worker_leave(void)
{
    if (cw.version == 0)
        return 0; /* never entered one */
    return cgroup_worker_move_self(cw.home);
}

uint64_t
cgroup_worker_parse_oom_kill(const char *text)
{
    static const char key[] = "oom_kill ";

    for (const char *line = text; line != NULL && *line != '\0';
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, sizeof(key) - 1) == 0)
            return strtoull(line + sizeof(key) - 1, NULL, 10);
    return 0;
}

int
cgroup_worker_oom_kills(int nr, uint64_t *kills)
{
    char path[4400], text[1024];
    ssize_t n;
    int fd, saved;

    cgroup_worker_dir(nr, path, sizeof(path));
    strncat(path, cw.version == 1 ? "/memory.oom_control" : "/memory.events",
            sizeof(path) - strlen(path) - 1);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    n = read(fd, text, sizeof(text) - 1);
    saved = errno;
    (void)close(fd); /* read only: nothing to lose */
    errno = saved;
    if (n < 0)
        return -1;
    text[n] = '\0';
    *kills = cgroup_worker_parse_oom_kill(text);
    return 0;
}

int
cgroup_worker_remove(int nr)
{
    char dir[4400];

    cgroup_worker_dir(nr, dir, sizeof(dir));
    if (rmdir(dir) < 0 && errno != ENOENT)
        return -1;
    return 0;
}
