/*
 * The Ruby half of the configuration file (-c, PITCHFORK_CONFIG), in
 * upstream pitchfork's DSL: the settings child and the hooks of the Ruby
 * processes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_CONFIG_EVAL_H
#define PITCHFORK_CONFIG_EVAL_H

struct settings;

/*
 * In a Ruby process (after vm_boot): evaluate path so that
 * Pitchfork::Configurator.current holds its hooks.  Returns 0 or -1
 * after logging the error.
 */
int config_eval_load(const char *path);

/*
 * The configuration child (a config_file_child_fn): boot Ruby, evaluate
 * path, write its settings as "name\tvalue\n" lines to fd and _exit(0),
 * or _exit(1) after logging why.
 */
void config_eval_child(const struct settings *s, const char *path, int fd)
    __attribute__((noreturn));

#endif
