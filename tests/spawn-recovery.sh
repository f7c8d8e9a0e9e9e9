#!/bin/sh
# The monitor when spawns go wrong or cross other events: hundreds of
# workers asked for at once; giving up after max_consecutive_spawn_errors
# lets requests in progress finish; TTOU while a spawn is pending is no
# spawn error; a spawn the mold never reports is asked for again; a worker
# spawned during a graceful stop is stopped too; after a promoted worker
# is killed in its last request, its slot's old deadline does not kill
# the worker that takes the slot.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 16

export PF_MARK="$TMPD/mark"
FLAG="$TMPD/flag"
# wait_exit: the server exits on its own (bounded); sets st to its
# status.  Not from $(...): the server is not that subshell's child.
wait_exit() {
    wait_for server_gone || kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
    st=$?
    SERVER_PID=""
    sanitizer_check
}
no_kill_at_stop() { ! log_has 'children still running after the stop timeout'; }

# ---- 600 workers: more spawn requests than a control socket holds ------
if ldd "$PITCHFORK" | grep -q libasan; then
    skip "AddressSanitizer build: 600 instrumented workers are too big"
    skip "AddressSanitizer build"
else
    PITCHFORK_SPAWN_TIMEOUT=120 start_server "$TMPD/s.sock" -w 600 "$APPS/procs.ru"
    wait_for log_has '600 workers ready'
    ok $? "600 workers are spawned and ready"
    kill -TERM "$SERVER_PID"
    wait_exit
    is "$st" 0 "and TERM stops them all"
fi

# ---- giving up is a graceful stop ----------------------------------------
cat >"$TMPD/giveup.rb" <<EOF
max_consecutive_spawn_errors 2
after_worker_fork { |s, w| exit 4 if w.nr == 1 }
EOF
start_server "$TMPD/s.sock" -w 1 -c "$TMPD/giveup.rb" "$APPS/procs.ru"
hcurl -o "$TMPD/slow.out" "$(url /sleep?2)" &
slow=$!
wait_for test -s "$PF_MARK"
kill -TTIN "$SERVER_PID" # worker 1 exits in after_worker_fork, twice
wait_exit
is "$st" 1 "after 2 spawn errors the server gives up, status 1"
wait "$slow"
grep -q '^hello pid=' "$TMPD/slow.out"
ok $? "the request in progress got its response"
no_kill_at_stop
ok $? "no child was killed: giving up stops gracefully"

# ---- TTOU while a spawn is pending ---------------------------------------
cat >"$TMPD/slowfork.rb" <<EOF
spawn_timeout 2
max_consecutive_spawn_errors 1
before_fork { |s| sleep 1 if File.exist?("$FLAG") }
EOF
start_server "$TMPD/s.sock" -w 1 -c "$TMPD/slowfork.rb" "$APPS/procs.ru"
touch "$FLAG"
kill -TTIN "$SERVER_PID"
sleep 0.3
kill -TTOU "$SERVER_PID" # worker 1 is wanted no more while it is forked
wait_for log_has 'ignoring a spawn report for worker 1'
ok $? "the late spawn report of the removed worker is ignored"
sleep 2.5 # past its spawn_timeout
! log_has 'not ready within spawn_timeout|giving up'
ok $? "and that is no spawn error"
hcurl -o /dev/null "$(url /)"
ok $? "the server still serves"
stop_server
rm -f "$FLAG"

# ---- a spawn the mold never reports --------------------------------------
cat >"$TMPD/nospawn.ru" <<EOF
# While FLAG exists the intermediate process of a spawn dies at once, so
# the mold never reports the worker.
module NoSpawn
  def _fork
    pid = super
    if pid.zero?
      exit!(1) if !\$pf_forked && File.exist?("$FLAG")
      \$pf_forked = true
    end
    pid
  end
end
Process.singleton_class.prepend(NoSpawn)
run ->(env) { [200, {}, ["ok #{\$\$}\n"]] }
EOF
PITCHFORK_SPAWN_TIMEOUT=1 start_server "$TMPD/s.sock" -w 2 "$TMPD/nospawn.ru"
touch "$FLAG"
kill -KILL "$(worker_pids | tail -1)"
wait_for log_has 'worker [01] not ready within spawn_timeout'
ok $? "a worker the mold never reports passes its spawn_timeout"
rm -f "$FLAG"
two_workers() { [ "$(worker_pids | wc -l)" = 2 ]; }
wait_for two_workers
ok $? "it is asked for again: 2 workers serve once spawns work again"
stop_server

# ---- a worker spawned during a graceful stop -----------------------------
printf 'before_fork { |s| sleep 1 if File.exist?("%s") }\n' "$FLAG" \
    >"$TMPD/forkwait.rb"
start_server "$TMPD/s.sock" -w 2 -t 5 -c "$TMPD/forkwait.rb" "$APPS/procs.ru"
touch "$FLAG"
kill -KILL "$(worker_pids | tail -1)"
sleep 0.3 # the mold is in before_fork, forking the replacement
kill -TERM "$SERVER_PID"
wait_exit
is "$st" 0 "TERM while a worker is being forked: exit status 0"
log_has 'spawned as pid'
ok $? "the replacement worker was spawned during the stop"
no_kill_at_stop
ok $? "and told to stop: nothing was killed at the stop timeout"
rm -f "$FLAG"

# ---- a promotion killed in its last request ------------------------------
printf 'spawn_timeout 1\ntimeout 1, cleanup: 1\n' >"$TMPD/promote.rb"
start_server "$TMPD/s.sock" -w 1 -c "$TMPD/promote.rb" "$APPS/procs.ru"
rm -f "$PF_MARK"
hcurl -o /dev/null "$(url /stop)" 2>/dev/null & # the worker stops itself
stopped=$!
wait_for test -s "$PF_MARK"
kill -USR2 "$SERVER_PID" # promote it: it never finishes that request
wait_for log_has 'promoted worker pid [0-9]+ passed timeout \+ cleanup'
ok $? "the promoted worker is killed at timeout + cleanup"
wait_for log_has 'worker 0 pid [0-9]+ ready'
ok $? "a new worker takes its slot and gets ready"
! log_has 'worker 0 pid [0-9]+ passed its timeout'
ok $? "without inheriting the killed worker's deadline"
wait "$stopped"
stop_server

done_testing
