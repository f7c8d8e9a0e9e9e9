/*
 * Unit tests of the cgroup reader on fake v1 and v2 trees, and of the
 * default worker count.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cgroup.h"
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

int
main(void)
{
    char cmd[300];

    snprintf(root, sizeof(root), "/tmp/pf-cgroup-test.XXXXXX");
    if (mkdtemp(root) == NULL)
        bail("mkdtemp");
    test_v1();
    test_v2();
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
