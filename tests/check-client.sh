#!/bin/sh
# check_client_connection: a client that gave up while its connection
# waited in the listen queue is not served (the application is not
# called), over TCP and over a UNIX socket; without the setting it is.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 12

export PF_MARK="$TMPD/mark" PF_CALLS="$TMPD/calls"

# Send a whole request for PATH and close the connection at once.
give_up() {
    timeout "$TIMEOUT" ruby -rsocket -e '
        s = ARGV[0].start_with?("/") ? UNIXSocket.new(ARGV[0]) :
            TCPSocket.new(*ARGV[0].split(":"))
        s.write("GET #{ARGV[1]} HTTP/1.1\r\nHost: x\r\n\r\n")
        s.close' "$SERVER_LISTEN" "$1"
}

# With the only worker busy on a slow request, a client queues a request
# for PATH and gives up; then the slow request ends and one more follows.
queue_and_give_up() {
    rm -f "$PF_MARK"
    hcurl -o /dev/null "$(url /sleep?1)" &
    slow=$!
    wait_for test -s "$PF_MARK"
    give_up "$1"
    wait "$slow"
    hcurl -o /dev/null "$(url /after)"
}

called() { grep -c -x -F -- "$1" "$PF_CALLS"; }

for listen in "$TMPD/s.sock" "127.0.0.1:$(free_port)"; do
    case $listen in /*) kind=UNIX ;; *) kind=TCP ;; esac
    : >"$PF_CALLS"
    PITCHFORK_CHECK_CLIENT_CONNECTION=true \
        start_server "$listen" -w 1 "$APPS/procs.ru"
    ok $? "$kind: server starts with check_client_connection"
    queue_and_give_up /gone
    is "$(called /after)" 1 "$kind: the next request is served"
    is "$(called /gone)" 0 "$kind: the app is not called for a client that left"
    log_has 'client gone before the app was called: /gone not served'
    ok $? "$kind: the skipped request is logged"
    stop_server

    : >"$PF_CALLS"
    start_server "$listen" -w 1 "$APPS/procs.ru"
    queue_and_give_up /gone
    is "$(called /after)" 1 "$kind: without the setting, the next request is served"
    is "$(called /gone)" 1 "$kind: and the app is called for the client that left"
    stop_server
done
done_testing
