/*
 * Listening sockets: bound by the monitor from PITCHFORK_LISTEN, or
 * received from systemd (socket activation), and inherited by every child.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PITCHFORK_LISTENERS_H
#define PITCHFORK_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define LISTENERS_MAX 64

struct listener {
    int fd;
    int family;     /* AF_INET, AF_INET6, AF_UNIX */
    char name[64];  /* FileDescriptorName= or "http" */
    char addr[128]; /* "127.0.0.1:8080", "[::1]:80", "/run/x.sock" */
    char host[64];  /* SERVER_NAME fallback: "127.0.0.1", "localhost" */
    char port[8];   /* SERVER_PORT fallback: "8080", "" for UNIX */
    int queue;      /* index among the sockets of its address */
    int nqueues;    /* sockets bound for its address (listen_queues) */
    int per_worker; /* queues of its address each worker waits on */
    /* TCP_DEFER_ACCEPT in seconds as the kernel reports it, 0 when off:
     * a connection accepted with no byte waited that long already. */
    int defer_accept;
};

struct listeners {
    struct listener l[LISTENERS_MAX];
    size_t n;
    int activated; /* 1 when the sockets came from systemd */
    /* The socket systemd passed as "metrics" (FileDescriptorName=), for
     * the monitor alone; 0 when none (a passed socket is never fd 0). */
    int metrics_fd;
};

struct settings;

/*
 * Fill ls from systemd's LISTEN_FDS when they are for this process,
 * otherwise bind every address of s->listen.  Returns 0, or -1 after
 * logging which address failed and why.
 */
int listeners_open(struct listeners *ls, const struct settings *s);

/*
 * Whether worker nr waits on l: every worker waits on an address with one
 * queue; with listen_queues N and listen_queues_per_worker K, worker nr
 * waits on queues nr % N to (nr + K - 1) % N.
 */
bool listeners_serve(const struct listener *l, int nr);

/* Close every listener: the monitor once a graceful stop began, the
 * service worker (its own copy) when it starts. */
void listeners_close(struct listeners *ls);

#endif
