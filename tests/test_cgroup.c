/*
 * Unit tests of the cgroup reader on fake v1 and v2 trees, and of the
 * default worker count.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/cgroup_worker.h"
#include "tap.h"

static char root[256];

static void
put(const char *rel, const char *content)
{
    char path[512], cmd[700];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
    if (system(cmd) != 0 || (f = fopen(path, "w")) == NULL)
        bail("cannot write %s", path);
    fputs(content, f);
    fclose(f);
}

static void
test_v1(void)
{
    struct cgroup_limits cg;
    char self[512];

    put("self1", "12:cpu,cpuacct:/system.slice/app.service\n"
                 "5:memory:/system.slice/app.service\n"
                 "0::/system.slice/app.service\n");
    put("memory/system.slice/app.service/memory.limit_in_bytes", "67108864\n");
    put("memory/system.slice/app.service/memory.usage_in_bytes", "1048576\n");
    put("cpu,cpuacct/system.slice/app.service/cpu.cfs_quota_us", "50000\n");
    put("cpu/system.slice/app.service/cpu.cfs_quota_us", "150000\n");
    put("cpu/system.slice/app.service/cpu.cfs_period_us", "100000\n");
    snprintf(self, sizeof(self), "%s/self1", root);
    is_int(cgroup_read(&cg, root, self), 0, "v1 read");
    is_int(cg.version, 1, "v1 detected (memory controller in v1)");
    is_int((long long)cg.memory_max, 67108864, "v1 memory limit");
    is_int((long long)cg.memory_current, 1048576, "v1 usage");
    is_int((long long)cg.memory_inactive_file, 0, "v1 no memory.stat: 0");
    put("memory/system.slice/app.service/memory.stat",
        "cache 800000\ninactive_file 5\ntotal_cache 900000\n"
        "total_inactive_file 524288\n");
    cgroup_read(&cg, root, self);
    is_int((long long)cg.memory_inactive_file, 524288,
           "v1 total_inactive_file (with descendants)");
    is_int((long long)cgroup_working_set(&cg), 524288,
           "v1 working set: usage less inactive page cache");
    ok(cg.memory_high == CGROUP_UNLIMITED, "v1 has no memory.high");
    ok(cg.cpus == 1.5, "v1 cpu quota 1.5");
    ok(cgroup_default_workers(&cg) <= 2, "workers bounded by quota");
    put("memory/system.slice/app.service/memory.limit_in_bytes",
        "9223372036854771712\n");
    cgroup_read(&cg, root, self);
    ok(cg.memory_max == CGROUP_UNLIMITED, "v1 huge value is unlimited");
}

static void
test_v2(void)
{
    struct cgroup_limits cg;
    char self[512];

    put("self2", "0::/system.slice/web.service\n");
    put("system.slice/web.service/memory.max", "134217728\n");
    put("system.slice/web.service/memory.high", "max\n");
    put("system.slice/web.service/memory.current", "4096\n");
    put("system.slice/web.service/cpu.max", "200000 100000\n");
    snprintf(self, sizeof(self), "%s/self2", root);
    is_int(cgroup_read(&cg, root, self), 0, "v2 read");
    is_int(cg.version, 2, "v2 detected");
    is_int((long long)cg.memory_max, 134217728, "v2 memory.max");
    ok(cg.memory_high == CGROUP_UNLIMITED, "v2 memory.high max");
    is_int((long long)cg.memory_current, 4096, "v2 memory.current");
    put("system.slice/web.service/memory.stat",
        "anon 100\nfile 9000\nactive_file 3\ninactive_file 8192\n");
    cgroup_read(&cg, root, self);
    is_int((long long)cg.memory_inactive_file, 8192, "v2 inactive_file");
    is_int((long long)cgroup_working_set(&cg), 0,
           "v2 working set is 0 when the cache exceeds memory.current");
    ok(cg.cpus == 2.0, "v2 cpu.max 2 CPUs");
    put("system.slice/web.service/cpu.max", "max 100000\n");
    cgroup_read(&cg, root, self);
    ok(cg.cpus == 0, "v2 cpu.max max is unlimited");
    ok(cgroup_default_workers(&cg) >= 1, "at least one worker");
    put("self3", "0::/\n");
    snprintf(self, sizeof(self), "%s/self3", root);
    put("memory.max", "1000\n");
    cgroup_read(&cg, root, self);
    is_int((long long)cg.memory_max, 1000, "v2 root cgroup path");
    snprintf(self, sizeof(self), "%s/missing", root);
    is_int(cgroup_read(&cg, root, self), -1, "missing cgroup file fails");
}

/* The first line of root/rel, or "" when it is unreadable. */
static const char *
get(const char *rel)
{
    static char buf[256];
    char path[512];
    FILE *f;

    buf[0] = '\0';
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(buf, sizeof(buf), f) == NULL)
            buf[0] = '\0';
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static void
test_oom_kill_parse(void)
{
    is_int((long long)cgroup_worker_parse_oom_kill(
               "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\n"
               "oom_group_kill 1\n"),
           1, "v2 memory.events: oom_kill, not oom or oom_group_kill");
    is_int((long long)cgroup_worker_parse_oom_kill(
               "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n"),
           7, "v1 memory.oom_control: oom_kill, not oom_kill_disable");
    is_int((long long)cgroup_worker_parse_oom_kill("oom_kill_disable 0\n"
                                                   "under_oom 0\n"),
           0, "an older kernel's memory.oom_control: no counter, 0");
    is_int((long long)cgroup_worker_parse_oom_kill(""), 0, "empty: 0");
}

static void
test_worker_cgroups_v2(void)
{
    struct cgroup_limits cg;
    char self[512], why[8192], pid[32];
    uint64_t kills = 9;

    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    put("self-w2", "0::/w2/app.service\n");
    snprintf(self, sizeof(self), "%s/self-w2", root);
    put("w2/app.service/memory.max", "max\n");
    is_int(cgroup_worker_setup(root, self, 1 << 20, why, sizeof(why)), -1,
           "v2: no cgroup.procs to write: refused");
    ok(strstr(why, "is not delegated to the service (Delegate=yes)") != NULL,
       "saying why: %s", why);
    is_int(cgroup_worker_version(), 0, "and off");
    put("w2/app.service/cgroup.procs", "");
    put("w2/app.service/cgroup.subtree_control", "");
    put("w2/app.service/monitor/cgroup.procs", "");
    is_int(cgroup_worker_setup(root, self, 1 << 20, why, sizeof(why)), 0,
           "v2: set up");
    is_str(get("w2/app.service/monitor/cgroup.procs"), pid,
           "the monitor moved into the leaf monitor/");
    is_str(get("w2/app.service/cgroup.subtree_control"), "+memory",
           "the memory controller enabled for the children");
    put("self-w2m", "0::/w2/app.service/monitor\n");
    snprintf(self, sizeof(self), "%s/self-w2m", root);
    put("w2/app.service/monitor/memory.max", "max\n");
    put("w2/app.service/memory.max", "536870912\n");
    cgroup_read(&cg, root, self);
    is_int((long long)cg.memory_max, 536870912,
           "the monitor in monitor/ still reads the service's limit");
    put("w2/app.service/worker-3/memory.max", "max\n");
    put("w2/app.service/worker-3/memory.swap.max", "max\n");
    put("w2/app.service/worker-3/cgroup.procs", "");
    put("w2/app.service/worker-3/memory.events", "oom 1\noom_kill 1\n");
    is_int(cgroup_worker_make(3), 0, "worker 3's cgroup made");
    is_str(get("w2/app.service/worker-3/memory.max"), "1048576",
           "memory.max is the limit");
    is_str(get("w2/app.service/worker-3/memory.swap.max"), "0",
           "memory.swap.max 0: no swapping past it");
    is_int(cgroup_worker_enter(3), 0, "a worker enters it");
    is_str(get("w2/app.service/worker-3/cgroup.procs"), pid,
           "its pid in worker-3/cgroup.procs");
    ok(cgroup_worker_oom_kills(3, &kills) == 0 && kills == 1,
       "its oom_kill counter read from memory.events");
    put("w2/app.service/monitor/cgroup.procs", "");
    is_int(cgroup_worker_leave(), 0, "a promoted worker leaves it");
    is_str(get("w2/app.service/monitor/cgroup.procs"), pid,
           "for the monitor's cgroup");
    is_int(cgroup_worker_make(4), -1, "a cgroup without memory.max fails");
}

static void
test_worker_cgroups_v1(void)
{
    char self[512], why[8192];
    uint64_t kills = 9;

    put("self-w1", "9:memory:/w1/app.service\n0::/\n");
    snprintf(self, sizeof(self), "%s/self-w1", root);
    put("memory/w1/app.service/cgroup.procs", "");
    is_int(cgroup_worker_setup(root, self, 2 << 20, why, sizeof(why)), 0,
           "v1: set up");
    is_int(cgroup_worker_version(), 1, "v1 in use");
    put("memory/w1/app.service/worker-0/memory.limit_in_bytes", "0\n");
    put("memory/w1/app.service/worker-0/memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    is_int(cgroup_worker_make(0), 0, "worker 0's cgroup made");
    is_str(get("memory/w1/app.service/worker-0/memory.limit_in_bytes"),
           "2097152", "memory.limit_in_bytes is the limit");
    ok(cgroup_worker_oom_kills(0, &kills) == 0 && kills == 2,
       "its oom_kill counter read from memory.oom_control");
}

int
main(void)
{
    char cmd[300];

    snprintf(root, sizeof(root), "/tmp/pf-cgroup-test.XXXXXX");
    if (mkdtemp(root) == NULL)
        bail("mkdtemp");
    test_v1();
    test_v2();
    test_oom_kill_parse();
    test_worker_cgroups_v2();
    test_worker_cgroups_v1();
    ok(cgroup_private_memory(getpid()) > 0, "own USS is readable");
    is_int((long long)cgroup_worker_cap(1000, 100, 2), 300,
           "auto cap: (limit - mold) / (workers + 1)");
    is_int((long long)cgroup_worker_cap(CGROUP_UNLIMITED, 100, 2), 0,
           "auto cap: none without a limit");
    is_int((long long)cgroup_worker_cap(100, 100, 2), 0,
           "auto cap: none when the mold fills the limit");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        diag("could not remove %s", root);
    return done_testing();
}
