/*
 * The socket of the monitor's Prometheus endpoint (core/metrics_socket.h).
 * Only loopback addresses are taken: the endpoint has no authentication,
 * and what it shows (request counts, memory, queue depths) is for the
 * machine's own Prometheus, or an agent that forwards it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/metrics_socket.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

#define METRICS_SOCKET_TYPE (SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK)
#define METRICS_SOCKET_BACKLOG 16

/* The UNIX path of addr, or NULL when addr is a TCP address. */
static const char *
metrics_socket_path(const char *addr)
{
    if (strncmp(addr, "unix:", 5) == 0)
        addr += 5;
    return addr[0] == '/' ? addr : NULL;
}

/* Split "HOST:PORT", "[V6]:PORT" or "PORT" (host 127.0.0.1). */
static int
metrics_socket_split(const char *addr, char *host, size_t hostsz, char *port,
                     size_t portsz)
{
    const char *colon;
    size_t hl;

    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        hl = (size_t)(end - addr - 1);
        addr++;
        colon = end + 1;
    } else if ((colon = strrchr(addr, ':')) == NULL) {
        snprintf(host, hostsz, "127.0.0.1");
        return snprintf(port, portsz, "%s", addr) < (int)portsz ? 0 : -1;
    } else {
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= hostsz || colon[1] == '\0' ||
        strlen(colon + 1) >= portsz ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -1;
    memcpy(host, addr, hl);
    host[hl] = '\0';
    snprintf(port, portsz, "%s", colon + 1);
    return 0;
}

static int
metrics_socket_loopback(const struct addrinfo *ai)
{
    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ai->ai_addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ai->ai_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)ai->ai_addr;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

/* Resolve a TCP addr to *res, refusing a host that is not loopback. */
static int
metrics_socket_resolve(const char *addr, struct addrinfo **res, char *err,
                       size_t errsz)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    char host[256], port[8];
    int rc;

    if (metrics_socket_split(addr, host, sizeof(host), port, sizeof(port)) <
        0) {
        snprintf(err, errsz,
                 "metrics_listen: \"%s\" is not HOST:PORT, [V6]:PORT, PORT "
                 "or a UNIX socket path",
                 addr);
        return -1;
    }
    if ((rc = getaddrinfo(host, port, &hints, res)) != 0) {
        snprintf(err, errsz, "metrics_listen: cannot resolve \"%s\": %s", addr,
                 gai_strerror(rc));
        return -1;
    }
    for (const struct addrinfo *ai = *res; ai != NULL; ai = ai->ai_next) {
        if (!metrics_socket_loopback(ai)) {
            snprintf(err, errsz,
                     "metrics_listen: \"%s\" is not a loopback address "
                     "(allowed: 127.0.0.0/8, [::1], localhost, or a UNIX "
                     "socket path)",
                     addr);
            freeaddrinfo(*res);
            *res = NULL;
            return -1;
        }
    }
    return 0;
}

int
metrics_socket_check(const char *addr, char *err, size_t errsz)
{
    const char *path = metrics_socket_path(addr);
    struct addrinfo *res = NULL;

    if (path != NULL) {
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(err, errsz,
                     "metrics_listen: the UNIX socket path \"%s\" is too "
                     "long (at most %zu bytes)",
                     path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
            return -1;
        }
        return 0;
    }
    if (metrics_socket_resolve(addr, &res, err, errsz) < 0)
        return -1;
    freeaddrinfo(res);
    return 0;
}

/* Bind and listen fd on sa; close it and return -1 after logging. */
static int
metrics_socket_listen(int fd, const struct sockaddr *sa, socklen_t len,
                      const char *addr)
{
    int one = 1;

    if (sa->sa_family != AF_UNIX &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
        log_syserr("metrics_listen %s: setsockopt SO_REUSEADDR", addr);
        (void)close(fd); /* failing already */
        return -1;
    }
    if (bind(fd, sa, len) < 0 || listen(fd, METRICS_SOCKET_BACKLOG) < 0) {
        log_syserr("metrics_listen %s: bind and listen", addr);
        (void)close(fd); /* failing already */
        return -1;
    }
    return fd;
}

static int
metrics_socket_open_unix(const char *path)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    struct stat st;
    int fd;

    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    /* A socket file left by an earlier run; anything else stays. */
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) < 0)
        log_syswarn("metrics_listen %s: unlink the old socket", path);
    if ((fd = socket(AF_UNIX, METRICS_SOCKET_TYPE, 0)) < 0) {
        log_syserr("metrics_listen %s: socket", path);
        return -1;
    }
    return metrics_socket_listen(fd, (struct sockaddr *)&un, sizeof(un), path);
}

int
metrics_socket_open(const char *addr)
{
    const char *path = metrics_socket_path(addr);
    struct addrinfo *res = NULL;
    char err[512];
    int fd;

    if (metrics_socket_check(addr, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return -1;
    }
    if (path != NULL)
        return metrics_socket_open_unix(path);
    if (metrics_socket_resolve(addr, &res, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return -1;
    }
    fd = socket(res->ai_family, METRICS_SOCKET_TYPE, 0);
    if (fd < 0)
        log_syserr("metrics_listen %s: socket", addr);
    else
        fd = metrics_socket_listen(fd, res->ai_addr, res->ai_addrlen, addr);
    freeaddrinfo(res);
    return fd;
}
