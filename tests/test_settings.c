/*
 * Unit tests of the settings table: parsers, error messages (exact
 * text), precedence of environment and flags, and the help output.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/settings.h"
#include "core/settings_table.h"
#include "core/settings_value.h"
#include "tap.h"

static char err[1024];

static int
set(struct settings *s, const char *name, const char *value)
{
    const struct setting_def *d = settings_table_find(name);

    err[0] = '\0';
    if (d == NULL)
        bail("no setting %s", name);
    return settings_value_set(s, d, value, d->env, err, sizeof(err));
}

static void
test_types(void)
{
    struct settings s;

    settings_defaults(&s);
    is_int(set(&s, "worker_processes", "8"), 0, "workers 8 accepted");
    is_int(s.workers, 8, "workers is 8");
    is_int(set(&s, "worker_processes", "0"), -1, "workers 0 refused");
    is_str(err,
           "invalid value \"0\" for PITCHFORK_WORKERS: expected an integer "
           "from 1 to 1024",
           "workers error names the variable, value and range");
    is_int(set(&s, "worker_processes", "4x"), -1, "workers 4x refused");
    is_int(set(&s, "timeout", "2.5"), 0, "timeout 2.5 accepted");
    ok(s.timeout == 2.5, "timeout is 2.5");
    is_int(set(&s, "timeout", "-1"), -1, "negative timeout refused");
    is_str(err,
           "invalid value \"-1\" for PITCHFORK_TIMEOUT: expected seconds (a "
           "number) from 0.001 to 86400",
           "timeout error text");
    is_int(set(&s, "timeout", "nan"), -1, "timeout nan refused");
    ok(s.header_timeout == 5, "header_timeout is 5 by default");
    is_int(set(&s, "header_timeout", "2.5"), 0, "header_timeout 2.5 accepted");
    ok(s.header_timeout == 2.5, "header_timeout is 2.5");
    is_int(set(&s, "header_timeout", "0"), -1, "header_timeout 0 refused");
    is_str(err,
           "invalid value \"0\" for PITCHFORK_HEADER_TIMEOUT: expected "
           "seconds (a number) from 0.1 to 3600",
           "header_timeout error text");
    is_int(set(&s, "header_timeout", "3601"), -1,
           "header_timeout 3601 refused");
    is_int(set(&s, "client_body_buffer_size", "64K"), 0, "64K accepted");
    is_int((long long)s.client_body_buffer_size, 65536, "64K is 65536");
    is_int(set(&s, "client_body_buffer_size", "1M"), 0, "1M accepted");
    is_int((long long)s.client_body_buffer_size, 1048576, "1M is 1048576");
    is_int(set(&s, "client_body_buffer_size", "2G"), -1, "2G over the max");
    is_int(set(&s, "client_body_buffer_size", "12Q"), -1, "12Q refused");
    is_int(set(&s, "rewindable_input", "no"), 0, "bool no accepted");
    ok(!s.rewindable_input, "rewindable_input false");
    is_int(set(&s, "rewindable_input", "maybe"), -1, "bool maybe refused");
    is_str(err,
           "invalid value \"maybe\" for PITCHFORK_REWINDABLE_INPUT: expected "
           "true or false (yes/no, on/off, 1/0)",
           "bool error text");
    is_int(set(&s, "log", "syslog"), -1, "log syslog refused");
    is_str(err,
           "invalid value \"syslog\" for PITCHFORK_LOG: expected auto, "
           "journal or stderr",
           "log error text");
    settings_free(&s);
}

/* worker_memory_hard_max: bytes, a percentage, empty; the refusals. */
static void
test_hard_memory(struct settings *s)
{
    ok(s->worker_memory_hard_max == 0 && s->worker_memory_hard_pct == 0,
       "worker_memory_hard_max off by default");
    is_int(set(s, "worker_memory_hard_max", "256M"), 0, "hard max 256M");
    ok(s->worker_memory_hard_max == 256ULL << 20, "256M in bytes");
    is_int(set(s, "worker_memory_hard_max", "25%"), 0, "hard max 25%%");
    ok(s->worker_memory_hard_max == 0 && s->worker_memory_hard_pct == 25,
       "25%% of the limit");
    is_int(set(s, "worker_memory_hard_max", "12.5%"), 0, "hard max 12.5%%");
    ok(s->worker_memory_hard_pct == 12.5, "12.5%% of the limit");
    is_int(set(s, "worker_memory_hard_max", "1G"), 0, "hard max 1G");
    ok(s->worker_memory_hard_max == 1ULL << 30 &&
           s->worker_memory_hard_pct == 0,
       "bytes replace a percentage");
    is_int(set(s, "worker_memory_hard_max", ""), 0, "empty turns it off");
    ok(s->worker_memory_hard_max == 0 && s->worker_memory_hard_pct == 0,
       "off again");
    is_int(set(s, "worker_memory_hard_max", "0%"), -1, "0%% refused");
    is_int(set(s, "worker_memory_hard_max", "101%"), -1, "101%% refused");
    is_int(set(s, "worker_memory_hard_max", "0"), -1, "0 bytes refused");
    is_int(set(s, "worker_memory_hard_max", "%"), -1, "%% alone refused");
    is_int(set(s, "worker_memory_hard_max", "lots"), -1, "lots refused");
    is_str(err,
           "invalid value \"lots\" for PITCHFORK_WORKER_MEMORY_HARD_MAX: "
           "expected bytes with an optional K, M or G suffix, a percentage "
           "of the memory limit above 0 and at most 100%, or empty",
           "hard max error text");
}

static void
test_refork_and_memory(void)
{
    struct settings s;

    settings_defaults(&s);
    is_int(s.nrefork_after, 0, "reforking off by default");
    is_int(set(&s, "refork_after", "50,100,1000"), 0, "refork list");
    is_int(s.nrefork_after, 3, "three steps");
    is_int((long long)s.refork_after[2], 1000, "last step 1000");
    ok(s.refork_repeat_last, "last step repeats");
    is_int(set(&s, "refork_after", "50,100,false"), 0, "trailing false");
    is_int(s.nrefork_after, 2, "two steps");
    ok(!s.refork_repeat_last, "then stop");
    is_int(set(&s, "refork_after", ""), 0, "empty turns it off");
    is_int(s.nrefork_after, 0, "off");
    is_int(set(&s, "refork_after", "50,false,100"), -1, "false not last");
    is_int(set(&s, "refork_after", "0"), -1, "zero refused");
    is_str(err,
           "invalid value \"0\" for PITCHFORK_REFORK_AFTER: expected positive "
           "request counts separated by commas, optionally ending with false "
           "(e.g. 50,100,1000 or 50,100,false), or empty",
           "refork error text");
    is_int(set(&s, "worker_memory_max", "auto"), 0, "memory auto");
    ok(s.worker_memory_auto, "auto flag set");
    is_int(set(&s, "worker_memory_max", "512M"), 0, "memory 512M");
    ok(!s.worker_memory_auto && s.worker_memory_max == 512ULL << 20,
       "512M in bytes");
    is_int(set(&s, "worker_memory_max", "lots"), -1, "memory lots refused");
    test_hard_memory(&s);
    settings_free(&s);
}

static void
test_lists(void)
{
    struct settings s;

    settings_defaults(&s);
    is_int(set(&s, "listen", "127.0.0.1:1,/tmp/x.sock"), 0, "listen list");
    is_int(s.nlisten, 2, "two listeners");
    is_str(s.listen[1], "/tmp/x.sock", "second is the socket");
    is_int(set(&s, "listen", "[::1]:9"), 0, "listen replaced");
    is_int(s.nlisten, 1, "one listener after replace");
    {
        char *argv[] = {"pitchfork", "-l",   "/a.sock",
                        "--listen",  "9000", NULL};
        is_int(settings_from_args(&s, 5, argv, err, sizeof(err)), 0,
               "two -l flags");
        is_int(s.nlisten, 2, "repeated -l appends, replacing the env list");
        is_str(s.listen[0], "/a.sock", "first flag first");
        is_str(s.listen[1], "9000", "second flag second");
    }
    settings_free(&s);
}

/* flags > environment > defaults, for several settings. */
static void
test_precedence(void)
{
    char *argv[] = {"pitchfork", "-w", "3", "--timeout", "7", "app.ru", NULL};
    struct settings s;

    setenv("PITCHFORK_WORKERS", "5", 1);
    setenv("PITCHFORK_TIMEOUT", "9", 1);
    setenv("PITCHFORK_SPAWN_TIMEOUT", "4", 1);
    settings_defaults(&s);
    is_int(settings_from_env(&s, err, sizeof(err)), 0, "env parsed");
    is_int(s.workers, 5, "env sets workers");
    is_int(settings_from_args(&s, 6, argv, err, sizeof(err)), 0,
           "args parsed");
    is_int(s.workers, 3, "flag beats env for workers");
    ok(s.timeout == 7, "flag beats env for timeout");
    ok(s.spawn_timeout == 4, "env beats default for spawn_timeout");
    ok(s.cleanup_timeout == 2, "default cleanup_timeout");
    is_str(s.rackup, "app.ru", "rackup from the last argument");
    setenv("PITCHFORK_WORKERS", "many", 1);
    settings_free(&s);
    settings_defaults(&s);
    is_int(settings_from_env(&s, err, sizeof(err)), -1, "bad env refused");
    is_str(err,
           "invalid value \"many\" for PITCHFORK_WORKERS: expected an integer "
           "from 1 to 1024",
           "bad env message");
    unsetenv("PITCHFORK_WORKERS");
    unsetenv("PITCHFORK_TIMEOUT");
    unsetenv("PITCHFORK_SPAWN_TIMEOUT");
    settings_free(&s);
}

static void
test_bad_args(void)
{
    char *a1[] = {"pitchfork", "--workers", "x", NULL};
    char *a2[] = {"pitchfork", "--bogus", NULL};
    char *a3[] = {"pitchfork", "a.ru", "b.ru", NULL};
    char *a4[] = {"pitchfork", "-c", "conf.rb", "-w2", NULL};
    struct settings s;

    settings_defaults(&s);
    is_int(settings_from_args(&s, 3, a1, err, sizeof(err)), -1, "bad flag");
    is_str(err,
           "invalid value \"x\" for --workers: expected an integer from 1 to "
           "1024",
           "bad flag message names the flag");
    is_int(settings_from_args(&s, 2, a2, err, sizeof(err)), -1, "unknown");
    is_str(err, "unknown or incomplete option \"--bogus\"", "unknown msg");
    is_int(settings_from_args(&s, 3, a3, err, sizeof(err)), -1, "two files");
    settings_free(&s);
    settings_defaults(&s);
    is_int(settings_from_args(&s, 4, a4, err, sizeof(err)), 0, "-c parsed");
    is_str(s.config_file, "conf.rb", "config path from -c");
    settings_free(&s);
}

/* The environment: -E > RACK_ENV > RAILS_ENV > APP_ENV > production; an
 * empty variable counts as unset. */
static const char *
env_of(const char *rack, const char *rails, const char *app, bool flag)
{
    static char got[1100];
    char *argv[] = {"pitchfork", "-E", "flagged", NULL};
    const char *names[] = {"RACK_ENV", "RAILS_ENV", "APP_ENV"};
    const char *values[] = {rack, rails, app};
    struct settings s;

    for (size_t i = 0; i < 3; i++)
        if (values[i] != NULL)
            setenv(names[i], values[i], 1);
        else
            unsetenv(names[i]);
    settings_defaults(&s);
    if (settings_from_env(&s, err, sizeof(err)) < 0 ||
        (flag && settings_from_args(&s, 3, argv, err, sizeof(err)) < 0))
        snprintf(got, sizeof(got), "error: %s", err);
    else
        snprintf(got, sizeof(got), "%s", s.rack_env);
    settings_free(&s);
    for (size_t i = 0; i < 3; i++)
        unsetenv(names[i]);
    return got;
}

static void
test_environment(void)
{
    is_str(env_of(NULL, NULL, NULL, false), "production",
           "no variable: production");
    is_str(env_of(NULL, NULL, "app", false), "app", "APP_ENV alone");
    is_str(env_of(NULL, "rails", "app", false), "rails",
           "RAILS_ENV beats APP_ENV");
    is_str(env_of("rack", "rails", "app", false), "rack",
           "RACK_ENV beats RAILS_ENV");
    is_str(env_of("rack", "rails", "app", true), "flagged",
           "-E beats RACK_ENV");
    is_str(env_of("", "rails", NULL, false), "rails",
           "an empty RACK_ENV counts as unset");
    is_str(env_of("", "", "", false), "production", "all empty: production");
}

/* config/pitchfork.rb of the working directory when none is named. */
static void
test_config_default(void)
{
    char dir[] = "/tmp/test_settings.XXXXXX", old[4096];
    struct settings s;
    int fd;

    if (getcwd(old, sizeof(old)) == NULL || mkdtemp(dir) == NULL ||
        chdir(dir) < 0)
        bail("cannot make and enter a temporary directory");
    settings_defaults(&s);
    is_int(settings_config_default(&s), 0, "no config/pitchfork.rb: 0");
    ok(s.config_file == NULL, "and no configuration file");
    if (mkdir("config", 0700) < 0 ||
        (fd = creat("config/pitchfork.rb", 0600)) < 0 || close(fd) < 0)
        bail("cannot create config/pitchfork.rb");
    is_int(settings_config_default(&s), 1, "config/pitchfork.rb found: 1");
    is_str(s.config_file, "config/pitchfork.rb", "and taken");
    settings_free(&s);
    settings_defaults(&s);
    s.config_file = strdup("other.rb");
    is_int(settings_config_default(&s), 0, "a named file: 0");
    is_str(s.config_file, "other.rb", "the named file stays");
    free(s.config_file);
    s.config_file = strdup("");
    is_int(settings_config_default(&s), 1, "an empty name counts as none");
    settings_free(&s);
    if (unlink("config/pitchfork.rb") < 0 || rmdir("config") < 0 ||
        chdir(old) < 0 || rmdir(dir) < 0)
        bail("cannot clean %s up", dir);
}

/* The default a row shows in --help, parsed, is the default of
 * settings_defaults(); only the defaults decided at start (from the CPUs,
 * the worker count, the queues) are words instead of values. */
static bool
same_field(const struct settings *a, const struct settings *b,
           const struct setting_def *d)
{
    const char *pa = (const char *)a + d->offset;
    const char *pb = (const char *)b + d->offset;

    switch (d->type) {
    case SET_SECONDS: return *(const double *)pa == *(const double *)pb;
    case SET_BYTES: return *(const size_t *)pa == *(const size_t *)pb;
    case SET_BOOL: return *(const bool *)pa == *(const bool *)pb;
    case SET_REFORK:
        return a->nrefork_after == b->nrefork_after &&
               a->refork_repeat_last == b->refork_repeat_last;
    case SET_MEMORY:
        return a->worker_memory_max == b->worker_memory_max &&
               a->worker_memory_auto == b->worker_memory_auto;
    case SET_HARD_MEMORY:
        return a->worker_memory_hard_max == b->worker_memory_hard_max &&
               a->worker_memory_hard_pct == b->worker_memory_hard_pct;
    case SET_STRING:
        return *(char *const *)pa && *(char *const *)pb &&
               strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
    default: return *(const int *)pa == *(const int *)pb;
    }
}

static void
test_defaults(void)
{
    static const char *const words[] = {"worker_processes",
                                        "refork_max_unavailable",
                                        "listen_queues_per_worker"};
    struct settings def, s;

    settings_defaults(&def);
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        bool word = false;
        int rc;

        /* lists and an unset string have no value to compare */
        if (d->type == SET_LIST || (d->type == SET_STRING && !*d->defval))
            continue;
        for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
            word = word || strcmp(d->name, words[k]) == 0;
        settings_defaults(&s);
        rc = settings_value_set(&s, d, d->defval, NULL, err, sizeof(err));
        if (word)
            is_int(rc, -1, "%s: default \"%s\" is decided at start", d->name,
                   d->defval);
        else
            ok(rc == 0 && same_field(&s, &def, d),
               "%s: --help's default \"%s\" is settings_defaults()'s", d->name,
               d->defval);
        settings_free(&s);
    }
    settings_free(&def);
}

/* Every row appears in --help and in pitchfork.conf(5). */
static void
test_docs(void)
{
    const char *top = getenv("top_srcdir");
    char path[4096], *help = NULL, *page = NULL;
    size_t helplen = 0, pagelen = 0;
    FILE *f = open_memstream(&help, &helplen);

    settings_usage(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/man/pitchfork.conf.5", top ? top : ".");
    if ((f = fopen(path, "r")) != NULL) {
        char chunk[4096];
        size_t n;
        FILE *m = open_memstream(&page, &pagelen);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            fwrite(chunk, 1, n, m);
        fclose(m);
        fclose(f);
    }
    ok(page != NULL, "pitchfork.conf(5) is readable at %s", path);
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        const char *key = d->env ? d->env : d->flag;
        ok(strstr(help, key) != NULL, "--help names %s", key);
        ok(page && strstr(page, key) != NULL, "pitchfork.conf(5) names %s",
           key);
        if (d->dsl != NULL)
            ok(page && strstr(page, d->dsl) != NULL,
               "pitchfork.conf(5) names the DSL %s", d->dsl);
    }
    free(help);
    free(page);
}

static void
test_listen_options(void)
{
    struct settings s;

    settings_defaults(&s);
    is_int(s.listen_umask, 0, "umask 0 by default");
    ok(!s.listen_reuseport, "no SO_REUSEPORT by default");
    is_int(s.listen_queues, 1, "one queue by default");
    is_int(set(&s, "PITCHFORK_LISTEN_UMASK", "0007"), 0, "umask 0007");
    is_int(s.listen_umask, 07, "umask 0007 is 7");
    is_int(set(&s, "listen_umask", "27"), 0, "umask 27");
    is_int(s.listen_umask, 027, "umask 27 is octal");
    is_int(set(&s, "listen_umask", "9"), -1, "umask 9 refused");
    is_str(err,
           "invalid value \"9\" for PITCHFORK_LISTEN_UMASK: expected an "
           "octal number from 0 to 0777",
           "umask error text");
    is_int(set(&s, "listen_umask", "01000"), -1, "umask 01000 refused");
    is_int(set(&s, "listen_umask", "-1"), -1, "umask -1 refused");
    is_int(set(&s, "listen_umask", ""), -1, "empty umask refused");
    is_int(set(&s, "listen_reuseport", "yes"), 0, "reuseport yes");
    ok(s.listen_reuseport, "reuseport set");
    is_int(set(&s, "listen_reuseport", "sometimes"), -1, "reuseport bad");
    is_str(err,
           "invalid value \"sometimes\" for PITCHFORK_LISTEN_REUSEPORT: "
           "expected true or false (yes/no, on/off, 1/0)",
           "reuseport error text");
    is_int(set(&s, "listen_queues", "4"), 0, "queues 4");
    is_int(s.listen_queues, 4, "queues is 4");
    is_int(set(&s, "listen_queues", "0"), -1, "queues 0 refused");
    is_str(err,
           "invalid value \"0\" for PITCHFORK_LISTEN_QUEUES: expected an "
           "integer from 1 to 16",
           "queues error text");
    is_int(set(&s, "listen_queues", "17"), -1, "queues 17 refused");
    settings_free(&s);
}

int
main(void)
{
    test_types();
    test_refork_and_memory();
    test_lists();
    test_precedence();
    test_bad_args();
    test_environment();
    test_config_default();
    test_listen_options();
    test_defaults();
    test_docs();
    return done_testing();
}
