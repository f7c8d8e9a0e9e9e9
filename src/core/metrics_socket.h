/*
 * The socket of the monitor's Prometheus endpoint (metrics_listen): a
 * loopback TCP address or a UNIX socket path, checked and bound.  A
 * socket systemd passes under the name "metrics" is taken by
 * core/listeners.c instead and never served as HTTP.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_METRICS_SOCKET_H
#define PITCHFORK_METRICS_SOCKET_H

#include <stddef.h>

/* The FileDescriptorName= of a passed metrics socket. */
#define METRICS_SOCKET_NAME "metrics"

/*
 * Check addr, a metrics_listen value: "HOST:PORT" or "[V6]:PORT" whose
 * host is a loopback address (127.0.0.0/8, ::1, or a name resolving only
 * to those), "PORT" (127.0.0.1), or a UNIX socket path ("/path" or
 * "unix:/path").  Returns 0, or -1 with the reason in err.
 */
int metrics_socket_check(const char *addr, char *err, size_t errsz);

/* Check and bind addr, listening, non-blocking and close-on-exec.
 * Returns the descriptor, or -1 after logging. */
int metrics_socket_open(const char *addr);

#endif
