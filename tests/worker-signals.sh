#!/bin/sh
# Signals sent to a worker directly keep upstream's meaning: QUIT and
# TERM finish the request in flight, then exit; INT exits at once; the
# monitor replaces the worker from the mold either way.  Other signals
# are ignored.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 15

export PF_MARK="$TMPD/mark"
start_server "$TMPD/s.sock" -w 1 "$APPS/procs.ru"
wait_for all_gen 0 2
ok $? "server starts with one worker"

# A slow request to the only worker, then SIG to that worker.
signal_mid_request() {
    rm -f "$PF_MARK"
    w=$(worker_pids)
    hcurl -o "$TMPD/slow.out" -w '%{http_code}' "$(url /sleep?1)" \
        >"$TMPD/slow.code" 2>/dev/null &
    slow=$!
    wait_for test -s "$PF_MARK"
    kill -"$1" "$w"
    wait "$slow"
}

for sig in QUIT TERM; do
    signal_mid_request $sig
    is "$(cat "$TMPD/slow.code")" 200 "$sig: the request in flight completes"
    grep -q "^hello pid=$w " "$TMPD/slow.out"
    ok $? "$sig: with its body"
    wait_for sh -c "! kill -0 $w 2>/dev/null"
    ok $? "$sig: then the worker exits"
    wait_for log_has "worker 0 pid $w \\(gen 0\\) exited with status 0"
    ok $? "$sig: with status 0"
    wait_for all_gen 0 2
    new=$(worker_pids)
    ok "$([ -n "$new" ] && [ "$new" != "$w" ] && echo 0 || echo 1)" \
        "$sig: a new worker replaces it ($w -> $new)"
done

signal_mid_request INT
is "$(cat "$TMPD/slow.code")" 000 "INT: the request in flight is dropped"
wait_for sh -c "! kill -0 $w 2>/dev/null"
ok $? "INT: the worker exits at once"
wait_for all_gen 0 2
ok $? "INT: a new worker replaces it"

w=$(worker_pids)
for sig in USR1 USR2 HUP TTIN TTOU WINCH; do kill -$sig "$w"; done
is "$(hcurl "$(url /)" | sed 's/.* pid=\([0-9]*\) .*/\1/')" "$w" \
    "USR1, USR2, HUP, TTIN, TTOU and WINCH are ignored: the same worker serves"
stop_server
done_testing
