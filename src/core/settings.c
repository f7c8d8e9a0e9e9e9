/*
 * The resolved settings: their defaults, the environment and command
 * line layers read through the settings table (settings_table.c) and
 * its parsers (settings_value.c), the --help text and the dump.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/settings.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/settings_table.h"
#include "core/settings_value.h"

void
settings_defaults(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    s->timeout = 20;
    s->cleanup_timeout = 2;
    s->header_timeout = 5;
    s->spawn_timeout = 10;
    s->refork_repeat_last = true;
    s->max_consecutive_spawn_errors = 10;
    s->client_body_buffer_size = 112 * 1024;
    s->rewindable_input = true;
    s->mold_compact = true;
    s->backlog = 1024;
    s->listen_queues = 1;
    s->rack_env = strdup("production");
    s->rackup = strdup("config.ru");
    s->log_target = LOG_TARGET_AUTO;
}

void
settings_free(struct settings *s)
{
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        char **items = (char **)((char *)s + d->offset);
        size_t n = 1;
        if (d->type == SET_LIST)
            n = *(size_t *)((char *)s + d->count_offset);
        else if (d->type != SET_STRING)
            continue;
        for (size_t k = 0; k < n; k++)
            free(items[k]);
    }
    free(s->rackup);
    memset(s, 0, sizeof(*s));
}

/*
 * The variable that sets row d and its value, or NULL: d->env, else the
 * first of d->env_fallback that is set.  For a row with fallbacks an
 * empty variable counts as unset, so that RACK_ENV= in an environment
 * file does not hide RAILS_ENV (puma and Rails read them the same way).
 */
static const char *
settings_env_value(const struct setting_def *d, const char **name)
{
    const char *names[3] = {d->env, d->env_fallback[0], d->env_fallback[1]};
    bool skip_empty = d->env_fallback[0] != NULL;

    for (size_t k = 0; k < 3 && names[k] != NULL; k++) {
        const char *v = getenv(names[k]);
        if (v != NULL && (!skip_empty || *v != '\0')) {
            *name = names[k];
            return v;
        }
    }
    return NULL;
}

int
settings_from_env(struct settings *s, char *err, size_t errsz)
{
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        const char *name = NULL;
        const char *v = settings_env_value(d, &name);
        if (v != NULL && settings_value_set(s, d, v, name, err, errsz) < 0)
            return -1;
    }
    return 0;
}

/* getopt_long tables built from the settings table. */
static void
settings_options(struct option *longs, char *shorts)
{
    size_t k = 0, j = 0;

    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        if (d->flag != NULL)
            longs[k++] = (struct option){
                d->flag, d->type == SET_BOOL ? no_argument : required_argument,
                NULL, d->short_flag ? d->short_flag : 256 + (int)i};
        if (d->short_flag) {
            shorts[j++] = d->short_flag;
            if (d->type != SET_BOOL)
                shorts[j++] = ':';
        }
    }
    longs[k++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[k++] = (struct option){"version", no_argument, NULL, 'v'};
    longs[k] = (struct option){NULL, 0, NULL, 0};
    memcpy(shorts + j, "hv", sizeof("hv"));
}

static const struct setting_def *
settings_by_opt(int c)
{
    if (c >= 256)
        return &settings_table[c - 256];
    for (size_t i = 0; i < settings_table_count; i++)
        if (settings_table[i].short_flag == c)
            return &settings_table[i];
    return NULL;
}

/*
 * The flag of row d with getopt's optarg (NULL: a boolean flag, true).
 * A repeated list flag (again) adds to the list; the first replaces the
 * list of the lower layers.  Returns 0 or -1 with err filled.
 */
static int
settings_flag(struct settings *s, const struct setting_def *d, bool again,
              char *err, size_t errsz)
{
    const char *value = optarg != NULL ? optarg : "true";
    char origin[64];

    snprintf(origin, sizeof(origin), "--%s", d->flag);
    if (again)
        return settings_value_add(s, d, value, origin, err, errsz);
    return settings_value_set(s, d, value, origin, err, errsz);
}

int
settings_from_args(struct settings *s, int argc, char **argv, char *err,
                   size_t errsz)
{
    struct option longs[SETTINGS_TABLE_MAX + 3];
    char shorts[2 * SETTINGS_TABLE_MAX + 3];
    bool seen[SETTINGS_TABLE_MAX] = {0};
    int c;

    settings_options(longs, shorts);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct setting_def *d = settings_by_opt(c);
        if (c == 'h')
            return settings_usage(stdout), 1;
        if (c == 'v')
            return printf("pitchfork %s (ruby %s, %s)\n", PACKAGE_VERSION,
                          PF_RUBY_VERSION, PF_RUBY_LIBRUBY),
                   1;
        if (d == NULL) {
            snprintf(err, errsz, "unknown or incomplete option \"%s\"",
                     argv[optind - 1]);
            return -1;
        }
        if (settings_flag(s, d, seen[d - settings_table], err, errsz) < 0)
            return -1;
        seen[d - settings_table] = true;
    }
    if (argc - optind > 1) {
        snprintf(err, errsz,
                 "too many arguments: expected one rackup file, "
                 "got \"%s\" and \"%s\"",
                 argv[optind], argv[optind + 1]);
        return -1;
    }
    if (optind < argc) {
        char *rackup = strdup(argv[optind]);
        if (rackup == NULL) {
            snprintf(err, errsz, "rackup file %s: out of memory",
                     argv[optind]);
            return -1;
        }
        free(s->rackup);
        s->rackup = rackup;
    }
    return 0;
}

int
settings_config_default(struct settings *s)
{
    if (s->config_file != NULL && *s->config_file != '\0')
        return 0;
    free(s->config_file);
    s->config_file = NULL;
    if (access(SETTINGS_DEFAULT_CONFIG, F_OK) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        log_syserr("configuration file %s", SETTINGS_DEFAULT_CONFIG);
        return -1;
    }
    s->config_file = strdup(SETTINGS_DEFAULT_CONFIG);
    if (s->config_file == NULL) {
        log_syserr("strdup %s", SETTINGS_DEFAULT_CONFIG);
        return -1;
    }
    return 1;
}

void
settings_usage(FILE *out)
{
    fprintf(out, "Usage: pitchfork [OPTION]... [RACKUP_FILE]\n"
                 "Serve the Rack application RACKUP_FILE (default: "
                 "config.ru).\n\n");
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        char flag[64] = "";
        if (d->flag && d->short_flag)
            snprintf(flag, sizeof(flag), "-%c, --%s", d->short_flag, d->flag);
        else if (d->flag)
            snprintf(flag, sizeof(flag), "    --%s", d->flag);
        fprintf(out, "  %-24s %s\n", flag[0] ? flag : d->name, d->help);
        fprintf(out, "  %-24s env %s", "", d->env ? d->env : "-");
        for (size_t k = 0; k < 2 && d->env_fallback[k] != NULL; k++)
            fprintf(out, " or %s", d->env_fallback[k]);
        fprintf(out, "%s%s%s%s\n", d->dsl ? ", DSL " : "",
                d->dsl ? d->dsl : "", d->defval[0] ? ", default " : "",
                d->defval);
    }
    fprintf(out, "  %-24s %s\n  %-24s %s\n", "-h, --help",
            "show this help and exit", "-v, --version",
            "show the version and exit");
}

void
settings_dump(const struct settings *s, FILE *out)
{
    fprintf(out, "worker_processes = %d\n", s->workers);
    for (size_t i = 0; i < s->nlisten; i++)
        fprintf(out, "listen = %s\n", s->listen[i]);
    fprintf(out, "timeout = %g\ncleanup_timeout = %g\nspawn_timeout = %g\n",
            s->timeout, s->cleanup_timeout, s->spawn_timeout);
    fprintf(out, "header_timeout = %g\n", s->header_timeout);
    fprintf(out, "idle_timeout = %g\n", s->idle_timeout);
    fprintf(out, "refork_after =");
    for (size_t i = 0; i < s->nrefork_after; i++)
        fprintf(out, "%s%llu", i ? "," : " ",
                (unsigned long long)s->refork_after[i]);
    fprintf(out, "%s\n",
            s->nrefork_after && !s->refork_repeat_last ? ",false" : "");
    fprintf(out, "refork_max_unavailable = %d\n", s->refork_max_unavailable);
    fprintf(out, "worker_memory_max = %s%llu\n",
            s->worker_memory_auto ? "auto " : "",
            (unsigned long long)s->worker_memory_max);
    fprintf(out,
            "worker_memory_hard_max = %llu\nworker_memory_hard_pct = %g\n",
            (unsigned long long)s->worker_memory_hard_max,
            s->worker_memory_hard_pct);
    fprintf(out, "client_body_buffer_size = %zu\n",
            s->client_body_buffer_size);
    fprintf(out, "rewindable_input = %d\nearly_hints = %d\n",
            s->rewindable_input, s->early_hints);
    fprintf(out, "backlog = %d\nlisten_umask = %04o\n", s->backlog,
            (unsigned)s->listen_umask);
    fprintf(out, "listen_reuseport = %d\nlisten_queues = %d\n",
            s->listen_reuseport, s->listen_queues);
    fprintf(out, "listen_queues_per_worker = %d\n",
            s->listen_queues_per_worker);
    fprintf(out, "rack_env = %s\nrackup = %s\n", s->rack_env, s->rackup);
    fprintf(out, "working_directory = %s\n",
            s->working_directory ? s->working_directory : "");
}
