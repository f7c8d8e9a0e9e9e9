/*
 * The TCP options of a listening socket, inherited by the sockets it
 * accepts: TCP_NODELAY, and TCP_DEFER_ACCEPT of at least header_timeout
 * so that a connection that sends nothing never reaches a worker before
 * that time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_LISTENER_TCP_H
#define PITCHFORK_LISTENER_TCP_H

struct listener;

/*
 * Set l's TCP options (l->fd, l->addr filled): TCP_NODELAY, and
 * TCP_DEFER_ACCEPT raised to header_timeout seconds (rounded up) unless
 * already higher (a socket unit's DeferAcceptSec=).  l->defer_accept
 * gets the value the kernel reports afterwards, 0 when unknown.
 * Failures only cost speed or the defence against silent clients: they
 * are logged as warnings and the listener stays usable.
 */
void listener_tcp_options(struct listener *l, double header_timeout);

#endif
