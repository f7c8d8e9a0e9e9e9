#!/bin/sh
# A connection accepted through a SYN cookie is served.  When the SYN
# queue overflows, Linux answers with SYN cookies and keeps no state to
# defer accept with: it hands the connection over at once, before the
# client's request arrives, even on a TCP_DEFER_ACCEPT listener.  Such a
# connection must get header_timeout like any other; only one handed
# over empty at the end of the defer period (its SYN-ACK retransmitted)
# is closed at once.  Run in a network namespace of its own, where
# net.ipv4.tcp_syncookies=2 sends cookies for every SYN.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/tap.sh"

if [ -z "${PF_NETNS:-}" ]; then
    command -v unshare >/dev/null 2>&1 || skip_all "unshare not found (util-linux)"
    unshare -n -m true 2>/dev/null ||
        skip_all "unshare -n -m is not permitted here (it needs root)"
    PF_NETNS=1 exec unshare -n -m sh "$0" "$@"
fi
command -v ip >/dev/null 2>&1 || skip_all "ip not found (iproute2)"
ip link set lo up || { echo "Bail out! ip link set lo up failed in the namespace"; exit 1; }
# A container (systemd-nspawn) mounts /proc/sys read-only: this mount
# namespace is private, so making it writable here changes nothing
# outside, and the sysctl is the namespace's own.
syncookies() { echo 2 2>/dev/null >/proc/sys/net/ipv4/tcp_syncookies; }
syncookies || { mount -o remount,bind,rw /proc/sys && syncookies; } ||
    skip_all "cannot set net.ipv4.tcp_syncookies in a network namespace here"
. "$top_srcdir/tests/lib-server.sh"

# HOLD seconds after connecting, send a GET (none when HOLD is
# "silent") and print the status line, or EOF, or the error.
client() {
    timeout "$TIMEOUT" ruby -rsocket -e '
        s = TCPSocket.new("127.0.0.1", Integer(ARGV[0]))
        unless ARGV[1] == "silent"
          sleep Float(ARGV[1])
          s.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        end
        begin
          puts((s.read.lines.first || "EOF").chomp)
        rescue SystemCallError => e
          puts e.class
        end' "$1" "$2"
}

# Does this kernel hand a connection over at once with cookies on?
handed=$(timeout "$TIMEOUT" ruby -rsocket -e '
    l = Socket.new(:INET, :STREAM)
    l.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_DEFER_ACCEPT, 30)
    l.bind(Addrinfo.tcp("127.0.0.1", 0))
    l.listen(8)
    c = TCPSocket.new("127.0.0.1", l.local_address.ip_port)
    puts(IO.select([l], nil, nil, 2) ? "at once" : "deferred")
    c.close' 2>&1)
[ "$handed" = "at once" ] ||
    skip_all "SYN cookies do not bypass TCP_DEFER_ACCEPT here ($handed)"

plan 6

port=$(free_port)
PITCHFORK_HEADER_TIMEOUT=3 start_server "127.0.0.1:$port" -d -w 1 "$APPS/env.ru"
log_has 'TCP_DEFER_ACCEPT [0-9]* s'
ok $? "the listener defers accept"
is "$(client "$port" 0.5)" "HTTP/1.1 200 OK" \
    "a client that sends its request 0.5 s after a SYN-cookie handshake is served"
is "$(client "$port" 0)" "HTTP/1.1 200 OK" "one that sends it at once too"
ok "$(grep -q 'sent nothing in the [0-9]* s of TCP_DEFER_ACCEPT' "$SERVER_LOG" && echo 1 || echo 0)" \
    "neither is taken for a connection left silent through the defer period"
is "$(client "$port" silent)" "EOF" \
    "a silent one is closed without an answer at header_timeout, as any other"
log_has 'closing a connection that sent nothing within header_timeout'
ok $? "and the log says so"
stop_server
done_testing
