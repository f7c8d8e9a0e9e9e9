/*
 * The parsers of the settings table's types: a value as a user writes it
 * ("112K", "50,100,false", "0007", "on") checked against its row's type
 * and range and stored in struct settings.  See settings_value.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/settings_value.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/settings.h"
#include "core/settings_table.h"

/* "PITCHFORK_TIMEOUT" or "--timeout": how to name def in messages. */
static const char *
settings_label(const struct setting_def *def, const char *origin)
{
    return origin != NULL ? origin : def->name;
}

/* The message for value, refused for def: names the setting, the value
 * and what is allowed.  Returns -1, for the setters to return. */
static int
settings_bad(const struct setting_def *def, const char *value,
             const char *origin, const char *allowed, char *err, size_t errsz)
{
    snprintf(err, errsz, "invalid value \"%s\" for %s: %s", value,
             settings_label(def, origin), allowed);
    return -1;
}

/* A decimal integer, all of v.  Returns 0, or -1 when malformed or out
 * of range of long long. */
static int
parse_int(const char *v, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(v, &end, 10);
    return (errno || end == v || *end != '\0' || *v == ' ') ? -1 : 0;
}

/*
 * The setters, one per enum setting_type: each parses v, the value of
 * row d from origin o, into its field of s and returns 0, or returns -1
 * with the message in err[0..n).
 */
static int
set_int(struct settings *s, const struct setting_def *d, const char *v,
        const char *o, char *err, size_t n)
{
    char allowed[96];
    long long x;

    snprintf(allowed, sizeof(allowed), "expected an integer from %.0f to %.0f",
             d->min, d->max);
    if (parse_int(v, &x) < 0 || (double)x < d->min || (double)x > d->max)
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
        (double)x < d->min || (double)x > d->max)
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
    memcpy((char *)s + d->offset, &x, sizeof(x)); /* a double field */
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

/* "N%" with 0 < N <= 100, all of v.  Returns 0, or -1. */
static int
parse_percent(const char *v, double *out)
{
    char *end;

    if (*v < '0' || *v > '9')
        return -1;
    errno = 0;
    *out = strtod(v, &end);
    if (errno || end == v || strcmp(end, "%") != 0 || !(*out > 0) ||
        *out > 100)
        return -1;
    return 0;
}

static int
set_hard_memory(struct settings *s, const struct setting_def *d, const char *v,
                const char *o, char *err, size_t n)
{
    uint64_t x = 0;
    double pct = 0;

    bool bad;

    if (*v == '\0')
        bad = false; /* off */
    else if (strchr(v, '%') != NULL)
        bad = parse_percent(v, &pct) < 0;
    else
        bad = parse_bytes(v, &x) < 0 || x == 0;
    if (bad)
        return settings_bad(d, v, o,
                            "expected bytes with an optional K, M or G "
                            "suffix, a percentage of the memory limit "
                            "above 0 and at most 100%, or empty",
                            err, n);
    s->worker_memory_hard_max = x;
    s->worker_memory_hard_pct = pct;
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
        if ((items[*count] = strdup(t)) == NULL) {
            free(copy);
            return settings_bad(d, v, o, "out of memory", err, n);
        }
        (*count)++;
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
    size_t k = 0, len = strlen(v);
    bool repeat = true;

    if (len >= sizeof(buf))
        return settings_bad(d, v, o, allowed, err, n);
    memcpy(buf, v, len + 1);
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
settings_value_set(struct settings *s, const struct setting_def *def,
                   const char *value, const char *origin, char *err,
                   size_t errsz)
{
    typedef int (*setter)(struct settings *, const struct setting_def *,
                          const char *, const char *, char *, size_t);
    static const setter setters[] = {
        [SET_INT] = set_int,
        [SET_SECONDS] = set_seconds,
        [SET_BYTES] = set_bytes,
        [SET_BOOL] = set_bool,
        [SET_STRING] = set_string,
        [SET_LIST] = set_list,
        [SET_REFORK] = set_refork,
        [SET_MEMORY] = set_memory,
        [SET_LOG] = set_log,
        [SET_OCTAL] = set_octal,
        [SET_HARD_MEMORY] = set_hard_memory,
    };

    return setters[def->type](s, def, value, origin, err, errsz);
}

int
settings_value_add(struct settings *s, const struct setting_def *def,
                   const char *value, const char *origin, char *err,
                   size_t errsz)
{
    if (def->type != SET_LIST)
        return settings_value_set(s, def, value, origin, err, errsz);
    return list_assign(s, def, value, origin, true, err, errsz);
}
