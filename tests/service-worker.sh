#!/bin/sh
# The service worker: with before_service_worker_ready in the
# configuration file the monitor keeps one extra process, forked by the
# mold, that runs the hook, serves no request, is never promoted, is
# replaced on refork, on death and when its heartbeat stops, and runs
# before_service_worker_exit when it is stopped.  Without the hook there
# is none.  See man/pitchfork.conf.5.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 38

R="$TMPD/ready.log"  # "pid gen nr service? worker_nr" per service start
X="$TMPD/exit.log"   # "pid gen shutting_down?" per service exit
F="$TMPD/fork.log"   # pids that ran after_worker_fork
T="$TMPD/tick"       # a counter its background thread keeps bumping
cat >"$TMPD/service.rb" <<EOF
timeout 3, cleanup: 2
after_worker_fork { |s, w| File.write("$F", "#{\$\$}\n", mode: "a") }
before_service_worker_ready do |server, service|
  File.write("$R", [\$\$, service.generation, service.nr.inspect,
                    service.service?, Pitchfork::Info.worker_nr.inspect,
                    service.to_log].join(" ") + "\n", mode: "a")
  Thread.new do
    n = 0
    loop do
      File.write("$T.tmp", "#{n += 1}\n")
      File.rename("$T.tmp", "$T")
      sleep 0.1
    end
  end
end
before_service_worker_exit do |server, service|
  File.write("$X", "#{\$\$} #{service.generation} " \
                   "#{Pitchfork::Info.shutting_down?}\n", mode: "a")
end
EOF

# The pid of the server's service worker titled for generation $1 (any
# generation when empty); a new process carries the mold's title until it
# sets its own.
service_pid() {
    [ -n "$SERVER_PID" ] || return 0
    ps -o pid=,args= --ppid "$SERVER_PID" 2>/dev/null |
        awk -v g="gen:${1:-[0-9]+}" \
            '$0 ~ "\\(" g "\\) service( |$)" { print $1 }'
}
has_service() { [ -n "$(service_pid "$1")" ]; }
new_service() { s=$(service_pid); [ -n "$s" ] && [ "$s" != "$1" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
tick() { cat "$T" 2>/dev/null; }
ticked() { [ -n "$1" ] && [ -n "$(tick)" ] && [ "$(tick)" != "$1" ]; }
# Socket inodes a process holds.
socks() {
    ls -l "/proc/$1/fd" 2>/dev/null |
        sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | sort -u
}
# Line number of the first server log line matching $1.
log_line() { grep -n -E -m1 -- "$1" "$SERVER_LOG" | cut -d: -f1; }

start_server "$TMPD/s.sock" -w 2 -c "$TMPD/service.rb" "$APPS/procs.ru"
wait_for has_service 0
ok $? "a service worker runs beside the workers"
svc=$(service_pid 0)
wait_for sh -c "tr '\0' ' ' </proc/$svc/cmdline | grep -q 'service - ready'"
title=$(tr '\0' ' ' <"/proc/$svc/cmdline" 2>/dev/null | sed 's/ *$//')
is "$title" "pitchfork (gen:0) service - ready" "its title"
ppid=$(ps -o ppid= -p "$svc" | tr -d ' ')
[ "$ppid" = "$SERVER_PID" ] && ! worker_pids | grep -q -x "$svc"
ok $? "it is a child of the monitor, not a worker"
wait_for grep -q "^$svc " "$R"
is "$(grep "^$svc " "$R")" "$svc 0 nil true nil service gen=0 pid=$svc" \
    "before_service_worker_ready ran in it: gen 0, nr nil, service?, to_log"
[ -n "$svc" ] && [ -s "$F" ] && ! grep -q "^$svc\$" "$F"
ok $? "after_worker_fork did not run in it"
t=$(tick)
wait_for ticked "$t"
ok $? "the thread its hook started keeps running"

# It accepts nothing: every request is served by a worker, and it holds
# none of the listening sockets (the ones the monitor and a worker share).
pids=""
for i in $(seq 1 40); do
    pids="$pids $(hcurl "$(url /)" | sed -n 's/.* pid=\([0-9]*\) .*/\1/p')"
done
workers=" $(worker_pids | tr '\n' ' ')"
bad=0
for p in $pids; do
    case "$workers" in *" $p "*) ;; *) bad=$((bad + 1)) ;; esac
done
case " $pids " in *" $svc "*) r=1 ;; *) r=0 ;; esac
[ -n "$svc" ] && [ "$(echo $pids | wc -w | tr -d ' ') $bad $r" = "40 0 0" ]
ok $? "40 requests, all served by workers, none by the service worker"
socks "$SERVER_PID" >"$TMPD/m.socks"
socks "$(worker_pids | head -1)" >"$TMPD/w.socks"
lsock=$(comm -12 "$TMPD/m.socks" "$TMPD/w.socks")
[ -n "$lsock" ] && [ -n "$svc" ] && ! socks "$svc" | grep -q -x -F "$lsock"
ok $? "it holds no listening socket"

# kill -9: replaced by the current mold.
kill -KILL "$svc"
wait_for new_service "$svc"
ok $? "kill -9: a new service worker appears"
svc2=$(service_pid 0)
wait_for grep -q "^$svc2 0 " "$R"
ok $? "its hook ran"
log_has "service worker pid $svc \\(gen 0\\) killed by signal 9"
ok $? "the death is logged"
[ -n "$svc" ] && ! grep -q "^$svc " "$X" 2>/dev/null
ok $? "a killed service worker runs no exit hook"

# A stopped main thread: no heartbeat, SIGKILL at timeout + cleanup.
svc=$svc2
wait_for sh -c "tr '\0' ' ' </proc/$svc/cmdline | grep -q 'service - ready'"
[ -n "$svc" ] && kill -STOP "$svc" && wait_for gone "$svc"
ok $? "kill -STOP: the stopped service worker is killed"
log_has "event=kill.*service worker pid $svc passed timeout \\+ cleanup"
ok $? "at timeout + cleanup, logged as a kill"
wait_for new_service "$svc"
ok $? "and replaced"
svc=$(service_pid 0)
wait_for grep -q "^$svc 0 " "$R"
ok $? "by one whose hook ran"

# Refork: a worker becomes the mold, never the service worker, which is
# stopped (exit hook) and then replaced by one of the new generation.
old_workers=" $(worker_pids | tr '\n' ' ')"
kill -USR2 "$SERVER_PID"
wait_for has_service 1
ok $? "USR2: a service worker of gen 1 appears"
nsvc=$(service_pid 1)
wait_for all_gen 1 4
ok $? "mold, 2 workers and the service worker are all gen 1"
nmold=$(mold_pid)
case "$old_workers" in *" $nmold "*) r=0 ;; *) r=1 ;; esac
[ -n "$svc" ] && [ -n "$nmold" ] && [ "$nmold" != "$svc" ]
ok $((r + $?)) "the new mold ($nmold) is a former worker, not the service ($svc)"
wait_for grep -q "^$svc 0 true\$" "$X"
ok $? "the old one ran before_service_worker_exit (shutting_down? true)"
[ -n "$svc" ] && gone "$svc"
ok $? "and exited"
wait_for grep -q "^$nsvc 1 nil true nil service gen=1 pid=$nsvc\$" "$R"
ok $? "the new one ran before_service_worker_ready with gen 1"
a=$(log_line "service worker pid $svc \\(gen 0\\) exited with status 0")
b=$(log_line "service worker spawned as pid $nsvc \\(gen 1\\)")
[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
ok $? "the old one exited before the new one was spawned"
log_has 'role=service'
ok $? "the service worker's own log lines say role=service"

# HUP: a reload replaces it the same way.
kill -HUP "$SERVER_PID"
wait_for has_service 2
ok $? "HUP: a service worker of gen 2 replaces it"
wait_for grep -q "^$nsvc 1 true\$" "$X"
ok $? "after the gen 1 one ran before_service_worker_exit"
nsvc=$(service_pid 2)
wait_for grep -q "^$nsvc 2 " "$R"

# TERM: the exit hook runs and the monitor exits 0.
KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"
kill -TERM "$SERVER_PID"
wait_for server_gone || kill -KILL "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
SERVER_PID=""
sanitizer_check
[ "$rc" = 0 ] && grep -q "^$nsvc 2 true\$" "$X"
ok $? "TERM: before_service_worker_exit runs, the monitor exits 0 ($rc)"

# A hook that raises: logged with its backtrace through the configured
# logger, the process exits 1, the workers serve, and it is spawned again.
rm -f "$R" "$X"
cat >"$TMPD/raise.rb" <<EOF
require "logger"
logger Logger.new("$TMPD/app.log")
before_service_worker_ready do |server, service|
  unless File.exist?("$TMPD/raised")
    File.write("$TMPD/raised", "#{\$\$}\n")
    raise ArgumentError, "service boom"
  end
  File.write("$R", "#{\$\$}\n", mode: "a")
end
before_service_worker_exit { |s, sv| File.write("$X", "#{\$\$}\n", mode: "a") }
EOF
start_server "$TMPD/r.sock" -w 2 -c "$TMPD/raise.rb" "$APPS/procs.ru"
wait_for grep -q \
    'before_service_worker_ready hook error: service boom (ArgumentError)' \
    "$TMPD/app.log"
ok $? "a raising before_service_worker_ready is logged through the logger"
grep -q 'raise.rb:[0-9]*:in' "$TMPD/app.log"
ok $? "with its backtrace"
p=$(cat "$TMPD/raised" 2>/dev/null)
wait_for log_has "service worker pid $p \\(gen 0\\) exited with status 1"
ok $? "that service worker exits with status 1"
wait_for test -s "$R"
ok $? "the next service worker is spawned and runs its hook"
case "$(hcurl "$(url /)")" in "hello pid="*) r=0 ;; *) r=1 ;; esac
[ -n "$p" ] && gone "$p"
ok $((r + $?)) "the workers keep serving"

# INT: the service worker is killed with everything else, no exit hook.
svc=$(service_pid 0)
kill -INT "$SERVER_PID"
wait_for server_gone || kill -KILL "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=""
sanitizer_check
[ -n "$svc" ] && wait_for gone "$svc" && [ ! -s "$X" ]
ok $? "INT: the service worker is gone, without before_service_worker_exit"

# A hook that always raises: consecutive spawn errors stop the server.
cat >"$TMPD/always.rb" <<EOF
max_consecutive_spawn_errors 3
before_service_worker_ready { |s, sv| raise "always" }
EOF
SERVER_LOG="$TMPD/always.log"
"$PITCHFORK" -l "$TMPD/a.sock" -w 1 -c "$TMPD/always.rb" "$APPS/procs.ru" \
    >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
wait_for server_gone
ok $? "a service worker that never starts: the server gives up"
kill -KILL "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID"
is "$?" 1 "with status 1"
log_has "3 consecutive spawn errors"
ok $? "after max_consecutive_spawn_errors"
SERVER_PID=""

# Without before_service_worker_ready there is no service worker.
cat >"$TMPD/none.rb" <<EOF
before_service_worker_exit { |s, sv| File.write("$X", "#{\$\$}\n") }
EOF
SERVER_LOG="$TMPD/none.log"
start_server "$TMPD/n.sock" -w 2 -c "$TMPD/none.rb" "$APPS/procs.ru"
wait_for all_gen 0 3
ok $? "without the ready hook: the mold and 2 workers"
is "$(titles | grep -c service)" 0 "and no service worker"

stop_server
done_testing
