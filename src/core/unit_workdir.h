/*
 * The working directory a systemd service was started in, as its unit
 * names it (WorkingDirectory=), asked of systemd over D-Bus.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_UNIT_WORKDIR_H
#define PITCHFORK_UNIT_WORKDIR_H

/*
 * When this process runs as a systemd service (INVOCATION_ID is set):
 * the unit's WorkingDirectory= as an absolute path, on the heap (the
 * caller frees it), without the "-" prefix of a directory allowed to be
 * missing.  NULL when it is not a service, has no WorkingDirectory= or
 * has "~", or when systemd cannot be asked within a second (the system
 * bus is missing or refuses): the reason is logged at debug level only,
 * as the caller has another answer.
 */
char *unit_workdir_get(void);

#endif
