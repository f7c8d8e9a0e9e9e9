/*
 * The settings table: every setting is one row (name, environment
 * variables, flag, Ruby DSL name, type, range, default, help).  The
 * help text, the environment and flag parsing, the configuration file's
 * DSL (ruby/config_dsl.c builds its methods from these rows) and the man
 * page check all read this one table.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_SETTINGS_TABLE_H
#define PITCHFORK_SETTINGS_TABLE_H

#include <stddef.h>

enum setting_type {
    SET_INT,         /* int within [min, max] */
    SET_SECONDS,     /* double seconds within [min, max] */
    SET_BYTES,       /* size with K/M/G suffix */
    SET_BOOL,        /* true/false, yes/no, on/off, 1/0 */
    SET_STRING,      /* char * */
    SET_LIST,        /* comma list (or repeated flag) of char * */
    SET_REFORK,      /* "50,100,1000" or "50,100,false" or "" */
    SET_MEMORY,      /* bytes or "auto" */
    SET_LOG,         /* auto, journal, stderr */
    SET_OCTAL,       /* int in octal ("0007" or "7") within [min, max] */
    SET_HARD_MEMORY, /* bytes or a percentage of the memory limit */
};

/* One row of the settings table. */
struct setting_def {
    const char *name;   /* canonical name, also the DSL name if any */
    const char *env;    /* PITCHFORK_* or NULL */
    char short_flag;    /* 'w' or 0 */
    const char *flag;   /* long flag without "--", or NULL */
    const char *dsl;    /* Ruby config DSL: a method ("timeout"), an
                         * option of the method dsl_of ("cleanup:"),
                         * or NULL */
    const char *dsl_of; /* the DSL method an option belongs to */
    /* Variables read in order when env is unset or empty (RAILS_ENV and
     * APP_ENV for RACK_ENV), or NULL. */
    const char *env_fallback[2];
    enum setting_type type;
    size_t offset;       /* field in struct settings */
    size_t count_offset; /* SET_LIST: the size_t counter */
    double min, max;     /* SET_INT, SET_SECONDS, SET_BYTES, SET_OCTAL */
    const char *defval;  /* the default as a user would write it */
    const char *help;
};

/* At least the number of rows (a static assertion in settings_table.c
 * checks), for tables sized at compile time such as getopt's. */
#define SETTINGS_TABLE_MAX 48

extern const struct setting_def settings_table[];
extern const size_t settings_table_count;

/* The row named name (canonical, environment or long flag name), or
 * NULL. */
const struct setting_def *settings_table_find(const char *name);

#endif
