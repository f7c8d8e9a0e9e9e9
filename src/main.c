/*
 * pitchfork: command line, settings resolution and start of the monitor.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cgroup.h"
#include "core/cgroup_worker.h"
#include "core/config_file.h"
#include "core/fdlimit.h"
#include "core/listeners.h"
#include "core/log.h"
#include "core/proctitle.h"
#include "core/settings.h"
#include "core/workdir.h"
#include "monitor/monitor.h"
#include "ruby/config_eval.h"
#include "ruby/mold.h"

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

/* The environment and flag layers over s; prints their errors.
 * Returns 0, 1 (--help or --version printed) or -1. */
static int
main_layers(struct settings *s, int argc, char **argv)
{
    char err[1024];
    int rc;

    if (settings_from_env(s, err, sizeof(err)) < 0) {
        fprintf(stderr, "pitchfork: %s\n", err);
        return -1;
    }
    rc = settings_from_args(s, argc, argv, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "pitchfork: %s\nTry 'pitchfork --help'.\n", err);
    return rc;
}

/* Where the working directory came from, for the start-up line. */
static char main_workdir_how[640];
/* BUNDLE_GEMFILE was renamed through the working directory. */
static bool main_gemfile_followed;

/* The working directory: s->working_directory settled against start
 * and entered, and BUNDLE_GEMFILE named through it when it names its
 * Gemfile by another name (workdir.h).  Prints the error.  Returns 0 or
 * -1. */
static int
main_workdir(struct settings *s, const char *start, const char *start_how)
{
    char err[1024];
    int rc = 0;

    if (s->working_directory == NULL || s->working_directory[0] == '\0')
        snprintf(main_workdir_how, sizeof(main_workdir_how),
                 "the start directory, %s", start_how);
    else
        snprintf(main_workdir_how, sizeof(main_workdir_how),
                 "working_directory");
    if (workdir_settle(s, start, err, sizeof(err)) < 0 ||
        (rc = workdir_follow_env(s->working_directory, "BUNDLE_GEMFILE", err,
                                 sizeof(err))) < 0) {
        fprintf(stderr, "pitchfork: %s\n", err);
        return -1;
    }
    main_gemfile_followed = main_gemfile_followed || rc == 1;
    return 0;
}

/*
 * Read the configuration file named config (its path made absolute
 * against the working directory as named, so that every mold reads the
 * same name, through the symlinks) with its settings under the layers,
 * which win over it; then settle the working directory it may have set.
 */
static int
main_config_file(struct settings *s, int argc, char **argv, const char *start,
                 const char *start_how)
{
    char *config = workdir_join(s->working_directory, s->config_file);
    int rc;

    if (config == NULL) {
        perror("pitchfork: configuration file path");
        return -1;
    }
    rc = config_file_apply(s, config, config_eval_child);
    if (rc == 0)
        rc = main_layers(s, argc, argv);
    if (rc == 0)
        rc = main_workdir(s, start, start_how);
    free(s->config_file); /* the file read, whatever the layers say */
    s->config_file = config;
    return rc;
}

/*
 * Resolve the settings: defaults < configuration file < environment <
 * flags.  The environment and the flags are applied first too, so that
 * they name the working directory, entered before config/pitchfork.rb
 * is looked for, and the configuration file, and so that the child that
 * evaluates it boots Ruby as the mold will (-E, -I, -r); then again over
 * the file's settings, which they win over.
 */
static int
main_settings(struct settings *s, int argc, char **argv, bool *found)
{
    char err[1024], how[640], *start;
    int rc;

    settings_defaults(s);
    rc = main_layers(s, argc, argv);
    if (rc != 0)
        return rc;
    start = workdir_start(how, sizeof(how), err, sizeof(err));
    if (start == NULL) {
        fprintf(stderr, "pitchfork: %s\n", err);
        return -1;
    }
    rc = main_workdir(s, start, how);
    if (rc == 0 && (rc = settings_config_default(s)) >= 0) {
        *found = rc == 1;
        rc = s->config_file == NULL
                 ? 0
                 : main_config_file(s, argc, argv, start, how);
    }
    free(start);
    return rc;
}

/* Which configuration file was read (FOUND: the default one, found),
 * and the environment, at start. */
static void
main_config_line(const struct settings *s, bool found)
{
    const char *file = s->config_file != NULL ? s->config_file : "none";
    const char *how = "";

    if (found)
        how = " (found in the working directory)";
    else if (s->config_file == NULL)
        how = " (none named, no " SETTINGS_DEFAULT_CONFIG ")";
    log_event(LOGL_INFO, NULL,
              LOG_FIELDS(LOG_STR("CONFIG_FILE", file),
                         LOG_STR("RACK_ENV", s->rack_env),
                         LOG_STR("WORKING_DIRECTORY", s->working_directory)),
              "configuration file %s%s; environment %s; working directory "
              "%s (%s)",
              file, how, s->rack_env, s->working_directory, main_workdir_how);
}

/* "unlimited" or the byte count, for the start-up line. */
static const char *
main_bytes(char *buf, size_t size, uint64_t v)
{
    if (v == CGROUP_UNLIMITED)
        return "unlimited";
    snprintf(buf, size, "%llu", (unsigned long long)v);
    return buf;
}

/* The worker memory cap as set: "auto", "none" or bytes. */
static const char *
main_worker_cap(char *buf, size_t size, const struct settings *s)
{
    if (s->worker_memory_auto)
        return "auto";
    return s->worker_memory_max ? main_bytes(buf, size, s->worker_memory_max)
                                : "none";
}

/* Why worker_memory_hard_max cannot be had here, in why; limit gets
 * the bytes.  Returns 0 when it can. */
static int
main_hard_cap_limit(const struct settings *s, const struct cgroup_limits *cg,
                    uint64_t *limit, char *why, size_t whysz)
{
    *limit = s->worker_memory_hard_max;
    if (s->worker_memory_hard_pct > 0) {
        if (cg->memory_max == CGROUP_UNLIMITED) {
            snprintf(why, whysz,
                     "%g%% of no memory limit: the service's cgroup has "
                     "none (MemoryMax=)",
                     s->worker_memory_hard_pct);
            return -1;
        }
        *limit = (uint64_t)((double)cg->memory_max *
                            (s->worker_memory_hard_pct / 100.0));
    }
    if (getenv("INVOCATION_ID") == NULL) {
        snprintf(why, whysz,
                 "not started by systemd as a service, so no cgroup is "
                 "delegated to it (Delegate=yes)");
        return -1;
    }
    return 0;
}

/*
 * worker_memory_hard_max: set up a cgroup per worker before the first
 * fork, or warn at boot and turn it off (the workers then run with the
 * soft cap alone).  s->worker_memory_hard_max ends as the bytes in
 * force, or 0.
 */
static void
main_hard_cap(struct settings *s, const struct cgroup_limits *cg)
{
    const char *root = getenv("PITCHFORK_CGROUP_ROOT");
    const char *self = getenv("PITCHFORK_CGROUP_SELF");
    char why[8192];
    uint64_t limit;
    int rc;

    if (s->worker_memory_hard_max == 0 && s->worker_memory_hard_pct == 0)
        return;
    rc = main_hard_cap_limit(s, cg, &limit, why, sizeof(why));

    s->worker_memory_hard_max = 0; /* until the cgroups are set up */
    if (rc == 0 &&
        cgroup_worker_setup(root && *root ? root : "/sys/fs/cgroup",
                            self && *self ? self : "/proc/self/cgroup", limit,
                            why, sizeof(why)) == 0) {
        s->worker_memory_hard_max = limit;
        log_event(LOGL_INFO, NULL,
                  LOG_FIELDS(LOG_UINT("MEMORY_HARD_MAX", limit)),
                  "worker_memory_hard_max: each worker in its own cgroup "
                  "(v%d) with a memory limit of %llu bytes",
                  cgroup_worker_version(), (unsigned long long)limit);
        return;
    }
    log_warn("worker_memory_hard_max is ignored: %s", why);
}

/* Log the limits and derived values once at start; an "auto" worker
 * memory cap is derived and logged when the mold is ready (health.c). */
static void
main_limits(struct settings *s)
{
    struct cgroup_limits cg;
    char mem_buf[32], high_buf[32], cap_buf[32];
    const char *mem, *high, *cap;

    if (cgroup_read_self(&cg) < 0)
        cg = (struct cgroup_limits){.memory_max = CGROUP_UNLIMITED,
                                    .memory_high = CGROUP_UNLIMITED};
    if (s->workers == 0)
        s->workers = cgroup_default_workers(&cg);
    mem = main_bytes(mem_buf, sizeof(mem_buf), cg.memory_max);
    high = main_bytes(high_buf, sizeof(high_buf), cg.memory_high);
    cap = main_worker_cap(cap_buf, sizeof(cap_buf), s);
    log_event(LOGL_INFO, NULL,
              LOG_FIELDS(LOG_INT("CGROUP_VERSION", cg.version),
                         LOG_STR("CGROUP_MEMORY_MAX", mem),
                         LOG_DOUBLE("CGROUP_CPU_QUOTA", cg.cpus),
                         LOG_INT("WORKERS", s->workers),
                         LOG_STR("WORKER_MEMORY_MAX", cap)),
              "cgroup v%d: memory limit %s, memory high %s, cpu quota %g; "
              "%d workers; worker memory cap %s",
              cg.version, mem, high, cg.cpus, s->workers, cap);
    main_hard_cap(s, &cg);
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
    bool found = false;
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
    rc = main_settings(&s, argc, args, &found);
    if (rc == 0) {
        log_init(s.log_target, s.debug);
        log_set_role("monitor", -1, 0);
        proctitle_set("pitchfork monitor");
        main_limits(&s);
        main_config_line(&s, found);
        if (main_gemfile_followed)
            log_info("BUNDLE_GEMFILE named the working directory's Gemfile "
                     "through its symlinks resolved (as bundle exec does): "
                     "each mold reads %s",
                     getenv("BUNDLE_GEMFILE"));
        if (listeners_open(&ls, &s) < 0 ||
            fdlimit_raise(fdlimit_monitor_need(s.workers, ls.n)) < 0)
            rc = 1;
        else
            rc = monitor_run(&s, &ls, mold_main);
    } else {
        rc = rc < 0 ? 2 : 0;
    }
    settings_free(&s);
    main_free_args(args);
    return rc;
}
