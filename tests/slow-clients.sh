#!/bin/sh
# Silent and slow clients do not starve the workers: TCP listeners defer
# accept for header_timeout and a connection handed over empty after it
# is closed at once, so 50 silent connections on 2 workers leave them
# free; a request head must be complete within header_timeout (from the
# environment or the DSL, range-checked), however slowly its bytes come,
# or the client gets 408 and is closed, and 100 slowloris clients are
# answered so and stop mattering as soon as they stop; the body has the
# request timeout, and the monitor's timeout never fires for a slow head.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 26

CLIENTS="$top_srcdir/tests/slowclients.rb"

# A bad value is refused, naming the setting, the value and the range.
PITCHFORK_HEADER_TIMEOUT=0 timeout "$TIMEOUT" "$PITCHFORK" \
    -l "$TMPD/bad.sock" "$APPS/env.ru" >"$SERVER_LOG" 2>&1
ok "$([ $? = 2 ] && echo 0 || echo 1)" "PITCHFORK_HEADER_TIMEOUT=0: the server refuses to start"
log_has '^pitchfork: invalid value "0" for PITCHFORK_HEADER_TIMEOUT: expected seconds \(a number\) from 0\.1 to 3600$'
ok $? "the message names the variable, the value and the range"
echo 'header_timeout 7200' >"$TMPD/bad.rb"
timeout "$TIMEOUT" "$PITCHFORK" -c "$TMPD/bad.rb" -l "$TMPD/bad.sock" \
    "$APPS/env.ru" >"$SERVER_LOG" 2>&1
ok "$([ $? = 2 ] && echo 0 || echo 1)" "header_timeout 7200 in the file: refused"
log_has 'invalid value \\"7200\\" for header_timeout in .*bad\.rb: expected seconds \(a number\) from 0\.1 to 3600'
ok $? "the message names the DSL setting, the value and the range"

# ---- silent connections --------------------------------------------------
port=$(free_port)
start_server "127.0.0.1:$port" -d -w 2 "$APPS/env.ru"
defer=$(sed -n 's/.*TCP_DEFER_ACCEPT \([0-9]*\) s (header_timeout 5 s).*/\1/p' "$SERVER_LOG")
ok "$([ "${defer:-0}" -ge 5 ] && echo 0 || echo 1)" "the TCP listener defers accept for at least header_timeout ($defer s)"

timeout "$((TIMEOUT * 2))" ruby "$CLIENTS" silent "127.0.0.1:$port" 50 \
    "$TMPD/silent.ready" "$TMPD/silent.done" 2>"$TMPD/silent.err" &
KNOWN_PIDS="$KNOWN_PIDS $!"
wait_for test -e "$TMPD/silent.ready"
ok $? "50 silent connections are open"
# Before, during and after the moment the kernel hands them over.
served=0
for i in 1 2 3 4 5 6; do
    code=$(hcurl -o /dev/null --max-time 5 -w '%{http_code}' "$(url /)")
    [ "$code" = 200 ] && served=$((served + 1))
    sleep 2
done
is "$served" 6 "with them open, a request every 2 s for 12 s is served within 5 s"
wait_for test -s "$TMPD/silent.done"
is "$(cat "$TMPD/silent.done" 2>/dev/null)" "closed 50" "the server closes all 50"
is "$(grep -c 'sent nothing in the [0-9]* s of TCP_DEFER_ACCEPT' "$SERVER_LOG")" 50 \
    "each as soon as the kernel hands it over empty"
# Titles: "pitchfork (gen:0) worker[0] - requests: N, waiting".
requests=$(titles | sed -n 's/.*worker\[[0-9]*\] - requests: \([0-9]*\).*/\1/p' |
    awk '{ n += $1 } END { print n + 0 }')
ok "$([ "$requests" -lt 50 ] && echo 0 || echo 1)" "they are not counted as requests ($requests in all)"
[ -s "$TMPD/silent.err" ] && diag "$(cat "$TMPD/silent.err")"
stop_server

# ---- a socket systemd passes ---------------------------------------------
# A shorter TCP_DEFER_ACCEPT is raised to header_timeout, a longer one
# (DeferAcceptSec=) kept.
activated() { # DEFER: the server on a passed socket deferring DEFER s;
    # sets defer to what the server reports
    port=$(free_port)
    SERVER_LISTEN=127.0.0.1:$port
    # ruby execs the server: $! is the server's pid.
    ruby "$CLIENTS" activate "$port" "$1" \
        "$PITCHFORK" -d -w 1 "$APPS/env.ru" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
    wait_for server_answers
    KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"
    defer=$(sed -n 's/.*TCP_DEFER_ACCEPT \([0-9]*\) s (header_timeout 5 s).*/\1/p' "$SERVER_LOG")
}
activated 1
ok "$([ "${defer:-0}" -ge 5 ] && echo 0 || echo 1)" "a passed socket deferring 1 s is raised to header_timeout ($defer s)"
stop_server
activated 30
ok "$([ "${defer:-0}" -ge 30 ] && echo 0 || echo 1)" "one deferring 30 s keeps its 30 s ($defer s)"
stop_server

# ---- slowloris: one byte a second ----------------------------------------
printf 'timeout 1\nheader_timeout 2\n' >"$TMPD/slow.rb"
port=$(free_port)
start_server "127.0.0.1:$port" -w 2 -c "$TMPD/slow.rb" "$APPS/env.ru"
wait_for all_gen 0 3 # both workers up before their pids are taken
workers=$(worker_pids | sort | tr '\n' ' ')
rm -f "$TMPD/slow.stop"
timeout "$((TIMEOUT * 4))" ruby "$CLIENTS" slow "127.0.0.1:$port" 100 \
    "$TMPD/slow.stop" "$TMPD/slow.out" 2>"$TMPD/slow.err" &
KNOWN_PIDS="$KNOWN_PIDS $!"
lates() { grep -c 'request head incomplete after header_timeout (2 s, ' "$SERVER_LOG"; }
wait_for sh -c "[ \$(grep -c 'header_timeout (2 s, ' '$SERVER_LOG') -ge 4 ]"
ok $? "100 slowloris connections on 2 workers: heads late after header_timeout 2 (the DSL's)"
# What a request meets while they go on (reported, not required: each
# worker reads one head at a time, so it waits behind the queued ones).
code=$(hcurl -o /dev/null --max-time 3 -w '%{http_code}' "$(url /)" 2>/dev/null)
diag "a request while 100 slowloris clients go on: status ${code:-none} within 3 s"
touch "$TMPD/slow.stop"
wait_for test -s "$TMPD/slow.out"
ok $? "the slow clients stop"
out=$(cat "$TMPD/slow.out" 2>/dev/null)
diag "slow clients: $out"
n408=$(echo "$out" | sed -n 's/^408 \([0-9]*\) .*/\1/p')
ok "$([ "${n408:-0}" -ge 4 ] && echo 0 || echo 1)" "the slow heads were answered 408 ($n408)"
is "$(echo "$out" | sed -n 's/.* closed \([0-9]*\) .*/\1/p')" 0 \
    "no slow client was closed without its 408"
is "$(hcurl -o /dev/null --max-time 5 -w '%{http_code}' "$(url /)")" 200 \
    "once they stop, a request is served within 5 s"
[ "$(lates)" -ge "${n408:-0}" ]
ok $? "each 408 is logged at info level with header_timeout and the bytes read"
log_has 'passed its timeout|timed out'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "with timeout 1 < header_timeout 2, the request timeout never fired"
is "$(worker_pids | sort | tr '\n' ' ')" "$workers" "and the same workers still serve"
[ -s "$TMPD/slow.err" ] && diag "$(cat "$TMPD/slow.err")"
stop_server

# ---- header_timeout from the environment, on a UNIX socket ---------------
PITCHFORK_HEADER_TIMEOUT=1 PITCHFORK_TIMEOUT=5 \
    start_server "$TMPD/s.sock" -w 1 "$APPS/input.ru"
printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' | raw --keep-open >"$TMPD/late.out"
head -1 "$TMPD/late.out" | grep -q '^HTTP/1.1 408 Request Timeout'
ok $? "PITCHFORK_HEADER_TIMEOUT=1: a head still incomplete gets 408"
grep -qi '^Connection: close' "$TMPD/late.out"
ok $? "with Connection: close"
: | raw --keep-open >"$TMPD/silent.out"
is "$(wc -c <"$TMPD/silent.out" | tr -d ' ')" 0 "a silent client is closed without an answer"
is "$(timeout "$TIMEOUT" ruby "$CLIENTS" late-body "$SERVER_LISTEN" 2 |
    tail -1 | cut -d' ' -f1)" 5 \
    "a body 2 s after its head has the request timeout (5), not header_timeout (1)"
stop_server

# A head that took 5 s of header_timeout 10 leaves the request its whole
# timeout 2: the soft timeout answers 500 before the hard one (timeout +
# cleanup 1) would kill the worker.
PITCHFORK_HEADER_TIMEOUT=10 PITCHFORK_TIMEOUT=2 PITCHFORK_CLEANUP_TIMEOUT=1 \
    start_server "$TMPD/t.sock" -w 1 "$APPS/procs.ru"
{ sleep 5; printf 'GET /sleep?30 HTTP/1.1\r\nHost: x\r\n\r\n'; } |
    raw >"$TMPD/soft.out"
head -1 "$TMPD/soft.out" | grep -q '^HTTP/1.1 500 '
ok $? "a slow head, then a stuck app: the soft timeout counts from the head and answers 500"
log_has 'passed timeout \+ cleanup: SIGKILL'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "before the hard timeout"
stop_server

done_testing
