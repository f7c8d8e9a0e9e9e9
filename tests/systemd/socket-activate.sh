#!/bin/sh
# Socket activation with systemd-socket-activate: the passed sockets are
# served, their FileDescriptorName= reaches env["pitchfork.listener"], -l
# is ignored with one info line, and no child sees LISTEN_*.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lib-server.sh"

command -v systemd-socket-activate >/dev/null 2>&1 ||
    skip_all "systemd-socket-activate not found"
plan 9

APP="$top_srcdir/tests/systemd/app/config.ru"
PORT=$(free_port)
SOCK="$TMPD/web.sock"
# fd 3 is the TAP driver's log here: systemd-socket-activate puts the
# first socket over it, and LISTEN_PID makes the server trust it.
systemd-socket-activate -l "$SOCK" -l "127.0.0.1:$PORT" \
    --fdname=unixweb:tcpweb "$PITCHFORK" -w 2 -l 127.0.0.1:9 "$APP" \
    >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
SERVER_LISTEN=$SOCK
# systemd-socket-activate execs the server at the first connection.
wait_for log_has "^Listening on 127.0.0.1:$PORT as"
is "$(hcurl "$(url /listener)")" "unixweb" \
    "the UNIX socket's name reaches env[\"pitchfork.listener\"]"
wait_for log_has 'event=ready msg="2 workers ready'
st=$?
ok $st "the server started on the passed sockets"
[ "$st" = 0 ] || diag "$(cat "$SERVER_LOG")"
KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"
SERVER_LISTEN=127.0.0.1:$PORT
is "$(hcurl "$(url /listener)")" "tcpweb" "so does the TCP socket's"
is "$(grep -c 'ignoring listen settings (127.0.0.1:9)' "$SERVER_LOG")" 1 \
    "-l is ignored with one info line"
log_has 'listening on 127.0.0.1:9$'
ok $((!$?)) "nothing was bound on the -l address"
is "$(hcurl "$(url /listen-env)")" "" "the application sees no LISTEN_*"

leaks=""
for p in $(server_children); do
    tr '\0' '\n' <"/proc/$p/environ" | grep -q '^LISTEN_' && leaks="$leaks $p"
done
is "$leaks" "" "no LISTEN_* in /proc/PID/environ of the mold and workers"
is "$(server_children | wc -l)" 3 "(a mold and 2 workers were checked)"

stop_server
log_has 'monitor exiting with status 0'
ok $? "stops cleanly"
done_testing
