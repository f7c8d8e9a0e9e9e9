/*
 * The monitor: pure C, never starts Ruby.  Supervises the mold and the
 * workers (all its direct children thanks to PR_SET_CHILD_SUBREAPER),
 * handles signals, timeouts and respawns, and talks to systemd.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_H
#define PITCHFORK_MONITOR_H

#include "core/mold_boot.h"

struct listeners;
struct settings;

/* Run until shut down; every mold runs mold_main in a fresh child.
 * Returns the process exit status. */
int monitor_run(const struct settings *s, struct listeners *ls,
                mold_main_fn mold_main);

#endif
