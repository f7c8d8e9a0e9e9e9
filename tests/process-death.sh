#!/bin/sh
# Deaths: without reforking a killed mold is booted afresh; when the
# monitor is killed every child exits (a request in flight completes
# first); a worker that called no_longer_fork_safe! is never promoted;
# setpgid puts workers in their own process group.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 15

export PF_MARK="$TMPD/mark"
gone() {
    for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done
    return 0
}

PITCHFORK_SETPGID=true start_server "$TMPD/s.sock" -w 2 "$APPS/procs.ru"
wait_for all_gen 0 3
ok $? "server starts: a mold and 2 workers"
w=$(worker_pids | head -1)
is "$(ps -o pgid= -p "$w" | tr -d ' ')" "$w" "setpgid: a worker leads its own process group"

old=$(mold_pid)
kill -KILL "$old"
wait_for sh -c "ps -o args= --ppid $SERVER_PID | grep -q '(gen:1) mold\$'"
ok $? "kill -9 of the mold (reforking off): a new mold (gen:1)"
log_has 'mold pid [0-9]+ \(gen 1\) booting'
ok $? "booted afresh, not promoted"
log_has 'promoting'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "no worker was promoted"
is "$(hcurl "$(url /)" | cut -d' ' -f1)" hello "still serving"

# kill -9 of the monitor with a request in flight.
children=$(server_children | tr '\n' ' ')
rm -f "$PF_MARK"
hcurl -o /dev/null -w '%{http_code}' "$(url /sleep?1)" >"$TMPD/slow.code" &
slow=$!
wait_for test -s "$PF_MARK"
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
wait "$slow"
is "$(cat "$TMPD/slow.code")" 200 "monitor killed: the request in flight completes"
TIMEOUT=5 wait_for gone $children
ok $? "monitor killed: the mold and every worker exit ($children)"

# A fork-unsafe worker is never promoted.
start_server "$TMPD/s2.sock" -w 1 --refork-after 3 "$APPS/procs.ru"
wait_for all_gen 0 2
ok $? "second server: a mold and 1 worker, refork_after 3"
for i in 1 2 3 4 5 6; do hcurl -o /dev/null "$(url /unsafe)"; done
kill -USR2 "$SERVER_PID"
wait_for log_has 'USR2: no worker of gen 0 can be promoted'
ok $? "USR2 finds no worker to promote"
for i in 1 2 3; do hcurl -o /dev/null "$(url /)"; done
all_gen 0 2
ok $? "still gen 0 after 9 requests with refork_after 3"
log_has 'promoting'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "no promotion logged"
is "$(hcurl "$(url /)" | sed 's/.*gen=\([0-9]*\).*/\1/')" 0 "the app sees gen 0"

# Reforking is on but no worker can be promoted: a dead mold is booted.
old=$(mold_pid)
kill -KILL "$old"
wait_for sh -c "ps -o args= --ppid $SERVER_PID | grep -q '(gen:1) mold\$'"
ok $? "kill -9 of the mold, every worker fork-unsafe: a new mold (gen:1)"
log_has 'mold pid [0-9]+ \(gen 1\) booting'
ok $? "booted afresh"

done_testing
