/*
 * The rows of the settings table, one per setting, and the lookup by
 * name.  A new setting is a new row here, a field in struct settings,
 * its default in settings_defaults() and its entry in pitchfork.conf(5)
 * (tests/test_settings checks the man page names every row).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/settings_table.h"

#include <string.h>

#include "core/settings.h"

#define F(field) offsetof(struct settings, field)

const struct setting_def settings_table[] = {
    {
        .name = "worker_processes",
        .env = "PITCHFORK_WORKERS",
        .short_flag = 'w',
        .flag = "workers",
        .dsl = "worker_processes",
        .type = SET_INT,
        .offset = F(workers),
        .min = 1,
        .max = SETTINGS_MAX_WORKERS,
        .defval = "CPUs allowed",
        .help = "number of worker processes (default: the CPUs the cgroup "
                "quota and the affinity mask allow)",
    },
    {
        .name = "listen",
        .env = "PITCHFORK_LISTEN",
        .short_flag = 'l',
        .flag = "listen",
        .dsl = "listen",
        .type = SET_LIST,
        .offset = F(listen),
        .count_offset = F(nlisten),
        .defval = "127.0.0.1:8080",
        .help = "HOST:PORT, [V6]:PORT, PORT or /path.sock; comma list; "
                "ignored when systemd passes sockets",
    },
    {
        .name = "timeout",
        .env = "PITCHFORK_TIMEOUT",
        .short_flag = 't',
        .flag = "timeout",
        .dsl = "timeout",
        .type = SET_SECONDS,
        .offset = F(timeout),
        .min = 0.001,
        .max = 86400,
        .defval = "20",
        .help = "soft request timeout in seconds, from the end of the "
                "request head",
    },
    {
        .name = "header_timeout",
        .env = "PITCHFORK_HEADER_TIMEOUT",
        .dsl = "header_timeout",
        .type = SET_SECONDS,
        .offset = F(header_timeout),
        .min = 0.1,
        .max = 3600,
        .defval = "5",
        .help = "seconds a client has to send its whole request head, "
                "then 408; TCP listeners defer accept that long",
    },
    {
        .name = "cleanup_timeout",
        .env = "PITCHFORK_CLEANUP_TIMEOUT",
        .dsl = "cleanup:",
        .dsl_of = "timeout",
        .type = SET_SECONDS,
        .offset = F(cleanup_timeout),
        .min = 0,
        .max = 86400,
        .defval = "2",
        .help = "extra seconds after the soft timeout before SIGKILL",
    },
    {
        .name = "spawn_timeout",
        .env = "PITCHFORK_SPAWN_TIMEOUT",
        .dsl = "spawn_timeout",
        .type = SET_SECONDS,
        .offset = F(spawn_timeout),
        .min = 0.001,
        .max = 86400,
        .defval = "10",
        .help = "seconds a new mold or worker has to become ready",
    },
    {
        .name = "idle_timeout",
        .env = "PITCHFORK_IDLE_TIMEOUT",
        .dsl = "idle_timeout",
        .type = SET_SECONDS,
        .offset = F(idle_timeout),
        .min = 0,
        .max = 86400,
        .defval = "0",
        .help = "under socket activation, seconds without a request before "
                "a graceful stop (systemd starts it again at the next "
                "connection); 0: off",
    },
    {
        .name = "refork_after",
        .env = "PITCHFORK_REFORK_AFTER",
        .flag = "refork-after",
        .dsl = "refork_after",
        .type = SET_REFORK,
        .offset = F(refork_after),
        .defval = "",
        .help = "requests before a refork per generation, e.g. 50,100,1000 "
                "(the last repeats) or 50,100,false (then stop); empty: off",
    },
    {
        .name = "refork_max_unavailable",
        .env = "PITCHFORK_REFORK_MAX_UNAVAILABLE",
        .dsl = "refork_max_unavailable",
        .type = SET_INT,
        .offset = F(refork_max_unavailable),
        .min = 1,
        .max = SETTINGS_MAX_WORKERS,
        .defval = "10%",
        .help = "workers replaced at once during a refork or reload "
                "(default: 10% of the workers, rounded up)",
    },
    {
        .name = "worker_memory_max",
        .env = "PITCHFORK_WORKER_MEMORY_MAX",
        .type = SET_MEMORY,
        .offset = F(worker_memory_max),
        .defval = "",
        .help = "private memory (bytes, K/M/G suffix, or auto) above which "
                "a worker is replaced after its request; empty: off",
    },
    {
        .name = "worker_memory_hard_max",
        .env = "PITCHFORK_WORKER_MEMORY_HARD_MAX",
        .dsl = "worker_memory_hard_max",
        .type = SET_HARD_MEMORY,
        .offset = F(worker_memory_hard_max),
        .defval = "",
        .help = "memory (bytes, K/M/G suffix, or N% of the service's "
                "limit) at which the kernel kills a worker, in its own "
                "cgroup (needs Delegate=yes); empty: off",
    },
    {
        .name = "max_consecutive_spawn_errors",
        .env = "PITCHFORK_MAX_CONSECUTIVE_SPAWN_ERRORS",
        .dsl = "max_consecutive_spawn_errors",
        .type = SET_INT,
        .offset = F(max_consecutive_spawn_errors),
        .min = 1,
        .max = 1000000,
        .defval = "10",
        .help = "failed spawns in a row before the server gives up",
    },
    {
        .name = "client_body_buffer_size",
        .env = "PITCHFORK_CLIENT_BODY_BUFFER_SIZE",
        .dsl = "client_body_buffer_size",
        .type = SET_BYTES,
        .offset = F(client_body_buffer_size),
        .min = 0,
        .max = 1073741824.0,
        .defval = "112K",
        .help = "request body bytes kept in memory before a temporary file",
    },
    {
        .name = "rewindable_input",
        .env = "PITCHFORK_REWINDABLE_INPUT",
        .dsl = "rewindable_input",
        .type = SET_BOOL,
        .offset = F(rewindable_input),
        .defval = "true",
        .help = "rack.input can be rewound (false: streamed)",
    },
    {
        .name = "early_hints",
        .env = "PITCHFORK_EARLY_HINTS",
        .dsl = "early_hints",
        .type = SET_BOOL,
        .offset = F(early_hints),
        .defval = "false",
        .help = "offer rack.early_hints (103 responses)",
    },
    {
        .name = "check_client_connection",
        .env = "PITCHFORK_CHECK_CLIENT_CONNECTION",
        .dsl = "check_client_connection",
        .type = SET_BOOL,
        .offset = F(check_client_connection),
        .defval = "false",
        .help = "skip requests whose client has already disconnected",
    },
    {
        .name = "mold_compact",
        .env = "PITCHFORK_MOLD_COMPACT",
        .dsl = "mold_compact",
        .type = SET_BOOL,
        .offset = F(mold_compact),
        .defval = "true",
        .help = "GC.compact in the mold before it forks workers",
    },
    {
        .name = "setpgid",
        .env = "PITCHFORK_SETPGID",
        .dsl = "setpgid",
        .type = SET_BOOL,
        .offset = F(setpgid),
        .defval = "false",
        .help = "put each worker in its own process group, so that a "
                "terminal's Ctrl-C reaches only the monitor",
    },
    {
        .name = "backlog",
        .env = "PITCHFORK_BACKLOG",
        .dsl = "backlog:",
        .dsl_of = "listen",
        .type = SET_INT,
        .offset = F(backlog),
        .min = 1,
        .max = 65535,
        .defval = "1024",
        .help = "listen(2) backlog",
    },
    {
        .name = "listen_umask",
        .env = "PITCHFORK_LISTEN_UMASK",
        .dsl = "umask:",
        .dsl_of = "listen",
        .type = SET_OCTAL,
        .offset = F(listen_umask),
        .min = 0,
        .max = 0777,
        .defval = "0",
        .help = "octal umask of UNIX sockets this server binds (mode 0666 & "
                "~umask)",
    },
    {
        .name = "listen_reuseport",
        .env = "PITCHFORK_LISTEN_REUSEPORT",
        .dsl = "reuseport:",
        .dsl_of = "listen",
        .type = SET_BOOL,
        .offset = F(listen_reuseport),
        .defval = "false",
        .help = "SO_REUSEPORT on TCP sockets this server binds",
    },
    {
        .name = "listen_queues",
        .env = "PITCHFORK_LISTEN_QUEUES",
        .dsl = "queues:",
        .dsl_of = "listen",
        .type = SET_INT,
        .offset = F(listen_queues),
        .min = 1,
        .max = SETTINGS_MAX_QUEUES,
        .defval = "1",
        .help = "sockets (SO_REUSEPORT) per TCP address this server binds, "
                "shared out between the workers",
    },
    {
        .name = "listen_queues_per_worker",
        .env = "PITCHFORK_LISTEN_QUEUES_PER_WORKER",
        .dsl = "queues_per_worker:",
        .dsl_of = "listen",
        .type = SET_INT,
        .offset = F(listen_queues_per_worker),
        .min = 1,
        .max = SETTINGS_MAX_QUEUES,
        .defval = "queues - 1",
        .help = "queues of each address a worker waits on: worker N waits "
                "on queue N % queues and the next ones (at most queues; "
                "default: queues - 1, at least 1)",
    },
    {
        .name = "metrics_listen",
        .env = "PITCHFORK_METRICS_LISTEN",
        .flag = "metrics-listen",
        .dsl = "metrics_listen",
        .type = SET_STRING,
        .offset = F(metrics_listen),
        .defval = "",
        .help = "serve Prometheus metrics at /metrics from the monitor on "
                "a loopback HOST:PORT or a UNIX socket path (default: "
                "off, unless systemd passes a socket named metrics)",
    },
    {
        .name = "config_file",
        .env = "PITCHFORK_CONFIG",
        .short_flag = 'c',
        .flag = "config-file",
        .type = SET_STRING,
        .offset = F(config_file),
        .defval = "",
        .help = "Ruby configuration file (the upstream DSL)",
    },
    {
        .name = "working_directory",
        .env = "PITCHFORK_WORKING_DIRECTORY",
        .flag = "working-directory",
        .dsl = "working_directory",
        .type = SET_STRING,
        .offset = F(working_directory),
        .defval = "",
        .help = "directory each mold booted from disk enters, symlinks "
                "followed anew at every reload; relative: to the start "
                "directory (default: the start directory, as named)",
    },
    {
        .name = "rack_env",
        .env = "RACK_ENV",
        .env_fallback = {"RAILS_ENV", "APP_ENV"},
        .short_flag = 'E',
        .flag = "env",
        .type = SET_STRING,
        .offset = F(rack_env),
        .defval = "production",
        .help = "the application's environment, exported as RACK_ENV "
                "(and RAILS_ENV when unset); development adds Rack::Lint",
    },
    {
        .name = "include",
        .short_flag = 'I',
        .flag = "include",
        .type = SET_LIST,
        .offset = F(includes),
        .count_offset = F(nincludes),
        .defval = "",
        .help = "add a directory to $LOAD_PATH (repeatable)",
    },
    {
        .name = "require",
        .short_flag = 'r',
        .flag = "require",
        .type = SET_LIST,
        .offset = F(requires),
        .count_offset = F(nrequires),
        .defval = "",
        .help = "require a library before the app (repeatable)",
    },
    {
        .name = "log",
        .env = "PITCHFORK_LOG",
        .flag = "log",
        .type = SET_LOG,
        .offset = F(log_target),
        .defval = "auto",
        .help = "auto (the journal when stderr is journald), journal or "
                "stderr",
    },
    {
        .name = "debug",
        .env = "PITCHFORK_DEBUG",
        .short_flag = 'd',
        .flag = "debug",
        .type = SET_BOOL,
        .offset = F(debug),
        .defval = "false",
        .help = "log debug messages",
    },
};

const size_t settings_table_count = sizeof(settings_table) /
                                    sizeof(settings_table[0]);

_Static_assert(sizeof(settings_table) / sizeof(settings_table[0]) <=
                   SETTINGS_TABLE_MAX,
               "SETTINGS_TABLE_MAX has room for every row");

const struct setting_def *
settings_table_find(const char *name)
{
    for (size_t i = 0; i < settings_table_count; i++) {
        const struct setting_def *d = &settings_table[i];
        if (strcmp(d->name, name) == 0 ||
            (d->env && strcmp(d->env, name) == 0) ||
            (d->flag && strcmp(d->flag, name) == 0))
            return d;
    }
    return NULL;
}
