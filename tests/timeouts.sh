#!/bin/sh
# Timeouts: a request stuck in sleep or in a busy Ruby loop is soft-timed
# out (after_worker_timeout runs with the request's thread and env, the
# client gets a 500, the worker exits and is replaced); extend_deadline
# lets a request run longer; a worker stopped hard (SIGSTOP) is SIGKILLed
# at timeout + cleanup, after_worker_hard_timeout runs in the mold, and a
# new worker serves.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 22

export PF_MARK="$TMPD/mark"
cat >"$TMPD/pitchfork.rb" <<EOF
timeout 1, cleanup: 1
require "logger"
logger Logger.new("$TMPD/app.log")
after_worker_timeout do |server, worker, info|
  File.write("$TMPD/soft.#{worker.pid}",
             [info.rack_env["PATH_INFO"], info.thread == Thread.main,
              info.thread.backtrace.is_a?(Array), worker.nr].inspect)
end
after_worker_hard_timeout do |server, worker|
  File.write("$TMPD/hard.#{worker.pid}", [worker.nr, Process.pid].inspect)
end
before_worker_exit do |server, worker|
  File.write("$TMPD/exit.#{worker.pid}", "bye")
end
EOF
start_server "$TMPD/s.sock" -w 1 -c "$TMPD/pitchfork.rb" "$APPS/procs.ru"
wait_for all_gen 0 2
ok $? "server starts with timeout 1, cleanup 1"

soft() { # soft PATH: the request gets a 500 and its worker is replaced
    w=$(worker_pids)
    is "$(hcurl -o /dev/null -w '%{http_code}' "$(url "$1")")" 500 "$1: the client gets a 500"
    wait_for test -s "$TMPD/soft.$w"
    is "$(cat "$TMPD/soft.$w")" "[\"${1%%\?*}\", true, true, 0]" \
        "$1: after_worker_timeout got the request's thread and env"
    wait_for sh -c "! kill -0 $w 2>/dev/null"
    ok $? "$1: the timed-out worker exits"
    test -s "$TMPD/exit.$w"
    ok $? "$1: before_worker_exit ran"
    wait_for all_gen 0 2
    ok $? "$1: a new worker replaces it"
    log_has "worker 0 pid $w passed its timeout"
    ok $? "$1: the monitor logs the timeout"
}
soft "/sleep?30"
soft "/spin"
log_has 'event=timeout .*request timed out after 1 s'
ok $? "the worker logs event=timeout"
grep -q 'worker=0 gen=0 pid=[0-9]* timed out, exiting' "$TMPD/app.log"
ok $? "and tells the configured logger"

is "$(hcurl "$(url '/extend?1.5')" | cut -d' ' -f1)" hello \
    "extend_deadline lets a request run past the timeout"

rm -f "$PF_MARK"
w=$(worker_pids)
hcurl -o /dev/null -w '%{http_code}' "$(url /stop)" >"$TMPD/stop.code" 2>/dev/null &
stopper=$!
wait_for test -s "$PF_MARK"
wait_for sh -c "! kill -0 $w 2>/dev/null"
ok $? "a stopped worker is killed"
log_has "worker 0 pid $w passed timeout \+ cleanup: SIGKILL"
ok $? "at timeout + cleanup, with SIGKILL"
wait_for test -s "$TMPD/hard.$w"
ok $? "after_worker_hard_timeout runs"
mold=$(mold_pid)
is "$(cat "$TMPD/hard.$w")" "[0, $mold]" "in the mold, with the worker"
wait "$stopper"
wait_for all_gen 0 2
ok $? "a new worker replaces it"
is "$(hcurl "$(url /)" | cut -d' ' -f1)" hello "and serves"

stop_server
done_testing
