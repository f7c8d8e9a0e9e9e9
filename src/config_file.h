/*
 * The Ruby configuration file (-c, PITCHFORK_CONFIG), in upstream
 * pitchfork's DSL.  The monitor learns its settings from a short-lived
 * child that evaluates the file, so the monitor itself never runs Ruby;
 * the mold evaluates it again for the hooks.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CONFIG_FILE_H
#define PITCHFORK_CONFIG_FILE_H

struct settings;

/*
 * In the monitor: evaluate path in a child process and apply the
 * settings it reports to s, each named "NAME in PATH" in errors.
 * Returns 0, or -1 after printing why (the Ruby error and its backtrace,
 * or the bad value).
 */
int config_file_apply(struct settings *s, const char *path);

/*
 * In a Ruby process (after pfruby_boot): evaluate path so that
 * Pitchfork::Configurator.current holds its hooks.  Returns 0 or -1
 * after logging the error.
 */
int config_file_load(const char *path);

#endif
