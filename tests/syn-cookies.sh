#!/bin/sh
# A connection accepted through a SYN cookie is served.  When the SYN
# queue overflows, Linux answers with SYN cookies and keeps no state to
# defer accept with: it hands the connection over at once, before the
# client's request arrives, even on a TCP_DEFER_ACCEPT listener.  Such a
# connection must get header_timeout like any other; only one handed
# over empty at the end of the defer period (its SYN-ACK retransmitted)
# is closed at once.  The queue overflows here as it does in production:
# the server listens with a backlog of 1, and two clients that connect
# and send nothing fill it (deferred accept keeps them there) before
# each client under test connects.  No namespace, sysctl or root needed:
# net.ipv4.tcp_syncookies=1, the kernel's default, sends cookies then.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/tap.sh"

cookies=$(cat /proc/sys/net/ipv4/tcp_syncookies 2>/dev/null || echo "unreadable")
[ "$cookies" = 1 ] || [ "$cookies" = 2 ] ||
    skip_all "net.ipv4.tcp_syncookies is $cookies: this kernel sends no SYN cookies"

# The SYN cookies this network namespace sent so far (TcpExt).
cookies_sent() {
    awk '$1 == "TcpExt:" && !n { for (i = 2; i <= NF; i++) f[i] = $i; n = 1; next }
         $1 == "TcpExt:" { for (i = 2; i <= NF; i++) if (f[i] == "SyncookiesSent") print $i }' \
        /proc/net/netstat
}

# Ruby: connect to ARGV[0] with the SYN queue of a backlog-1 listener
# full: two silent fillers first, then the connection that matters,
# then the fillers close (before their deferred SYN-ACK is retransmitted
# at 1 s, so the server reads their EOF, not a silent hand-over).
FILL='
def cookie_connect(port)
  fill = Array.new(2) { TCPSocket.new("127.0.0.1", port) }
  sleep 0.1
  s = TCPSocket.new("127.0.0.1", port)
  fill.each(&:close)
  s
end'

# HOLD seconds after connecting, send a GET (none when HOLD is
# "silent") and print the status line, or EOF, or the error.
client() {
    timeout "$TIMEOUT" ruby -rsocket -e "$FILL"'
        s = cookie_connect(Integer(ARGV[0]))
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

. "$top_srcdir/tests/lib-server.sh"

# Does this kernel hand such a connection over at once?
handed=$(timeout "$TIMEOUT" ruby -rsocket -e "$FILL"'
    l = Socket.new(:INET, :STREAM)
    l.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_DEFER_ACCEPT, 30)
    l.bind(Addrinfo.tcp("127.0.0.1", 0))
    l.listen(1)
    c = cookie_connect(l.local_address.ip_port)
    puts(IO.select([l], nil, nil, 2) ? "at once" : "deferred")
    c.close' 2>&1)
[ "$handed" = "at once" ] ||
    skip_all "a full SYN queue does not bypass TCP_DEFER_ACCEPT here ($handed)"

plan 7

port=$(free_port)
before=$(cookies_sent)
PITCHFORK_BACKLOG=1 PITCHFORK_HEADER_TIMEOUT=3 \
    start_server "127.0.0.1:$port" -d -w 2 "$APPS/env.ru"
log_has 'TCP_DEFER_ACCEPT [0-9]* s'
ok $? "the listener defers accept"
is "$(client "$port" 0.5)" "HTTP/1.1 200 OK" \
    "a client that sends its request 0.5 s after a SYN-cookie handshake is served"
is "$(client "$port" 0)" "HTTP/1.1 200 OK" "one that sends it at once too"
after=$(cookies_sent)
[ "${after:-0}" -gt "${before:-0}" ]
ok $? \
    "the kernel sent SYN cookies (TcpExt SyncookiesSent $before -> $after)"
ok "$(grep -q 'sent nothing in the [0-9]* s of TCP_DEFER_ACCEPT' "$SERVER_LOG" && echo 1 || echo 0)" \
    "neither is taken for a connection left silent through the defer period"
is "$(client "$port" silent)" "EOF" \
    "a silent one is closed without an answer at header_timeout, as any other"
log_has 'closing a connection that sent nothing within header_timeout'
ok $? "and the log says so"
stop_server
done_testing
