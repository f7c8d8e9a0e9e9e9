/*
 * cgroup v1 and v2 readings: memory.max / memory.limit_in_bytes,
 * memory.high, memory.current / memory.usage_in_bytes, cpu.max /
 * cpu.cfs_quota_us, and USS from /proc/PID/smaps_rollup.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/cgroup.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

/* v1 reports "unlimited" as a huge page-aligned number. */
#define CGROUP_HUGE (1ULL << 62)

/* The v2 leaf the monitor moved itself into ("/monitor"), or "". */
static char cgroup_leaf[64];

/* Read the first line of root/dir/file into buf; -1 when absent. */
static int
cgroup_file(const char *root, const char *dir, const char *file, char *buf,
            size_t size)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s%s/%s", root, dir, file);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    if (fgets(buf, (int)size, f) == NULL) {
        (void)fclose(f); /* read only: nothing to lose */
        return -1;
    }
    (void)fclose(f); /* read only: nothing to lose */
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* "max", a number, or a v1 huge number: bytes or CGROUP_UNLIMITED. */
static uint64_t
cgroup_bytes(const char *root, const char *dir, const char *file)
{
    char buf[64];
    unsigned long long v;

    if (cgroup_file(root, dir, file, buf, sizeof(buf)) < 0 ||
        strcmp(buf, "max") == 0 || sscanf(buf, "%llu", &v) != 1 ||
        v >= CGROUP_HUGE)
        return CGROUP_UNLIMITED;
    return v;
}

/* The value of key in a "key value" file such as memory.stat, or 0. */
static uint64_t
cgroup_stat(const char *root, const char *dir, const char *file,
            const char *key)
{
    char path[4096], line[256];
    size_t n = strlen(key);
    unsigned long long v = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s%s/%s", root, dir, file);
    if ((f = fopen(path, "re")) == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, n) == 0 && line[n] == ' ' &&
            sscanf(line + n + 1, "%llu", &v) == 1)
            break;
    (void)fclose(f); /* read only: nothing to lose */
    return v;
}

/* True when the comma list controllers names ctl; "" matches "" only. */
static bool
cgroup_has_controller(const char *controllers, const char *ctl)
{
    size_t n = strlen(ctl);

    if (n == 0)
        return controllers[0] == '\0';
    for (const char *c = controllers; c != NULL;
         c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
        if (strncmp(c, ctl, n) == 0 && (c[n] == ',' || c[n] == '\0'))
            return true;
    return false;
}

/*
 * Find the path of controller ctl ("memory", "cpu", or "" for the v2
 * unified hierarchy) in a /proc/self/cgroup file.  Lines look like
 * "4:memory:/system.slice/x" (v1) or "0::/system.slice/x" (v2).  The
 * root path "/" becomes "".
 */
static int
cgroup_path(const char *proc_cgroup, const char *ctl, char *out, size_t size)
{
    char line[4096];
    FILE *f = fopen(proc_cgroup, "re");
    int found = -1;

    if (f == NULL)
        return -1;
    while (found < 0 && fgets(line, sizeof(line), f) != NULL) {
        char *controllers = strchr(line, ':');
        char *path = controllers ? strchr(controllers + 1, ':') : NULL;
        if (path == NULL)
            continue;
        *controllers++ = '\0';
        *path++ = '\0';
        path[strcspn(path, "\n")] = '\0';
        if (cgroup_has_controller(controllers, ctl)) {
            snprintf(out, size, "%s", strcmp(path, "/") ? path : "");
            found = 0;
        }
    }
    (void)fclose(f); /* read only: nothing to lose */
    return found;
}

/* A v2 path in the leaf cgroup_leaf names its parent, the service's. */
static void
cgroup_strip_leaf(char *path)
{
    size_t n = strlen(path), l = strlen(cgroup_leaf);

    if (l > 0 && n >= l && strcmp(path + n - l, cgroup_leaf) == 0)
        path[n - l] = '\0';
}

void
cgroup_set_leaf(const char *leaf)
{
    snprintf(cgroup_leaf, sizeof(cgroup_leaf), "/%s", leaf);
}

static void
cgroup_read_v2(struct cgroup_limits *cg, const char *root, const char *path)
{
    char buf[64], quota[32];
    unsigned long long period;

    cg->version = 2;
    cg->memory_max = cgroup_bytes(root, path, "memory.max");
    cg->memory_high = cgroup_bytes(root, path, "memory.high");
    cg->memory_current = cgroup_bytes(root, path, "memory.current");
    if (cg->memory_current == CGROUP_UNLIMITED)
        cg->memory_current = 0;
    cg->memory_inactive_file = cgroup_stat(root, path, "memory.stat",
                                           "inactive_file");
    if (cgroup_file(root, path, "cpu.max", buf, sizeof(buf)) == 0 &&
        sscanf(buf, "%31s %llu", quota, &period) == 2 &&
        strcmp(quota, "max") != 0 && period > 0)
        cg->cpus = strtod(quota, NULL) / (double)period;
}

static void
cgroup_read_v1(struct cgroup_limits *cg, const char *root, const char *mem,
               const char *cpu)
{
    char dir[4200], buf[64];
    long long quota;
    unsigned long long period;

    cg->version = 1;
    snprintf(dir, sizeof(dir), "/memory%s", mem);
    cg->memory_max = cgroup_bytes(root, dir, "memory.limit_in_bytes");
    cg->memory_current = cgroup_bytes(root, dir, "memory.usage_in_bytes");
    if (cg->memory_current == CGROUP_UNLIMITED)
        cg->memory_current = 0;
    /* total_: with the descendants, as usage_in_bytes counts them. */
    cg->memory_inactive_file = cgroup_stat(root, dir, "memory.stat",
                                           "total_inactive_file");
    snprintf(dir, sizeof(dir), "/cpu%s", cpu);
    if (cgroup_file(root, dir, "cpu.cfs_quota_us", buf, sizeof(buf)) == 0 &&
        sscanf(buf, "%lld", &quota) == 1 && quota > 0 &&
        cgroup_file(root, dir, "cpu.cfs_period_us", buf, sizeof(buf)) == 0 &&
        sscanf(buf, "%llu", &period) == 1 && period > 0)
        cg->cpus = (double)quota / (double)period;
}

int
cgroup_read(struct cgroup_limits *cg, const char *root,
            const char *proc_cgroup)
{
    char mem[4096], cpu[4096], unified[4096];

    *cg = (struct cgroup_limits){.memory_max = CGROUP_UNLIMITED,
                                 .memory_high = CGROUP_UNLIMITED};
    if (cgroup_path(proc_cgroup, "memory", mem, sizeof(mem)) == 0) {
        if (cgroup_path(proc_cgroup, "cpu", cpu, sizeof(cpu)) < 0)
            cpu[0] = '\0';
        cgroup_read_v1(cg, root, mem, cpu);
        return 0;
    }
    if (cgroup_path(proc_cgroup, "", unified, sizeof(unified)) == 0) {
        cgroup_strip_leaf(unified);
        cgroup_read_v2(cg, root, unified);
        return 0;
    }
    if (access(proc_cgroup, R_OK) < 0) {
        log_syswarn("cgroup: cannot read %s", proc_cgroup);
        return -1;
    }
    return 0;
}

int
cgroup_memory_dir(const char *root, const char *proc_cgroup, char *out,
                  size_t size)
{
    char path[4096];

    if (cgroup_path(proc_cgroup, "memory", path, sizeof(path)) == 0) {
        snprintf(out, size, "%s/memory%s", root, path);
        return 1;
    }
    if (cgroup_path(proc_cgroup, "", path, sizeof(path)) == 0) {
        cgroup_strip_leaf(path);
        snprintf(out, size, "%s%s", root, path);
        return 2;
    }
    return -1;
}

uint64_t
cgroup_working_set(const struct cgroup_limits *cg)
{
    if (cg->memory_inactive_file >= cg->memory_current)
        return 0;
    return cg->memory_current - cg->memory_inactive_file;
}

int
cgroup_read_self(struct cgroup_limits *cg)
{
    const char *root = getenv("PITCHFORK_CGROUP_ROOT");
    const char *self = getenv("PITCHFORK_CGROUP_SELF");

    return cgroup_read(cg, root && *root ? root : "/sys/fs/cgroup",
                       self && *self ? self : "/proc/self/cgroup");
}

int
cgroup_default_workers(const struct cgroup_limits *cg)
{
    cpu_set_t set;
    int n = 1;

    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        n = CPU_COUNT(&set);
    if (cg->cpus > 0 && ceil(cg->cpus) < n)
        n = (int)ceil(cg->cpus);
    return n < 1 ? 1 : n;
}

uint64_t
cgroup_worker_cap(uint64_t limit, uint64_t mold, int workers)
{
    if (limit == CGROUP_UNLIMITED || limit <= mold || workers < 1)
        return 0;
    return (limit - mold) / (uint64_t)(workers + 1);
}

int
cgroup_process_memory_pss(pid_t pid, uint64_t *rss, uint64_t *uss,
                          uint64_t *pss)
{
    char path[64], line[256];
    unsigned long long kb;
    FILE *f;

    *rss = *uss = *pss = 0;
    snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "Rss: %llu kB", &kb) == 1)
            *rss += (uint64_t)kb * 1024;
        else if (sscanf(line, "Pss: %llu kB", &kb) == 1)
            *pss += (uint64_t)kb * 1024;
        else if (sscanf(line, "Private_Clean: %llu kB", &kb) == 1 ||
                 sscanf(line, "Private_Dirty: %llu kB", &kb) == 1)
            *uss += (uint64_t)kb * 1024;
    }
    (void)fclose(f); /* read only: nothing to lose */
    return 0;
}

int
cgroup_process_memory(pid_t pid, uint64_t *rss, uint64_t *uss)
{
    uint64_t pss;

    return cgroup_process_memory_pss(pid, rss, uss, &pss);
}

uint64_t
cgroup_private_memory(pid_t pid)
{
    uint64_t rss, uss;

    return cgroup_process_memory(pid, &rss, &uss) < 0 ? 0 : uss;
}
