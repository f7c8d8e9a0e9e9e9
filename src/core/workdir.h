/*
 * The working directory (the working_directory setting): the directory
 * as the user named it, symlinks kept, so that a deploy that switches
 * /srv/app/current to a new release is followed by the next mold.  The
 * monitor resolves it at start; each mold booted from disk enters it
 * afresh (a promoted worker keeps its generation's).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_WORKDIR_H
#define PITCHFORK_WORKDIR_H

#include <stddef.h>

struct settings;

/*
 * The directory the server was started in, as named: $PWD when it is
 * absolute and is the directory "." is; else, in a systemd service, the
 * unit's WorkingDirectory= when it is "." too (core/unit_workdir.h);
 * else getcwd().  how says which, and why the unit's was not taken.  On
 * the heap, or NULL with err filled.
 */
char *workdir_start(char *how, size_t howsz, char *err, size_t errsz);

/*
 * path made absolute against dir (both as named; nothing is resolved):
 * path itself when absolute, else dir/path without a "./" prefix.  On
 * the heap, or NULL (out of memory).
 */
char *workdir_join(const char *dir, const char *path);

/*
 * chdir() into path and set PWD to it.  Returns 0, or -1 with err
 * "working_directory PATH: chdir: REASON".
 */
int workdir_enter(const char *path, char *err, size_t errsz);

/*
 * Settle s->working_directory: the start directory when unset or empty,
 * a relative one made absolute against start; then enter it.  Returns 0,
 * or -1 with err filled.
 */
int workdir_settle(struct settings *s, const char *start, char *err,
                   size_t errsz);

/*
 * When the variable var names a file directly in the directory dir is,
 * by another name (as "bundle exec" leaves BUNDLE_GEMFILE: symlinks
 * resolved), name it through dir instead, so that a mold booted after a
 * deploy switched the symlink reads the new release's file.  Returns 1
 * when var was changed, 0 when not, -1 with err filled.
 */
int workdir_follow_env(const char *dir, const char *var, char *err,
                       size_t errsz);

#endif
