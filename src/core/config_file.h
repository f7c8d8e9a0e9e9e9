/*
 * The configuration file (-c, PITCHFORK_CONFIG), in upstream pitchfork's
 * Ruby DSL.  The monitor learns its settings from a short-lived child
 * that evaluates the file (ruby/config_eval.c, handed in by main.c), so
 * the monitor itself never runs Ruby; the mold evaluates it again for
 * the hooks.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CONFIG_FILE_H
#define PITCHFORK_CONFIG_FILE_H

struct settings;

/*
 * The child's work: evaluate path with the settings so far (s), write
 * "name\tvalue\n" lines to fd and _exit(0), or _exit(1) after logging.
 */
typedef void (*config_file_child_fn)(const struct settings *s,
                                     const char *path, int fd);

/*
 * In the monitor: run child(s, path, fd) in a child process and apply
 * the settings it reports to s, each named "NAME in PATH" in errors.
 * Returns 0, or -1 after printing why (the Ruby error and its backtrace,
 * or the bad value).
 */
int config_file_apply(struct settings *s, const char *path,
                      config_file_child_fn child);

#endif
