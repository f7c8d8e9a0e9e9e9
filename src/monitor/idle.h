/*
 * Scale to zero: a socket-activated server that saw no request for
 * idle_timeout stops gracefully and exits 0, and systemd, which keeps
 * the listening socket, starts it again at the next connection.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_MONITOR_IDLE_H
#define PITCHFORK_MONITOR_IDLE_H

#include <stdint.h>

struct monitor;

/*
 * At start, now being the time: the idle clock starts.  With
 * idle_timeout set while the listening sockets were not passed by
 * systemd, log a warning naming the setting: it is ignored, since after
 * an exit nothing would accept the next connection.
 */
void idle_start(struct monitor *m, int64_t now);

/*
 * Once a tick while running, now being the time.  Activity restarts the
 * idle clock: a request served since the last tick, a worker busy with a
 * connection, a connection waiting in a listener's queue, or a boot,
 * reload or refork in progress.  When the clock reaches idle_timeout,
 * log PITCHFORK_EVENT=idle-exit and stop gracefully (fleet_stop: STOPPING=1,
 * requests in progress finish, exit status 0).
 */
void idle_tick(struct monitor *m, int64_t now);

#endif
