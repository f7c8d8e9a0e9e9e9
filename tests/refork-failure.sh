#!/bin/sh
# A promoted worker that does not become a ready mold within
# spawn_timeout is killed; the running generation keeps serving, the
# worker it was is replaced, and a later refork succeeds.  The clock
# starts after the promoted worker's last request: a request longer than
# spawn_timeout completes and its worker still becomes the mold, but one
# past timeout + cleanup gets SIGKILL.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 12

# Generation 1 hangs in after_mold_fork; generation 2 does not.
cat >"$TMPD/pitchfork.rb" <<'EOF'
spawn_timeout 3
after_mold_fork { |server, mold| sleep 60 if mold.generation == 1 }
EOF
start_server "$TMPD/s.sock" -w 2 -c "$TMPD/pitchfork.rb" "$APPS/procs.ru"
wait_for all_gen 0 3
ok $? "server starts: gen 0"

kill -USR2 "$SERVER_PID"
wait_for log_has 'the next mold killed by signal 9 \(Killed\) before it was ready; gen 0 keeps serving'
ok $? "the hung gen 1 mold is killed at spawn_timeout, and it is logged"
log_has 'mold pid [0-9]+ not ready within spawn_timeout: SIGKILL'
ok $? "with the reason"
wait_for all_gen 0 3
ok $? "gen 0 is complete again: its mold and 2 workers"
is "$(hcurl "$(url /)" | sed 's/.*gen=\([0-9]*\).*/\1/')" 0 "and serves"

kill -USR2 "$SERVER_PID"
wait_for all_gen 2 3
ok $? "the next refork succeeds (gen 2)"
is "$(hcurl "$(url /)" | sed 's/.*gen=\([0-9]*\).*/\1/')" 2 "and serves"
stop_server

# One worker, busy for 3 s when it is promoted, with spawn_timeout 1.
export PF_MARK="$TMPD/mark"
cat >"$TMPD/slow.rb" <<'EOF'
spawn_timeout 1
timeout 5, cleanup: 1
EOF
start_server "$TMPD/s.sock" -w 1 -c "$TMPD/slow.rb" "$APPS/procs.ru"
hcurl -o /dev/null -w '%{http_code}' "$(url /sleep?3)" >"$TMPD/slow.code" &
slow=$!
wait_for test -s "$PF_MARK"
kill -USR2 "$SERVER_PID"
wait "$slow"
is "$(cat "$TMPD/slow.code")" 200 \
    "a promoted worker's request longer than spawn_timeout completes"
wait_for all_gen 1 2
ok $? "and the worker becomes the gen 1 mold"
log_has 'not ready within spawn_timeout'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "no spawn_timeout kill"

rm -f "$PF_MARK"
hcurl -o /dev/null "$(url /stop)" &
slow=$!
wait_for test -s "$PF_MARK"
kill -USR2 "$SERVER_PID"
wait_for log_has 'promoted worker pid [0-9]+ passed timeout \+ cleanup in its last request: SIGKILL'
ok $? "a promoted worker stuck in its request past timeout + cleanup: SIGKILL"
wait "$slow"
wait_for all_gen 1 2
is "$(hcurl "$(url /)" | sed 's/.*gen=\([0-9]*\).*/\1/')" 1 "gen 1 keeps serving"
stop_server
done_testing
