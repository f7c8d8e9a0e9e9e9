#!/bin/sh
# The configuration file's hooks run where man/pitchfork.conf.5 says,
# with upstream's arguments; a hook's exception is logged (through the
# configured logger) and kills nothing; an exit from after_request_complete
# ends the worker; Pitchfork::Info and MemInfo answer.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 28

H="$TMPD/hooks.log"
cat >"$TMPD/pitchfork.rb" <<EOF
require "logger"
logger Logger.new("$TMPD/app.log")
def note(*words)
  File.open("$H", "a") { |f| f.puts(words.join(" ")) }
end
after_mold_fork { |s, mold| note("after_mold_fork", \$\$, mold.generation, mold.mold?) }
before_fork { |s| note("before_fork", \$\$) }
after_worker_fork { |s, w| note("after_worker_fork", \$\$, w.nr, w.pid) }
after_worker_ready { |s, w| note("after_worker_ready", \$\$, w.nr) }
after_monitor_ready { |s| note("after_monitor_ready", \$\$, s.workers_count) }
after_request_complete do |s, w, env|
  note("after_request_complete", \$\$, w.nr, env["PATH_INFO"])
  raise ArgumentError, "hook boom" if env["PATH_INFO"] == "/raise"
  exit if env["PATH_INFO"] == "/quit"
end
before_worker_exit { |s, w| note("before_worker_exit", \$\$, w.nr) }
after_worker_exit do |s, w, st|
  note("after_worker_exit", \$\$, w.nr, w.pid, st.exited?, st.exitstatus.inspect, st.termsig.inspect)
  raise "mold hook boom" if w.nr == 1
end
EOF
has() { grep -q -- "$1" "$H"; }

start_server "$TMPD/s.sock" -w 2 -c "$TMPD/pitchfork.rb" "$APPS/procs.ru"
wait_for all_gen 0 3
ok $? "server starts with every hook defined"
mold=$(mold_pid)
w0=$(hcurl "$(url /)" >/dev/null; titles >/dev/null; ps -o pid=,args= --ppid "$SERVER_PID" | awk '/worker\[0\]/ { print $1 }')
w1=$(ps -o pid=,args= --ppid "$SERVER_PID" | awk '/worker\[1\]/ { print $1 }')

wait_for has "^after_monitor_ready $mold 2\$"
ok $? "after_monitor_ready: once, in the mold, with the server"
is "$(grep -c '^after_monitor_ready' "$H")" 1 "after_monitor_ready runs once"
has "^after_mold_fork $mold 0 true\$"
ok $? "after_mold_fork: in the mold, with the mold (gen 0)"
is "$(grep -c "^before_fork $mold\$" "$H")" 2 "before_fork: in the mold, before each of 2 workers"
has "^after_worker_fork $w0 0 $w0\$" && has "^after_worker_fork $w1 1 $w1\$"
ok $? "after_worker_fork: in each worker, with the worker"
has "^after_worker_ready $w0 0\$" && has "^after_worker_ready $w1 1\$"
ok $? "after_worker_ready: in each worker"

hcurl -o /dev/null "$(url /some/path)"
wait_for has "^after_request_complete [0-9]+ [01] /some/path\$"
grep -E -q "^after_request_complete ($w0|$w1) [01] /some/path\$" "$H"
ok $? "after_request_complete: in the worker, with the env"

is "$(hcurl "$(url /raise)" | cut -d' ' -f1)" hello "a hook that raises: the response is sent"
wait_for grep -q 'after_request_complete hook error: hook boom (ArgumentError)' "$TMPD/app.log"
ok $? "the exception goes to the configured logger"
grep -q 'pitchfork.rb:[0-9]*:in' "$TMPD/app.log"
ok $? "with its backtrace"
is "$(worker_pids | sort | tr '\n' ' ')" "$(printf '%s\n' "$w0" "$w1" | sort | tr '\n' ' ')" \
    "no process died"

info=$(hcurl "$(url /info)")
case "$info" in
\[0,*|\[1,*) r=0 ;; *) r=1 ;; esac
ok $r "Info.worker_nr ($info)"
is "${info#*, }" "2, 2, true, false, 20, true, true]" \
    "workers_count, live_workers_count, fork_safe?, shutting_down?, deadline, MemInfo"

# TTOU: before_worker_exit in the worker, after_worker_exit in the mold.
kill -TTOU "$SERVER_PID"
wait_for has "^after_worker_exit $mold 1 $w1 true 0 nil\$"
ok $? "TTOU: after_worker_exit in the mold, with the worker and its status"
has "^before_worker_exit $w1 1\$"
ok $? "TTOU: before_worker_exit in the worker"
wait_for grep -q 'after_worker_exit hook error: mold hook boom (RuntimeError)' "$TMPD/app.log"
ok $? "an exception in a hook of the mold is logged"

# kill -9: after_worker_exit with the signal.
kill -KILL "$w0"
wait_for has "^after_worker_exit $mold 0 $w0 false nil 9\$"
ok $? "kill -9: after_worker_exit gets termsig 9"
has "^before_worker_exit $w0"
ok "$([ $? != 0 ] && echo 0 || echo 1)" "kill -9: no before_worker_exit"
wait_for all_gen 0 2
ok $? "the worker is replaced"
is "$(mold_pid)" "$mold" "by the same mold, which survived its hook's exception"

# An exit from after_request_complete ends the worker after its response.
w=$(worker_pids)
is "$(hcurl "$(url /quit)" | cut -d' ' -f1)" hello "exit in after_request_complete: the response is sent"
wait_for sh -c "! kill -0 $w 2>/dev/null"
ok $? "and the worker exits"
has "^before_worker_exit $w 0\$"
ok $? "through before_worker_exit"
wait_for all_gen 0 2
ok $? "and is replaced"

# USR2: after_mold_fork in the promoted worker, which becomes gen 1.
w=$(worker_pids)
kill -USR2 "$SERVER_PID"
wait_for all_gen 1 2
ok $? "USR2: gen 1"
has "^after_mold_fork $w 1 true\$"
ok $? "after_mold_fork runs in the promoted worker, with gen 1"
log_has 'ERROR|level=err'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "no error in the server log"

stop_server
done_testing
