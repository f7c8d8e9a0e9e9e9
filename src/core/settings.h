/*
 * The resolved settings, in one struct settings.  Precedence, highest
 * first: command-line flag, PITCHFORK_* environment, Ruby config file,
 * default.  Each setting is a row of the settings table
 * (settings_table.h), whose values are parsed by settings_value.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_SETTINGS_H
#define PITCHFORK_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SETTINGS_MAX_REFORK_STEPS 16
#define SETTINGS_MAX_LIST 16
/* The most workers worker_processes allows: the shared worker table
 * (core/shm.h) and the monitor's table of children are sized by it. */
#define SETTINGS_MAX_WORKERS 1024
#define SETTINGS_MAX_QUEUES 16

struct settings {
    int workers; /* worker_processes; 0 = from the cgroup */
    char *listen[SETTINGS_MAX_LIST]; /* listen addresses */
    size_t nlisten;
    double timeout;         /* soft request timeout, seconds */
    double cleanup_timeout; /* extra seconds before SIGKILL */
    double header_timeout;  /* seconds to send the whole request head */
    double spawn_timeout;   /* seconds for a mold/worker to be ready */
    double idle_timeout;    /* socket-activated: exit when idle; 0 = off */
    uint64_t refork_after[SETTINGS_MAX_REFORK_STEPS];
    size_t nrefork_after;            /* 0 = reforking off */
    bool refork_repeat_last;         /* false after a trailing "false" */
    int refork_max_unavailable;      /* 0 = 10% of workers rounded up */
    uint64_t worker_memory_max;      /* bytes; 0 = off */
    bool worker_memory_auto;         /* "auto": from the cgroup limit */
    uint64_t worker_memory_hard_max; /* bytes; 0 = off or a percentage */
    double worker_memory_hard_pct;   /* % of the memory limit; 0 = bytes */
    int max_consecutive_spawn_errors;
    size_t client_body_buffer_size; /* rack.input memory before tmpfile */
    bool rewindable_input;
    bool early_hints;
    bool check_client_connection;
    bool mold_compact; /* GC.compact before forking */
    bool setpgid;      /* workers in their own process group */
    int backlog;
    int listen_umask;                  /* UNIX socket mode is 0666 & ~umask */
    bool listen_reuseport;             /* SO_REUSEPORT on TCP listeners */
    int listen_queues;                 /* sockets per TCP address */
    int listen_queues_per_worker;      /* queues a worker waits on; 0: queues
                                        * - 1, at least 1 */
    char *metrics_listen;              /* loopback HOST:PORT or /path */
    char *config_file;                 /* -c FILE */
    char *working_directory;           /* as named, absolute once settled */
    char *rack_env;                    /* -E, RACK_ENV, RAILS_ENV, APP_ENV */
    char *rackup;                      /* last argument, default config.ru */
    char *includes[SETTINGS_MAX_LIST]; /* -I DIR */
    size_t nincludes;
    char *requires[SETTINGS_MAX_LIST]; /* -r LIB */
    size_t nrequires;
    int log_target; /* enum log_target */
    bool debug;
};

/* Fill s with the built-in defaults (workers 0: decided later). */
void settings_defaults(struct settings *s);

/* Free every string and list that s owns. */
void settings_free(struct settings *s);

/* Apply every PITCHFORK_* variable set in the environment, and RACK_ENV
 * (else RAILS_ENV, else APP_ENV).  Returns 0 or -1 with err filled. */
int settings_from_env(struct settings *s, char *err, size_t errsz);

/*
 * Parse the command line: flags are applied to s (call after the lower
 * layers), the rackup path is the last argument.  Returns 0 to go on,
 * 1 when --help or --version was printed, -1 on a usage error (err
 * filled).
 */
int settings_from_args(struct settings *s, int argc, char **argv, char *err,
                       size_t errsz);

/* The configuration file read when none is named, relative to the
 * working directory (the application's directory), as upstream. */
#define SETTINGS_DEFAULT_CONFIG "config/pitchfork.rb"

/*
 * When no configuration file is named (an empty name counts as none),
 * take SETTINGS_DEFAULT_CONFIG if it exists.  Returns 1 when it was
 * taken, 0 when a file was named or there is none, -1 when it cannot be
 * checked (logged).
 */
int settings_config_default(struct settings *s);

/* --help text, generated from the table. */
void settings_usage(FILE *out);

/* Print every resolved setting as "name = value" lines (for --check). */
void settings_dump(const struct settings *s, FILE *out);

#endif
