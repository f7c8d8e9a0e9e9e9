/*
 * The monitor's descriptor limit (RLIMIT_NOFILE): room for a control
 * socket per child, while the children keep the limit they were given.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_FDLIMIT_H
#define PITCHFORK_FDLIMIT_H

#include <stddef.h>

/* The descriptors the monitor holds with WORKERS workers on LISTENERS
 * listeners, with room for the transient ones. */
size_t fdlimit_monitor_need(int workers, size_t listeners);

/*
 * Raise the soft limit towards the hard one so that the monitor has room
 * for NEED descriptors and for a control socket per worker up to
 * SETTINGS_MAX_WORKERS (TTIN).  Logs what it did.  Returns 0, or -1 when
 * even the hard limit is below NEED (logged, naming both).
 */
int fdlimit_raise(size_t need);

/* In a child of the monitor: the soft limit back to the one the monitor
 * was started with.  Logs a failure. */
void fdlimit_restore(void);

#endif
