/*
 * pitchfork: command line, settings resolution and start of the monitor.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "config_file.h"
#include "listeners.h"
#include "log.h"
#include "monitor.h"
#include "proctitle.h"
#include "settings.h"

/*
 * fds 0, 1 and 2 must be open before any socket is created: otherwise a
 * listener could become fd 0 and Ruby's STDIN would wrap it.
 */
static int
main_standard_fds(void)
{
    for (int fd = 0; fd < 3; fd++) {
        int n;
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        n = open("/dev/null", O_RDWR);
        if (n < 0)
            return -1;
        if (n != fd) {
            if (dup2(n, fd) < 0)
                return -1;
            (void)close(n); /* a spare /dev/null descriptor */
        }
    }
    return 0;
}

/* Resolve the settings: defaults < config file < environment < flags. */
static int
main_settings(struct settings *s, int argc, char **argv)
{
    const char *config = settings_config_path(argc, argv);
    char err[1024];
    int rc;

    settings_defaults(s);
    if (config != NULL && config_file_apply(s, config) < 0)
        return -1;
    if (settings_from_env(s, err, sizeof(err)) < 0) {
        fprintf(stderr, "pitchfork: %s\n", err);
        return -1;
    }
    rc = settings_from_args(s, argc, argv, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "pitchfork: %s\nTry 'pitchfork --help'.\n", err);
    return rc;
}

/* Log the limits and derived values once at start. */
static void
main_limits(struct settings *s)
{
    struct cgroup_limits cg;
    char mem[32] = "unlimited";

    if (cgroup_read_self(&cg) < 0)
        cg = (struct cgroup_limits){0, CGROUP_UNLIMITED, CGROUP_UNLIMITED,
                                    0, 0};
    if (s->workers == 0)
        s->workers = cgroup_default_workers(&cg);
    if (cg.memory_max != CGROUP_UNLIMITED)
        snprintf(mem, sizeof(mem), "%llu",
                 (unsigned long long)cg.memory_max);
    log_info("cgroup v%d: memory limit %s, cpu quota %g; %d workers",
             cg.version, mem, cg.cpus, s->workers);
}

static void
main_free_args(char **args)
{
    for (char **a = args; *a != NULL; a++)
        free(*a);
    free(args);
}

int
main(int argc, char **argv)
{
    struct settings s;
    struct listeners ls;
    char **args;
    int rc;

    if (main_standard_fds() < 0) {
        perror("pitchfork: open /dev/null for fds 0-2");
        return 1;
    }
    args = proctitle_init(argc, argv);
    if (args == NULL) {
        fputs("pitchfork: out of memory\n", stderr);
        return 1;
    }
    rc = main_settings(&s, argc, args);
    if (rc == 0) {
        log_init(s.log_target, s.debug);
        log_set_role("monitor", -1, 0);
        proctitle_set("pitchfork monitor");
        main_limits(&s);
        rc = listeners_open(&ls, &s) < 0 ? 1 : monitor_run(&s, &ls);
    } else {
        rc = rc < 0 ? 2 : 0;
    }
    settings_free(&s);
    main_free_args(args);
    return rc;
}
