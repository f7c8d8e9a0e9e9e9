/*
 * Unit tests of src/core/sdnotify.c against a NOTIFY_SOCKET this test
 * binds and does not read at first: no notification waits for the
 * receiver; what its full queue cannot take waits in order (a newer
 * STATUS= replacing a waiting one) and goes out with sdnotify_flush()
 * once the receiver reads again.  alarm(2) bounds the test: a send that
 * waited would end it.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sdnotify.h"
#include "tap.h"

/* Every message waiting on fd, "|"-separated, into buf. */
static int
receive_all(int fd, char *buf, size_t size)
{
    char msg[512];
    ssize_t n;
    int count = 0;

    buf[0] = '\0';
    while ((n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) >= 0) {
        msg[n] = '\0';
        if (strlen(buf) + (size_t)n + 2 < size) {
            strcat(buf, msg);
            strcat(buf, "|");
        }
        count++;
    }
    return count;
}

int
main(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[] = "/tmp/pfsdnotify.XXXXXX", got[8192], want[64];
    int fd, sent = 0, n;

    if (mkdtemp(dir) == NULL)
        bail("mkdtemp: %s", strerror(errno));
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        bail("bind %s: %s", sa.sun_path, strerror(errno));
    if (setenv("NOTIFY_SOCKET", sa.sun_path, 1) < 0)
        bail("setenv: %s", strerror(errno));
    log_init(LOG_TARGET_STDERR, false);
    alarm(30);

    /* Fill the receiver's queue: the first line that waits ends it. */
    while (sdnotify_pending() == 0 && sent < 100000)
        sdnotify("X_FILL=%d", sent++);
    ok(sdnotify_pending() == 1, "the queue is full after %d lines, no wait",
       sent);
    sdnotify("STATUS=one");
    sdnotify("READY=1");
    sdnotify("STATUS=two");
    is_int((int)sdnotify_pending(), 3,
           "X_FILL, STATUS= (the newer replacing the older), READY=1 wait");
    sdnotify_flush();
    is_int((int)sdnotify_pending(), 3, "a flush while unread sends nothing");

    n = receive_all(fd, got, sizeof(got));
    is_int(n, sent - 1, "the receiver reads what its queue held");
    sdnotify_flush();
    is_int((int)sdnotify_pending(), 0, "then a flush sends what waited");
    receive_all(fd, got, sizeof(got));
    snprintf(want, sizeof(want), "X_FILL=%d|STATUS=two|READY=1|", sent - 1);
    is_str(got, want, "in order, the newer STATUS= in the older's place");
    sdnotify("STOPPING=1");
    receive_all(fd, got, sizeof(got));
    is_str(got, "STOPPING=1|", "later lines go out at once");
    is_int((int)sdnotify_dropped(), 0, "nothing dropped");

    (void)unlink(sa.sun_path);
    (void)rmdir(dir);
    return done_testing();
}
