#!/bin/sh
# The process tree and its life: workers and the mold are children of the
# monitor; refork_after raises the generation of every process while a
# client loop sees no failed request; USR2; TTIN/TTOU; kill -9 of a worker
# and of the mold; QUIT with a request in flight.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 25

export PF_MARK="$TMPD/mark"
start_server "$TMPD/s.sock" -w 2 --refork-after 10,false "$APPS/procs.ru"
ok $? "server starts with 2 workers, refork_after 10,false"

wait_for all_gen 0 3
ok $? "a mold and 2 workers, all gen 0"
is "$(for p in $(server_children); do ps -o ppid= -p "$p"; done | sort -u | tr -d ' ')" \
    "$SERVER_PID" "every one is a child of the monitor (ppid)"
old_workers=$(worker_pids | sort | tr '\n' ' ')
# The kinds of descriptors a process holds ("socket", "pipe", ...).
fd_kinds() {
    for f in /proc/"$1"/fd/*; do readlink "$f"; done | sed 's/[0-9]//g' | sort | uniq -c | tr -s ' \n' ' '
}
booted=$(fd_kinds "$(mold_pid)")

start_loop
wait_for all_gen 1 3
ok $? "after 10 requests every title says gen:1"
res=$(stop_loop)
is "${res#* }" 0 "the client loop saw no failed request during the refork ($res)"
ok "$([ "${res% *}" -gt 0 ] && echo 0 || echo 1)" "and it was served"
mold=$(titles | grep -c '(gen:1) mold')
is "$mold" 1 "the mold's title shows gen:1"
mold_pid=$(mold_pid)
case " $old_workers " in *" $mold_pid "*) r=0 ;; *) r=1 ;; esac
ok $r "the gen 1 mold is a promoted gen 0 worker ($mold_pid in $old_workers)"
log_has 'role=mold gen=1 .*event=promote'
ok $? "the promoted worker logs its promotion"
is "$(fd_kinds "$mold_pid")" "$booted" \
    "the promoted mold holds the descriptors of a booted one (no epoll, no self-pipe)"

kill -USR2 "$SERVER_PID"
wait_for all_gen 2 3
ok $? "USR2: every title says gen:2"
log_has 'promoting worker [0-9]+ pid [0-9]+ to mold of gen 2 \(USR2\)'
ok $? "USR2: the promotion is logged"

kill -TTIN "$SERVER_PID"
wait_for all_gen 2 4
ok $? "TTIN: a third worker (gen:2)"
titles | grep -q 'worker\[2\]'
ok $? "TTIN: it is worker[2]"
kill -TTOU "$SERVER_PID"
wait_for all_gen 2 3
ok $? "TTOU: back to 2 workers"
titles | grep -q 'worker\[2\]'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "TTOU: worker[2] is gone"

victim=$(worker_pids | head -1)
kill -KILL "$victim"
wait_for sh -c "! kill -0 $victim 2>/dev/null"
wait_for all_gen 2 3
ok $? "kill -9 of a worker: replaced (still gen:2)"
log_has "pid $victim \(gen 2\) killed by signal 9"
ok $? "kill -9 of a worker: logged"

# Reforking is on: a dead mold is replaced by promoting a worker.
for i in 1 2 3; do hcurl -o /dev/null "$(url /)"; done
mold_pid=$(mold_pid)
kill -KILL "$mold_pid"
wait_for all_gen 3 3
ok $? "kill -9 of the mold (reforking on): a gen 3 mold and workers"
log_has 'promoting worker [0-9]+ pid [0-9]+ to mold of gen 3 \(the mold died\)'
ok $? "the new mold is a promoted worker"
is "$(hcurl "$(url /)" | cut -d' ' -f1)" hello "still serving"

# QUIT while a slow request is in flight: it completes, exit 0.
rm -f "$PF_MARK"
hcurl -o "$TMPD/slow.out" -w '%{http_code}' "$(url /sleep?1)" >"$TMPD/slow.code" &
slow=$!
wait_for test -s "$PF_MARK"
kill -QUIT "$SERVER_PID"
wait "$slow"
is "$(cat "$TMPD/slow.code")" 200 "QUIT: the in-flight request completes with 200"
TIMEOUT=10 wait_for server_gone
ok $? "QUIT: the server exits"
wait "$SERVER_PID"
is $? 0 "QUIT: with status 0"
SERVER_PID=""
grep -q "^hello pid=" "$TMPD/slow.out"
ok $? "QUIT: with the whole body"
sanitizer_check

done_testing
