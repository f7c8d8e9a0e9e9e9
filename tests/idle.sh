#!/bin/sh
# idle_timeout under systemd-socket-activate: after the first request
# and idle_timeout without another, the server stops gracefully and
# exits 0 (PITCHFORK_EVENT=idle-exit); a request longer than
# idle_timeout holds the stop and is answered; with sockets it bound
# itself, the setting is ignored with a warning.  (That the next
# connection starts the service again is systemd's part: see
# tests/systemd/idle-e2e.sh.)
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lib-server.sh"

command -v systemd-socket-activate >/dev/null 2>&1 ||
    skip_all "systemd-socket-activate not found"
plan 12

APP="$top_srcdir/tests/systemd/app/config.ru"
SOCK="$TMPD/web.sock"

# activated: the server under systemd-socket-activate on $SOCK with
# idle_timeout 1; it is executed at the first connection.  fd 3 is the
# TAP driver's log here: the socket goes over it, and LISTEN_PID makes
# the server trust it.
activated() {
    rm -f "$SOCK"
    systemd-socket-activate -l "$SOCK" -E PITCHFORK_IDLE_TIMEOUT=1 \
        "$PITCHFORK" -w 2 "$APP" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
    SERVER_LISTEN=$SOCK
    wait_for log_has "^Listening on $SOCK"
}

# exited: wait (bounded) until the server logged its exit, then reap it;
# st is its exit status, "none" when it did not exit.  (Not in a $(...)
# subshell: the server is not that subshell's child.)
exited() {
    st=none
    if wait_for log_has 'monitor exiting with status'; then
        wait "$SERVER_PID"
        st=$?
        SERVER_PID=""
    fi
}

# line REGEX: the number of the first log line matching REGEX (0: none)
line() {
    n=$(grep -n -E -m1 -- "$1" "$SERVER_LOG" | cut -d: -f1)
    echo "${n:-0}"
}

activated
is "$(hcurl -w '%{http_code}' "$(url /listener)")" "http
200" \
    "the first connection starts the server, and is answered"
exited
is "$st" 0 "after idle_timeout without a request, the server exits 0"
log_has 'event=idle-exit .*msg="no request for 1 s \(idle_timeout\): stopping'
ok $? "logged with event=idle-exit"
log_has 'event=shutdown .*msg="graceful shutdown"'
ok $? "the stop is the graceful one"
[ "$tap_failed" = 0 ] || diag "$(cat "$SERVER_LOG")"
sanitizer_check

# A request three times idle_timeout long: the busy worker holds the
# stop, which comes after the request ends.
activated
is "$(hcurl -w '%{http_code}' "$(url '/sleep?s=3')")" "slept
200" "a request longer than idle_timeout is answered"
exited
is "$st" 0 "then the server exits 0"
start=$(line 'sleep-start')
end=$(line 'sleep-end')
idle=$(line 'event=idle-exit')
ok "$([ "$start" -gt 0 ] && [ "$end" -gt "$start" ] && [ "$idle" -gt "$end" ] &&
    echo 0 || echo 1)" \
    "the idle exit comes after the request ended (log lines $start, $end, $idle)"
is "$(grep -c 'event=idle-exit' "$SERVER_LOG")" 1 "one idle exit"
[ "$tap_failed" = 0 ] || diag "$(cat "$SERVER_LOG")"
sanitizer_check

# Sockets bound by the server: a warning, and no idle exit.
PITCHFORK_IDLE_TIMEOUT=1 start_server "$SOCK" -w 1 "$APP"
log_has 'level=warn .*msg="idle_timeout=1 is ignored: the listening sockets were not passed by systemd \(socket activation\)'
ok $? "without socket activation: a warning names idle_timeout"
# Not a wait for readiness: time for a stop that must not come.
sleep 2
is "$(hcurl "$(url /listener)")" "http" "and the server still serves after it"
log_has 'event=idle-exit'
ok $((!$?)) "with no idle exit"
stop_server
log_has 'monitor exiting with status 0'
ok $? "it stops cleanly on SIGTERM"
done_testing
