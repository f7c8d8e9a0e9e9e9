/*
 * Listening sockets: socket activation (sd_listen_fds_with_names) or
 * bound by the monitor from PITCHFORK_LISTEN, with the socket options
 * upstream uses (backlog, TCP_NODELAY and TCP_DEFER_ACCEPT from
 * listener_tcp.h, and the listen_umask, listen_reuseport and
 * listen_queues settings).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "core/listeners.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "core/listener_tcp.h"
#include "core/log.h"
#include "core/metrics_socket.h"
#include "core/settings.h"

/* The type of the sockets this server binds. */
#define LISTENER_SOCK_TYPE (SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK)

/* Fill l->addr, l->host and l->port from the bound address of l->fd. */
static int
listener_describe(struct listener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;

    /* Zeroed: the analyzers do not know what getsockname() fills in. */
    memset(&ss, 0, sizeof(ss));
    if (getsockname(l->fd, (struct sockaddr *)&ss, &len) < 0) {
        log_syserr("getsockname on listener fd %d", l->fd);
        return -1;
    }
    l->family = ss.ss_family;
    if (ss.ss_family == AF_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        snprintf(l->addr, sizeof(l->addr), "%s",
                 len > offsetof(struct sockaddr_un, sun_path) ? un->sun_path
                                                              : "(unnamed)");
        snprintf(l->host, sizeof(l->host), "localhost");
        l->port[0] = '\0';
        return 0;
    }
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(l->addr, sizeof(l->addr), "%s:%u", host, port);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(l->addr, sizeof(l->addr), "[%s]:%u", host, port);
    }
    snprintf(l->host, sizeof(l->host), "%s", host);
    snprintf(l->port, sizeof(l->port), "%u", port);
    return 0;
}

static int
listener_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_syserr("fcntl O_NONBLOCK on listener fd %d", fd);
        return -1;
    }
    return 0;
}

/* Check that a passed fd is a listening stream socket we can serve. */
static int
listener_check_passed(int fd)
{
    int type = 0, acc = 0;
    socklen_t len = sizeof(type);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
        log_syserr("socket activation: fd %d is not a socket", fd);
        return -1;
    }
    len = sizeof(acc);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 ||
        type != SOCK_STREAM || !acc) {
        log_err("socket activation: fd %d is not a listening stream socket "
                "(use ListenStream= in the socket unit)",
                fd);
        return -1;
    }
    return 0;
}

/* The socket named "metrics": the monitor's Prometheus endpoint, never
 * an HTTP listener. */
static int
listeners_metrics_passed(struct listeners *ls, int fd)
{
    if (listener_check_passed(fd) < 0 || listener_nonblock(fd) < 0)
        return -1;
    if (ls->metrics_fd > 0)
        log_warn("socket activation: more than one socket named %s: "
                 "fd %d is not used",
                 METRICS_SOCKET_NAME, ls->metrics_fd);
    ls->metrics_fd = fd;
    log_info("metrics on fd %d (%s, from systemd)", fd, METRICS_SOCKET_NAME);
    return 0;
}

static int
listeners_from_systemd(struct listeners *ls, const struct settings *s, int n,
                       char **names)
{
    for (int i = 0; i < n; i++) {
        struct listener *l = &ls->l[ls->n];
        if (names && names[i] && strcmp(names[i], METRICS_SOCKET_NAME) == 0) {
            if (listeners_metrics_passed(ls, SD_LISTEN_FDS_START + i) < 0)
                return -1;
            continue;
        }
        if (ls->n == LISTENERS_MAX) {
            log_err("socket activation: more than %d sockets passed",
                    LISTENERS_MAX);
            return -1;
        }
        l->fd = SD_LISTEN_FDS_START + i;
        l->nqueues = 1;
        l->per_worker = 1;
        snprintf(l->name, sizeof(l->name), "%s",
                 names && names[i] && strcmp(names[i], "unknown") != 0
                     ? names[i]
                     : "http");
        if (listener_check_passed(l->fd) < 0 || listener_describe(l) < 0 ||
            listener_nonblock(l->fd) < 0)
            return -1;
        if (l->family != AF_UNIX)
            listener_tcp_options(l, s->header_timeout);
        ls->n++;
        log_info("listening on %s (%s, from systemd)", l->addr, l->name);
    }
    ls->activated = 1;
    return 0;
}

/* Split "HOST:PORT", "[V6]:PORT" or "PORT" into host (may be "") and
 * port.  Returns -1 when malformed. */
static int
listener_split(const char *addr, char *host, size_t hostsz, char *port,
               size_t portsz)
{
    const char *colon;

    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':' ||
            (size_t)(close - addr) >= hostsz)
            return -1;
        snprintf(host, hostsz, "%.*s", (int)(close - addr - 1), addr + 1);
        colon = close + 1;
    } else if ((colon = strrchr(addr, ':')) != NULL) {
        if ((size_t)(colon - addr) >= hostsz)
            return -1;
        snprintf(host, hostsz, "%.*s", (int)(colon - addr), addr);
    } else {
        host[0] = '\0';
        colon = addr - 1;
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= portsz ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -1;
    snprintf(port, portsz, "%s", colon + 1);
    return 0;
}

/* SO_REUSEADDR always; SO_REUSEPORT when asked or for several queues. */
static int
listener_reuse(int fd, const char *addr, bool reuseport)
{
    int one = 1;

    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        log_syswarn("listen %s: setsockopt SO_REUSEADDR", addr);
    if (reuseport &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
        log_syserr("listen %s: setsockopt SO_REUSEPORT", addr);
        return -1;
    }
    return 0;
}

static int
listener_bind_tcp(struct listener *l, const char *addr, int backlog,
                  bool reuseport)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char host[256], port[16];
    int rc;

    if (listener_split(addr, host, sizeof(host), port, sizeof(port)) < 0) {
        log_err("invalid value \"%s\" for listen: expected HOST:PORT, "
                "[V6]:PORT, PORT or /path.sock",
                addr);
        return -1;
    }
    rc = getaddrinfo(host[0] ? host : "0.0.0.0", port, &hints, &ai);
    if (rc != 0) {
        log_err("listen %s: cannot resolve \"%s\": %s", addr, host,
                gai_strerror(rc));
        return -1;
    }
    l->fd = socket(ai->ai_family, LISTENER_SOCK_TYPE, 0);
    if (l->fd < 0) {
        log_syserr("listen %s: socket", addr);
        freeaddrinfo(ai);
        return -1;
    }
    if (listener_reuse(l->fd, addr, reuseport) < 0) {
        freeaddrinfo(ai);
        return -1;
    }
    rc = bind(l->fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc < 0 || listen(l->fd, backlog) < 0) {
        log_syserr("listen %s: %s", addr, rc < 0 ? "bind" : "listen");
        return -1;
    }
    return 0;
}

/* Remove a stale socket file, but never a socket someone listens on. */
static int
listener_unlink_stale(const char *path)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        log_err("listen %s: exists and is not a socket", path);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    rc = connect(fd, (struct sockaddr *)&un, sizeof(un));
    (void)close(fd); /* a probe socket: nothing to report */
    if (rc == 0) {
        log_err("listen %s: another server is listening there", path);
        return -1;
    }
    if (unlink(path) < 0) {
        log_syserr("listen %s: unlink stale socket", path);
        return -1;
    }
    return 0;
}

static int
listener_bind_unix(struct listener *l, const char *path, int backlog,
                   int umask_bits)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    mode_t mode = 0666 & ~(mode_t)umask_bits;

    if (strlen(path) >= sizeof(un.sun_path)) {
        log_err("invalid value \"%s\" for listen: a UNIX socket path must "
                "be shorter than %zu bytes",
                path, sizeof(un.sun_path));
        return -1;
    }
    if (listener_unlink_stale(path) < 0)
        return -1;
    memcpy(un.sun_path, path, strlen(path) + 1);
    l->fd = socket(AF_UNIX, LISTENER_SOCK_TYPE, 0);
    if (l->fd < 0) {
        log_syserr("listen %s: socket", path);
        return -1;
    }
    if (bind(l->fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        log_syserr("listen %s: bind", path);
        return -1;
    }
    /* Before listen(2) nobody can connect, whatever the mode was. */
    if (chmod(path, mode) < 0) {
        log_syserr("listen %s: chmod %04o", path, (unsigned)mode);
        return -1;
    }
    if (listen(l->fd, backlog) < 0) {
        log_syserr("listen %s: listen", path);
        return -1;
    }
    return 0;
}

/* listen_queues_per_worker, or queues - 1 (at least 1), at most nq. */
static int
listeners_per_worker(const struct settings *s, int nq)
{
    int k = s->listen_queues_per_worker;

    if (k == 0)
        k = nq > 1 ? nq - 1 : 1;
    return k > nq ? nq : k;
}

/* Warn when some queue has no worker waiting on it: its connections
 * would wait until TTIN adds one. */
static void
listeners_check_queues(const char *addr, int nq, int per_worker, int workers)
{
    int unserved = 0;

    for (int q = 0; q < nq; q++) {
        bool served = false;
        for (int nr = 0; nr < workers && nr < nq && !served; nr++)
            served = ((q - nr) % nq + nq) % nq < per_worker;
        unserved += !served;
    }
    if (unserved > 0)
        log_warn("listen %s: %d of the %d queues have no worker waiting on "
                 "them (%d workers, listen_queues_per_worker %d): their "
                 "connections wait for one",
                 addr, unserved, nq, workers, per_worker);
}

/*
 * Bind the queues of one TCP address: queue 0 from addr, the others to
 * the address queue 0 got (so that port 0 means one port), all with
 * SO_REUSEPORT when there are several.  Returns 0 or -1 (logged).
 */
static int
listeners_bind_queues(struct listeners *ls, const struct settings *s,
                      const char *addr)
{
    int nq = s->listen_queues > 1 ? s->listen_queues : 1;
    bool reuseport = s->listen_reuseport || nq > 1;

    if (ls->n + (size_t)nq > LISTENERS_MAX) {
        log_err("listen %s: more than %d sockets in all (listen_queues %d)",
                addr, LISTENERS_MAX, nq);
        return -1;
    }
    int per_worker = listeners_per_worker(s, nq);

    listeners_check_queues(addr, nq, per_worker, s->workers);
    for (int q = 0; q < nq; q++) {
        struct listener *l = &ls->l[ls->n];
        const char *a = q == 0 ? addr : ls->l[ls->n - 1].addr;
        if (listener_bind_tcp(l, a, s->backlog, reuseport) < 0 ||
            listener_describe(l) < 0)
            return -1;
        listener_tcp_options(l, s->header_timeout);
        snprintf(l->name, sizeof(l->name), "http");
        l->queue = q;
        l->nqueues = nq;
        l->per_worker = per_worker;
        ls->n++;
        if (nq > 1)
            log_info("listening on %s (queue %d of %d, SO_REUSEPORT; "
                     "each worker waits on %d)",
                     l->addr, q + 1, nq, per_worker);
        else
            log_info("listening on %s%s", l->addr,
                     reuseport ? " (SO_REUSEPORT)" : "");
    }
    return 0;
}

static int
listeners_bind_path(struct listeners *ls, const struct settings *s,
                    const char *path)
{
    struct listener *l = &ls->l[ls->n];

    if (ls->n == LISTENERS_MAX) {
        log_err("listen %s: more than %d sockets in all", path, LISTENERS_MAX);
        return -1;
    }
    if (listener_bind_unix(l, path, s->backlog, s->listen_umask) < 0 ||
        listener_describe(l) < 0)
        return -1;
    snprintf(l->name, sizeof(l->name), "http");
    l->nqueues = 1;
    ls->n++;
    log_info("listening on %s", l->addr);
    return 0;
}

static int
listeners_bind(struct listeners *ls, const struct settings *s)
{
    static char *const fallback[] = {"127.0.0.1:8080"};
    char *const *addrs = s->nlisten ? s->listen : fallback;
    size_t n = s->nlisten ? s->nlisten : 1;

    for (size_t i = 0; i < n; i++) {
        const char *a = addrs[i];
        int rc;
        if (strncmp(a, "unix:", 5) == 0)
            a += 5;
        rc = a[0] == '/' ? listeners_bind_path(ls, s, a)
                         : listeners_bind_queues(ls, s, a);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int
listeners_open(struct listeners *ls, const struct settings *s)
{
    char **names = NULL;
    int n, rc;

    memset(ls, 0, sizeof(*ls));
    /* unset_environment=1: children must not see LISTEN_*. */
    n = sd_listen_fds_with_names(1, &names);
    if (n < 0) {
        errno = -n;
        log_syserr("socket activation: sd_listen_fds_with_names");
        return -1;
    }
    if (n > 0) {
        rc = listeners_from_systemd(ls, s, n, names);
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
        if (rc == 0 && ls->n > 0 && s->nlisten > 0)
            log_info("systemd passed %zu socket(s): ignoring listen "
                     "settings (%s%s)",
                     ls->n, s->listen[0], s->nlisten > 1 ? ", ..." : "");
        if (rc < 0 || ls->n > 0)
            return rc;
        ls->activated = 0; /* only the metrics socket: bind the others */
    }
    return listeners_bind(ls, s);
}

bool
listeners_serve(const struct listener *l, int nr)
{
    int n = l->nqueues;

    return n <= 1 || ((l->queue - nr % n) + n) % n < l->per_worker;
}

void
listeners_close(struct listeners *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->l[i].fd >= 0 && close(ls->l[i].fd) < 0)
            log_syswarn("close listener %s", ls->l[i].addr);
        ls->l[i].fd = -1;
    }
}
