/*
 * A setting's value from the text a user wrote (flag, environment
 * variable or configuration file line) into struct settings: the one
 * place where values are type- and range-checked, and where the error
 * messages for bad values are written.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_SETTINGS_VALUE_H
#define PITCHFORK_SETTINGS_VALUE_H

#include <stddef.h>

struct settings;
struct setting_def;

/*
 * Parse value for row def into s; a list replaces the list of a lower
 * layer.  origin names where the value came from in messages
 * ("--workers", "PITCHFORK_WORKERS", "timeout in config.rb"; NULL: the
 * row's name).  On error returns -1 and writes into err a message naming
 * the setting, the value and what is allowed.
 */
int settings_value_set(struct settings *s, const struct setting_def *def,
                       const char *value, const char *origin, char *err,
                       size_t errsz);

/* As settings_value_set, but a list (SET_LIST) keeps its entries and
 * gets those of value appended: a repeated flag. */
int settings_value_add(struct settings *s, const struct setting_def *def,
                       const char *value, const char *origin, char *err,
                       size_t errsz);

#endif
