/*
 * The settings table and its parsers.  One row per setting; the help
 * text, the environment and flag parsing, the config-file DSL bridge and
 * the man page check all read this one table.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/settings.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

#define F(field) offsetof(struct settings, field)
#define NOCOUNT 0

const struct setting_def settings_table[] = {
    {"worker_processes", "PITCHFORK_WORKERS", 'w', "workers",
     "worker_processes", SET_INT, F(workers), NOCOUNT, 1,
     SETTINGS_MAX_WORKERS, "CPUs allowed",
     "number of worker processes (default: the CPUs the cgroup quota and "
     "the affinity mask allow)"},
    {"listen", "PITCHFORK_LISTEN", 'l', "listen", "listen", SET_LIST,
     F(listen), F(nlisten), 0, 0, "127.0.0.1:8080",
     "HOST:PORT, [V6]:PORT, PORT or /path.sock; comma list; ignored when "
     "systemd passes sockets"},
    {"timeout", "PITCHFORK_TIMEOUT", 't', "timeout", "timeout", SET_SECONDS,
     F(timeout), NOCOUNT, 0.001, 86400, "20",
     "soft request timeout in seconds"},
    {"cleanup_timeout", "PITCHFORK_CLEANUP_TIMEOUT", 0, NULL,
     "cleanup:", SET_SECONDS, F(cleanup_timeout), NOCOUNT, 0, 86400,
     "2", "extra seconds after the soft timeout before SIGKILL"},
    {"spawn_timeout", "PITCHFORK_SPAWN_TIMEOUT", 0, NULL, "spawn_timeout",
     SET_SECONDS, F(spawn_timeout), NOCOUNT, 0.001, 86400, "10",
     "seconds a new mold or worker has to become ready"},
    {"refork_after", "PITCHFORK_REFORK_AFTER", 0, "refork-after",
     "refork_after", SET_REFORK, F(refork_after), NOCOUNT, 0, 0, "",
     "requests before a refork per generation, e.g. 50,100,1000 (the last "
     "repeats) or 50,100,false (then stop); empty: off"},
    {"refork_max_unavailable", "PITCHFORK_REFORK_MAX_UNAVAILABLE", 0, NULL,
     "refork_max_unavailable", SET_INT, F(refork_max_unavailable), NOCOUNT,
     1, SETTINGS_MAX_WORKERS, "10%",
     "workers replaced at once during a refork or reload (default: 10% of "
     "the workers, rounded up)"},
    {"worker_memory_max", "PITCHFORK_WORKER_MEMORY_MAX", 0, NULL, NULL,
     SET_MEMORY, F(worker_memory_max), NOCOUNT, 0, 0, "",
     "private memory (bytes, K/M/G suffix, or auto) above which a worker "
     "is replaced after its request; empty: off"},
    {"max_consecutive_spawn_errors",
     "PITCHFORK_MAX_CONSECUTIVE_SPAWN_ERRORS", 0, NULL,
     "max_consecutive_spawn_errors", SET_INT,
     F(max_consecutive_spawn_errors), NOCOUNT, 1, 1000000, "10",
     "failed spawns in a row before the server gives up"},
    {"client_body_buffer_size", "PITCHFORK_CLIENT_BODY_BUFFER_SIZE", 0,
     NULL, "client_body_buffer_size", SET_BYTES, F(client_body_buffer_size),
     NOCOUNT, 0, 1073741824.0, "112K",
     "request body bytes kept in memory before a temporary file"},
    {"rewindable_input", "PITCHFORK_REWINDABLE_INPUT", 0, NULL,
     "rewindable_input", SET_BOOL, F(rewindable_input), NOCOUNT, 0, 0,
     "true", "rack.input can be rewound (false: streamed)"},
    {"early_hints", "PITCHFORK_EARLY_HINTS", 0, NULL, "early_hints",
     SET_BOOL, F(early_hints), NOCOUNT, 0, 0, "false",
     "offer rack.early_hints (103 responses)"},
    {"check_client_connection", "PITCHFORK_CHECK_CLIENT_CONNECTION", 0,
     NULL, "check_client_connection", SET_BOOL, F(check_client_connection),
     NOCOUNT, 0, 0, "false",
     "skip requests whose client has already disconnected"},
    {"mold_compact", "PITCHFORK_MOLD_COMPACT", 0, NULL, "mold_compact",
     SET_BOOL, F(mold_compact), NOCOUNT, 0, 0, "true",
     "GC.compact in the mold before it forks workers"},
    {"setpgid", "PITCHFORK_SETPGID", 0, NULL, "setpgid", SET_BOOL,
     F(setpgid), NOCOUNT, 0, 0, "false",
     "put each worker in its own process group, so that a terminal's "
     "Ctrl-C reaches only the monitor"},
    {"backlog", "PITCHFORK_BACKLOG", 0, NULL, "backlog:", SET_INT,
     F(backlog), NOCOUNT, 1, 65535, "1024", "listen(2) backlog"},
    {"listen_umask", "PITCHFORK_LISTEN_UMASK", 0, NULL, "umask:", SET_OCTAL,
     F(listen_umask), NOCOUNT, 0, 0777, "0",
     "octal umask of UNIX sockets this server binds (mode 0666 & ~umask)"},
    {"listen_reuseport", "PITCHFORK_LISTEN_REUSEPORT", 0, NULL, "reuseport:",
     SET_BOOL, F(listen_reuseport), NOCOUNT, 0, 0, "false",
     "SO_REUSEPORT on TCP sockets this server binds"},
    {"listen_queues", "PITCHFORK_LISTEN_QUEUES", 0, NULL, "queues:", SET_INT,
     F(listen_queues), NOCOUNT, 1, SETTINGS_MAX_QUEUES, "1",
     "sockets (SO_REUSEPORT) per TCP address this server binds, shared "
     "out between the workers"},
    {"listen_queues_per_worker", "PITCHFORK_LISTEN_QUEUES_PER_WORKER", 0,
     NULL, "queues_per_worker:", SET_INT, F(listen_queues_per_worker),
     NOCOUNT, 1, SETTINGS_MAX_QUEUES, "queues - 1",
     "queues of each address a worker waits on: worker N waits on queue N "
     "% queues and the next ones (at most queues; default: queues - 1, at "
     "least 1)"},
    {"config_file", "PITCHFORK_CONFIG", 'c', "config-file", NULL,
     SET_STRING, F(config_file), NOCOUNT, 0, 0, "",
     "Ruby configuration file (the upstream DSL)"},
    {"rack_env", "RACK_ENV", 'E', "env", NULL, SET_STRING, F(rack_env),
     NOCOUNT, 0, 0, "development", "RACK_ENV of the application"},
    {"include", NULL, 'I', "include", NULL, SET_LIST, F(includes),
     F(nincludes), 0, 0, "", "add a directory to $LOAD_PATH (repeatable)"},
    {"require", NULL, 'r', "require", NULL, SET_LIST, F(requires),
     F(nrequires), 0, 0, "", "require a library before the app (repeatable)"},
    {"log", "PITCHFORK_LOG", 0, "log", NULL, SET_LOG, F(log_target), NOCOUNT,
     0, 0, "auto",
     "auto (the journal when stderr is journald), journal or stderr"},
    {"debug", "PITCHFORK_DEBUG", 'd', "debug", NULL, SET_BOOL, F(debug),
     NOCOUNT, 0, 0, "false", "log debug messages"},
};

const size_t settings_count =
    sizeof(settings_table) / sizeof(settings_table[0]);

void
settings_defaults(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    s->timeout = 20;
    s->cleanup_timeout = 2;
    s->spawn_timeout = 10;
    s->refork_repeat_last = true;
    s->max_consecutive_spawn_errors = 10;
    s->client_body_buffer_size = 112 * 1024;
    s->rewindable_input = true;
    s->mold_compact = true;
    s->backlog = 1024;
    s->listen_queues = 1;
    s->rack_env = strdup("development");
    s->rackup = strdup("config.ru");
    s->log_target = LOG_TARGET_AUTO;
}

void
settings_free(struct settings *s)
{
    for (size_t i = 0; i < settings_count; i++) {
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

const struct setting_def *
settings_find(const char *name)
{
    for (size_t i = 0; i < settings_count; i++) {
        const struct setting_def *d = &settings_table[i];
        if (strcmp(d->name, name) == 0 ||
            (d->env && strcmp(d->env, name) == 0) ||
            (d->flag && strcmp(d->flag, name) == 0))
            return d;
    }
    return NULL;
}

/* "PITCHFORK_TIMEOUT" or "--timeout": how to name def in messages. */
static const char *
settings_label(const struct setting_def *def, const char *origin)
{
    return origin != NULL ? origin : def->name;
}

static int
settings_bad(const struct setting_def *def, const char *value,
             const char *origin, const char *allowed, char *err,
             size_t errsz)
{
    snprintf(err, errsz, "invalid value \"%s\" for %s: %s", value,
             settings_label(def, origin), allowed);
    return -1;
}

static int
parse_int(const char *v, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(v, &end, 10);
    return (errno || end == v || *end != '\0' || *v == ' ') ? -1 : 0;
}

static int
set_int(struct settings *s, const struct setting_def *d, const char *v,
        const char *o, char *err, size_t n)
{
    char allowed[96];
    long long x;

    snprintf(allowed, sizeof(allowed), "expected an integer from %.0f to %.0f",
             d->min, d->max);
    if (parse_int(v, &x) < 0 || x < d->min || x > d->max)
        return settings_bad(d, v, o, allowed, err, n);
    *(int *)((char *)s + d->offset) = (int)x;
    return 0;
}

/* An octal number such as "0007" or "7" (as umask(1) writes it) within
 * the row's range. */
static int
set_octal(struct settings *s, const struct setting_def *d, const char *v,
          const char *o, char *err, size_t n)
{
    char allowed[96];
    char *end;
    long x;

    snprintf(allowed, sizeof(allowed),
             "expected an octal number from %o to %04o", (unsigned)d->min,
             (unsigned)d->max);
    errno = 0;
    x = strtol(v, &end, 8);
    if (errno || end == v || *end != '\0' || *v < '0' || *v > '7' ||
        x < d->min || x > d->max)
        return settings_bad(d, v, o, allowed, err, n);
    *(int *)((char *)s + d->offset) = (int)x;
    return 0;
}

static int
set_seconds(struct settings *s, const struct setting_def *d, const char *v,
            const char *o, char *err, size_t n)
{
    char allowed[96];
    char *end;
    double x;

    snprintf(allowed, sizeof(allowed),
             "expected seconds (a number) from %g to %g", d->min, d->max);
    errno = 0;
    x = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !isfinite(x) || x < d->min ||
        x > d->max)
        return settings_bad(d, v, o, allowed, err, n);
    *(double *)((char *)s + d->offset) = x;
    return 0;
}

/* "112K", "64M", "1G", "4096": bytes.  Returns -1 when malformed. */
static int
parse_bytes(const char *v, uint64_t *out)
{
    unsigned long long x;
    unsigned shift = 0;
    char *end;

    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    x = strtoull(v, &end, 10);
    if (errno)
        return -1;
    if (*end != '\0') {
        const char *units = "KMGT";
        const char *u = strchr(units, *end & ~0x20);
        if (u == NULL || *u == '\0' ||
            (end[1] != '\0' && strcasecmp(end + 1, "iB") != 0 &&
             strcasecmp(end + 1, "B") != 0))
            return -1;
        shift = 10 * (unsigned)(u - units + 1);
    }
    if (shift && x > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)x << shift;
    return 0;
}

static int
set_bytes(struct settings *s, const struct setting_def *d, const char *v,
          const char *o, char *err, size_t n)
{
    uint64_t x;

    if (parse_bytes(v, &x) < 0 || (double)x > d->max)
        return settings_bad(d, v, o,
                            "expected bytes with an optional K, M or G "
                            "suffix, at most 1G",
                            err, n);
    *(size_t *)((char *)s + d->offset) = (size_t)x;
    return 0;
}

static int
set_memory(struct settings *s, const struct setting_def *d, const char *v,
           const char *o, char *err, size_t n)
{
    uint64_t x = 0;

    s->worker_memory_auto = strcmp(v, "auto") == 0;
    if (!s->worker_memory_auto && *v != '\0' && parse_bytes(v, &x) < 0)
        return settings_bad(d, v, o,
                            "expected bytes with an optional K, M or G "
                            "suffix, \"auto\" or empty",
                            err, n);
    s->worker_memory_max = x;
    return 0;
}

static int
parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static int
set_bool(struct settings *s, const struct setting_def *d, const char *v,
         const char *o, char *err, size_t n)
{
    if (parse_bool(v, (bool *)((char *)s + d->offset)) < 0)
        return settings_bad(d, v, o,
                            "expected true or false (yes/no, on/off, 1/0)",
                            err, n);
    return 0;
}

static int
set_string(struct settings *s, const struct setting_def *d, const char *v,
           const char *o, char *err, size_t n)
{
    char **field = (char **)((char *)s + d->offset);
    char *copy = strdup(v);

    if (copy == NULL) {
        snprintf(err, n, "%s: out of memory", settings_label(d, o));
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

/*
 * Lists are comma separated.  A value replaces the list of a lower
 * layer; a repeated flag (append) adds to it.
 */
static int
list_assign(struct settings *s, const struct setting_def *d, const char *v,
            const char *o, bool append, char *err, size_t n)
{
    char **items = (char **)((char *)s + d->offset);
    size_t *count = (size_t *)((char *)s + d->count_offset);
    char *copy = strdup(v), *save = NULL;

    if (copy == NULL)
        return settings_bad(d, v, o, "out of memory", err, n);
    if (!append) {
        for (size_t i = 0; i < *count; i++)
            free(items[i]);
        *count = 0;
    }
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (*t == '\0')
            continue;
        if (*count == SETTINGS_MAX_LIST) {
            free(copy);
            return settings_bad(d, v, o, "at most 16 entries", err, n);
        }
        items[(*count)++] = strdup(t);
    }
    free(copy);
    return 0;
}

static int
set_list(struct settings *s, const struct setting_def *d, const char *v,
         const char *o, char *err, size_t n)
{
    return list_assign(s, d, v, o, false, err, n);
}

static int
set_refork(struct settings *s, const struct setting_def *d, const char *v,
           const char *o, char *err, size_t n)
{
    static const char allowed[] =
        "expected positive request counts separated by commas, optionally "
        "ending with false (e.g. 50,100,1000 or 50,100,false), or empty";
    char buf[512], *save = NULL;
    size_t k = 0;
    bool repeat = true;

    if (strlen(v) >= sizeof(buf))
        return settings_bad(d, v, o, allowed, err, n);
    strcpy(buf, v);
    for (char *t = strtok_r(buf, ", ", &save); t;
         t = strtok_r(NULL, ", ", &save)) {
        long long x;
        if (!repeat)
            return settings_bad(d, v, o, allowed, err, n);
        if (strcmp(t, "false") == 0) {
            repeat = false;
            continue;
        }
        if (parse_int(t, &x) < 0 || x < 1 || k == SETTINGS_MAX_REFORK_STEPS)
            return settings_bad(d, v, o, allowed, err, n);
        s->refork_after[k++] = (uint64_t)x;
    }
    s->nrefork_after = k;
    s->refork_repeat_last = repeat;
    return 0;
}

static int
set_log(struct settings *s, const struct setting_def *d, const char *v,
        const char *o, char *err, size_t n)
{
    static const char *const names[] = {"auto", "journal", "stderr"};

    for (int i = 0; i < 3; i++) {
        if (strcmp(v, names[i]) == 0) {
            s->log_target = i;
            return 0;
        }
    }
    return settings_bad(d, v, o, "expected auto, journal or stderr", err, n);
}

int
settings_set(struct settings *s, const struct setting_def *def,
             const char *value, const char *origin, char *err, size_t errsz)
{
    typedef int (*setter)(struct settings *, const struct setting_def *,
                          const char *, const char *, char *, size_t);
    static const setter setters[] = {
        [SET_INT] = set_int,       [SET_SECONDS] = set_seconds,
        [SET_BYTES] = set_bytes,   [SET_BOOL] = set_bool,
        [SET_STRING] = set_string, [SET_LIST] = set_list,
        [SET_REFORK] = set_refork, [SET_MEMORY] = set_memory,
        [SET_LOG] = set_log,       [SET_OCTAL] = set_octal,
    };

    return setters[def->type](s, def, value, origin, err, errsz);
}

int
settings_from_env(struct settings *s, char *err, size_t errsz)
{
    for (size_t i = 0; i < settings_count; i++) {
        const struct setting_def *d = &settings_table[i];
        const char *v = d->env ? getenv(d->env) : NULL;
        if (v != NULL && settings_set(s, d, v, d->env, err, errsz) < 0)
            return -1;
    }
    return 0;
}

/* getopt_long tables built from the settings table. */
static void
settings_options(struct option *longs, char *shorts)
{
    size_t k = 0, j = 0;

    for (size_t i = 0; i < settings_count; i++) {
        const struct setting_def *d = &settings_table[i];
        if (d->flag != NULL)
            longs[k++] = (struct option){d->flag,
                                         d->type == SET_BOOL
                                             ? no_argument
                                             : required_argument,
                                         NULL,
                                         d->short_flag ? d->short_flag
                                                       : 256 + (int)i};
        if (d->short_flag) {
            shorts[j++] = d->short_flag;
            if (d->type != SET_BOOL)
                shorts[j++] = ':';
        }
    }
    longs[k++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[k++] = (struct option){"version", no_argument, NULL, 'v'};
    longs[k] = (struct option){NULL, 0, NULL, 0};
    strcpy(shorts + j, "hv");
}

static const struct setting_def *
settings_by_opt(int c)
{
    if (c >= 256)
        return &settings_table[c - 256];
    for (size_t i = 0; i < settings_count; i++)
        if (settings_table[i].short_flag == c)
            return &settings_table[i];
    return NULL;
}

int
settings_from_args(struct settings *s, int argc, char **argv, char *err,
                   size_t errsz)
{
    struct option longs[sizeof(settings_table) / sizeof(settings_table[0]) +
                        3];
    char shorts[128], origin[64];
    bool seen[sizeof(settings_table) / sizeof(settings_table[0])] = {0};
    int c;

    settings_options(longs, shorts);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct setting_def *d = settings_by_opt(c);
        if (c == 'h')
            return settings_usage(stdout), 1;
        if (c == 'v')
            return printf("pitchfork %s\n", PACKAGE_VERSION), 1;
        if (d == NULL) {
            snprintf(err, errsz, "unknown or incomplete option \"%s\"",
                     argv[optind - 1]);
            return -1;
        }
        snprintf(origin, sizeof(origin), "--%s", d->flag);
        if (d->type == SET_LIST
                ? list_assign(s, d, optarg, origin, seen[d - settings_table],
                              err, errsz) < 0
                : settings_set(s, d, optarg ? optarg : "true", origin, err,
                               errsz) < 0)
            return -1;
        seen[d - settings_table] = true;
    }
    if (argc - optind > 1) {
        snprintf(err, errsz, "too many arguments: expected one rackup file, "
                             "got \"%s\" and \"%s\"",
                 argv[optind], argv[optind + 1]);
        return -1;
    }
    if (optind < argc) {
        free(s->rackup);
        s->rackup = strdup(argv[optind]);
    }
    return 0;
}

const char *
settings_config_path(int argc, char **argv)
{
    const char *path = getenv("PITCHFORK_CONFIG");

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if ((strcmp(argv[i], "-c") == 0 ||
             strcmp(argv[i], "--config-file") == 0) &&
            i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config-file=", 14) == 0)
            path = argv[i] + 14;
        else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0')
            path = argv[i] + 2;
    }
    return path != NULL && *path != '\0' ? path : NULL;
}

void
settings_usage(FILE *out)
{
    fprintf(out, "Usage: pitchfork [OPTION]... [RACKUP_FILE]\n"
                 "Serve the Rack application RACKUP_FILE (default: "
                 "config.ru).\n\n");
    for (size_t i = 0; i < settings_count; i++) {
        const struct setting_def *d = &settings_table[i];
        char flag[64] = "";
        if (d->flag && d->short_flag)
            snprintf(flag, sizeof(flag), "-%c, --%s", d->short_flag,
                     d->flag);
        else if (d->flag)
            snprintf(flag, sizeof(flag), "    --%s", d->flag);
        fprintf(out, "  %-24s %s\n", flag[0] ? flag : d->name, d->help);
        fprintf(out, "  %-24s env %s%s%s%s%s\n", "",
                d->env ? d->env : "-", d->dsl ? ", DSL " : "",
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
    fprintf(out, "refork_after =");
    for (size_t i = 0; i < s->nrefork_after; i++)
        fprintf(out, "%s%llu", i ? "," : " ",
                (unsigned long long)s->refork_after[i]);
    fprintf(out, "%s\n", s->nrefork_after && !s->refork_repeat_last
                             ? ",false" : "");
    fprintf(out, "refork_max_unavailable = %d\n", s->refork_max_unavailable);
    fprintf(out, "worker_memory_max = %s%llu\n",
            s->worker_memory_auto ? "auto " : "",
            (unsigned long long)s->worker_memory_max);
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
}
