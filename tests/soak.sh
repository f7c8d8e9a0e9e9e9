#!/bin/sh
# Soak: SOAK_REQUESTS (default 10,000) requests of every type in turn
# (GET, POST with a length, chunked upload, streaming response, full
# hijack, 404, an application exception answered 500) over 4 parallel
# connections to 2 workers with refork_after 250 (each worker counts its
# own requests: a worker is due about every 500), so that the server
# reforks again and again under load; no promotion starts while a
# rollout is under way, so there are fewer (6 in 10,000 when written).  Every request must get its
# status and body; at the end the monitor, the mold and both workers
# are up, and the generation has advanced.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

requests=${SOAK_REQUESTS:-10000}
plan 7

start_server "$TMPD/s.sock" -w 2 --refork-after 250 "$APPS/soak.ru"
ok $? "server starts with 2 workers, refork_after 250"
wait_for all_gen 0 3
ok $? "a mold and 2 workers, all gen 0"

res=$(timeout "$((TIMEOUT * 10))" ruby "$top_srcdir/tests/soakclient.rb" \
    "$SERVER_LISTEN" "$requests" 4 2>"$TMPD/client.err")
[ -s "$TMPD/client.err" ] && diag "$(head -20 "$TMPD/client.err")"
set -- $res
is "${1:-0} ${2:--1}" "$requests 0" \
    "$requests requests, every one answered as expected (${3:-?} s)"

ok "$(kill -0 "$SERVER_PID" 2>/dev/null && echo 0 || echo 1)" \
    "the monitor is up"
reforks=$(grep -c 'promoting worker [0-9]* pid [0-9]* to mold of gen' "$SERVER_LOG")
ok "$([ "$reforks" -gt 0 ] && echo 0 || echo 1)" \
    "the server reforked under load ($reforks promotions)"
# A refork may still be under way: wait until the monitor has a mold and
# 2 workers, all of one generation, none booting.
settled() {
    t=$(titles)
    g=$(printf '%s\n' "$t" | sed -n 's/.*(gen:\([0-9]*\)).*/\1/p' | sort -u)
    [ "$(printf '%s\n' "$t" | grep -c .)" = 3 ] &&
        [ "$(printf '%s\n' "$g" | grep -c .)" = 1 ] &&
        [ "$(printf '%s\n' "$t" | grep -c ') mold')" = 1 ] &&
        ! printf '%s\n' "$t" | grep -q booting
}
wait_for settled
ok $? "a mold and 2 workers are up, all of one generation"
# (A promotion may begin after the last request: take the newest mold.)
gen=$(titles | sed -n 's/.*(gen:\([0-9]*\)) mold.*/\1/p' | sort -n | tail -1)
ok "$([ "${gen:-0}" -gt 0 ] && echo 0 || echo 1)" \
    "the generation advanced (gen ${gen:-none})"
stop_server

done_testing
