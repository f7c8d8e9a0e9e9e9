/*
 * The working directory a systemd service was started in, as its unit
 * names it (WorkingDirectory=), asked of systemd over D-Bus.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_UNIT_WORKDIR_H
#define PITCHFORK_UNIT_WORKDIR_H

#include <stddef.h>

/*
 * When this process runs as a systemd service (INVOCATION_ID is set):
 * the unit's WorkingDirectory= as an absolute path, on the heap (the
 * caller frees it), without the "!" systemd shows for a directory
 * allowed to be missing (WorkingDirectory=-/path).  NULL when it is not
 * a service (why is empty), or with why saying the reason: no
 * WorkingDirectory= or "~", or systemd could not be asked within a
 * second (no system bus, or the bus refuses the service's user: a
 * DynamicUser= one, for dbus-daemon since systemd 250.4).
 */
char *unit_workdir_get(char *why, size_t whysz);

#endif
