/*
 * Unit tests of control messages: round trip, descriptor passing, EOF,
 * refusal of a short message, and descriptors closed by control_recv_bare.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/control.h"
#include "tap.h"

int
main(void)
{
    struct ctl_msg out = {CTL_SPAWNED, 3, 7, 4242, 99}, in;
    int sp[2], pp[2], fds[CTL_MAX_FDS];
    size_t nfds = 9;
    char c = 0;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0 || pipe(pp) < 0)
        bail("socketpair/pipe: %s", strerror(errno));
    is_int(control_send(sp[0], &out, &pp[1], 1), 0, "send with one fd");
    is_int(control_recv(sp[1], &in, fds, &nfds), 1, "receive one message");
    is_int(in.type, CTL_SPAWNED, "type survives");
    is_int(in.nr, 3, "nr survives");
    is_int(in.generation, 7, "generation survives");
    is_int(in.pid, 4242, "pid survives");
    is_int((long long)in.arg, 99, "arg survives");
    is_int((long long)nfds, 1, "one fd received");
    ok(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, "received fd is close-on-exec");
    is_int(write(fds[0], "x", 1), 1, "received fd writes to the pipe");
    is_int(read(pp[0], &c, 1), 1, "pipe has the byte");
    is_int(c, 'x', "the byte is x");
    is_int(control_send(sp[0], &out, NULL, 0), 0, "send without fds");
    is_int(control_recv(sp[1], &in, fds, &nfds), 1, "receive it");
    is_int((long long)nfds, 0, "no fds");
    is_int(control_send(sp[0], &out, fds, CTL_MAX_FDS + 1), -1,
           "too many fds refused");
    is_int(send(sp[0], "short", 5, 0), 5, "send a short datagram");
    is_int(control_recv(sp[1], &in, fds, &nfds), -1, "short refused");
    is_int(errno, EBADMSG, "with EBADMSG");
    /* control_recv_bare closes what came: the pipe's last writer. */
    is_int(control_send(sp[0], &out, &pp[1], 1), 0, "send an fd unasked");
    close(pp[1]);
    close(fds[0]);
    is_int(control_recv_bare(sp[1], &in), 1, "receive it bare");
    is_int(in.type, CTL_SPAWNED, "the message survives");
    if (fcntl(pp[0], F_SETFL, O_NONBLOCK) < 0)
        bail("fcntl O_NONBLOCK: %s", strerror(errno));
    is_int(read(pp[0], &c, 1), 0, "the fd it carried is closed: EOF");
    close(sp[0]);
    is_int(control_recv(sp[1], &in, fds, &nfds), 0, "EOF when peer closed");
    return done_testing();
}
