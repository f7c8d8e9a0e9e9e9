/*
 * The accept queues of the listening sockets (core/listener_queue.c).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_LISTENER_QUEUE_H
#define PITCHFORK_LISTENER_QUEUE_H

#include <stddef.h>

struct listeners;

/*
 * Connections waiting to be accepted, summed over every listener: TCP
 * from TCP_INFO (tcpi_unacked), UNIX from sock_diag (UDIAG_SHOW_RQLEN)
 * through a netlink socket opened and closed within the call.  Returns
 * 0, or -1 with errno when one queue is unknown (logged once).
 */
int listener_queue_depth(const struct listeners *ls, unsigned *depth);

/* The accept queue of listener i alone: 0, or -1 with errno (not
 * logged). */
int listener_queue_of(const struct listeners *ls, size_t i, unsigned *depth);

#endif
