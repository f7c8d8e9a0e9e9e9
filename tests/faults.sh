#!/bin/sh
# Faults under load, with client loops whose requests the app records:
# every 200 was served exactly once, and only requests in flight fail.
# kill -9 of a random worker every 100 ms; kill -9 of the mold during a
# refork (the promoted worker in after_mold_fork, the new mold while it
# rolls out) and of a mold booting for a reload; kill -9 of the monitor
# (every child exits, a mold still booting too); SIGSTOP of a worker in
# a request (killed at timeout + cleanup while the other one serves).
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 28

export PF_RECORD="$TMPD/record" PF_SLOW_BOOT="$TMPD/slowboot"
export PF_MARK="$TMPD/mark" TIMEOUT
FLAG="$TMPD/flag"
APP="$APPS/faults.ru"

# fload_start / fload_stop: 4 clients of tests/faultclient.rb; fload_stop
# sets ok, failed, dup and lost.
fload_start() {
    rm -f "$TMPD/fl.stop" "$TMPD/fl.out" "$PF_RECORD"
    timeout "$((TIMEOUT * 4))" ruby "$top_srcdir/tests/faultclient.rb" \
        "$SERVER_LISTEN" "$TMPD/fl.stop" "$TMPD/fl.out" "$PF_RECORD" 4 \
        2>"$TMPD/fl.err" &
    FLOAD_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $FLOAD_PID"
}
fload_stop() {
    touch "$TMPD/fl.stop"
    wait "$FLOAD_PID"
    read -r ok failed dup lost <"$TMPD/fl.out" || {
        ok=0 failed=-1 dup=-1 lost=-1
    }
    [ -s "$TMPD/fl.err" ] && diag "$(cat "$TMPD/fl.err")"
}
# nothing_lost KILLS WHAT: what every scenario checks of its clients.
nothing_lost() {
    ok "$([ "$ok" -gt 0 ] && echo 0 || echo 1)" "$2: requests were served ($ok)"
    ok "$([ "$failed" -ge 0 ] && [ "$failed" -le "$1" ] && echo 0 || echo 1)" \
        "$2: failures ($failed) bounded by the kills ($1)"
    is "$dup $lost" "0 0" "$2: no request served twice, no 200 unrecorded"
}
serves() { [ "$(hcurl "$(url /)" | cut -d' ' -f1)" = hello ]; }
nworkers() { [ "$(worker_pids | wc -l)" = "$1" ]; }
# Remember every child the test saw, to check that none is left.
seen() { KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"; }
# alive PID...: one of them runs.  An orphan that exited stays a zombie
# until init reaps it, which can take a while: a zombie is gone.
alive() {
    for p in "$@"; do
        st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)
        [ -n "$st" ] && [ "$st" != Z ] && return 0
    done
    return 1
}
none_left() { ! alive $(echo "$KNOWN_PIDS" | tr ' ' '\n' | grep -vx "$FLOAD_PID"); }
# the generation of the newest mold
mold_gen() { titles | sed -n 's/.*(gen:\([0-9]*\)) mold *$/\1/p' | sort -n | tail -1; }

# ---- 1. kill -9 of a random worker every 100 ms --------------------------
start_server "$TMPD/s.sock" -w 3 "$APP"
wait_for nworkers 3
fload_start
kills=0
while [ "$kills" -lt 30 ]; do
    seen
    v=$(worker_pids | shuf -n 1)
    [ -n "$v" ] && kill -KILL "$v" 2>/dev/null && kills=$((kills + 1))
    sleep 0.1
done
fload_stop
nothing_lost "$kills" "kill -9 of a worker every 100 ms"
wait_for nworkers 3
ok $? "the killed workers are replaced (3 workers)"
fload_start
sleep 1
fload_stop
is "$failed $dup $lost" "0 0 0" "then the server serves normally ($ok requests)"
stop_server
TIMEOUT=10 wait_for none_left
ok $? "no process left running"

# ---- 2. kill -9 of the mold during a refork or a reload ------------------
cat >"$TMPD/refork.rb" <<EOF
after_mold_fork do |s, m|
  if m.generation > 0 && File.exist?("$FLAG")
    File.write("$TMPD/promoted", "#{Process.pid}\n")
    sleep 5
  end
end
after_worker_fork { |s, w| sleep 0.5 if File.exist?("$FLAG.slowfork") }
EOF
start_server "$TMPD/s2.sock" -w 3 -c "$TMPD/refork.rb" "$APP"
wait_for all_gen 0 4
fload_start
# a. the promoted worker, while it runs after_mold_fork
touch "$FLAG"
kill -USR2 "$SERVER_PID"
wait_for test -s "$TMPD/promoted"
seen
kill -KILL "$(cat "$TMPD/promoted")"
rm -f "$FLAG"
mold_serves() { [ -n "$(mold_pid)" ] && nworkers 3 && ! titles | grep -q booting; }
wait_for mold_serves
ok $? "mold killed in its promotion: a mold and 3 workers"
# b. the new mold, while it rolls the workers out
touch "$FLAG.slowfork"
g=$(mold_gen)
kill -USR2 "$SERVER_PID"
rolling() { [ "$(mold_gen)" -gt "$g" ] && [ "$(gen_count "$g")" -gt 1 ]; }
wait_for rolling
ok $? "USR2: a newer mold rolls out while gen $g workers serve"
seen
ng=$(mold_gen)
# the oldest so titled: a worker just forked has its mold's title
kill -KILL "$(ps -o pid=,args= --ppid "$SERVER_PID" --sort=start_time |
    awk -v t="(gen:$ng) mold" 'index($0, t) { print $1; exit }')"
rm -f "$FLAG.slowfork"
# settled GEN: a mold newer than GEN and 3 workers of its generation
settled() {
    m=$(mold_gen)
    [ -n "$m" ] && [ "$m" -gt "$1" ] && all_gen "$m" 4
}
# The workers forked by the killed mold may stay: the same code as a
# mold booted afresh (molds.c rolls out no worker for a replaced mold).
rolled() {
    [ "$(mold_gen)" -gt "$ng" ] && nworkers 3 && ! titles | grep -q booting &&
        ! worker_gens | awk -v g="$ng" '$1 < g { bad = 1 } END { exit !bad }'
}
worker_gens() { titles | sed -n 's/.*(gen:\([0-9]*\)) worker.*/\1/p'; }
wait_for rolled
ok $? "mold killed in its rollout: a newer mold, no worker older than gen $ng"
# c. the mold booting for a reload
touch "$PF_SLOW_BOOT"
kill -HUP "$SERVER_PID"
wait_for test -s "$PF_SLOW_BOOT.pid"
seen
kill -KILL "$(cat "$PF_SLOW_BOOT.pid")"
rm -f "$PF_SLOW_BOOT" "$PF_SLOW_BOOT.pid"
wait_for log_has 'the next mold .*before it was ready; gen [0-9]+ keeps serving'
ok $? "a mold killed while it boots for a reload: the running generation serves"
fload_stop
nothing_lost 3 "kill -9 of the mold at 3 moments"
wait_for serves
ok $? "the server still serves"
g=$(mold_gen)
kill -HUP "$SERVER_PID"
wait_for settled "$g"
ok $? "and a later reload succeeds"
stop_server
TIMEOUT=10 wait_for none_left
ok $? "no process left running"

# ---- 3. kill -9 of the monitor -------------------------------------------
# gone_ms PID...: poll (every 20 ms, at most 10 s) until the PIDs are
# gone; prints how long it took in ms, or "never".
gone_ms() {
    t0=$(date +%s%N)
    i=0
    while alive "$@"; do
        i=$((i + 1))
        [ "$i" -lt 500 ] || {
            echo never
            return
        }
        sleep 0.02
    done
    echo $((($(date +%s%N) - t0) / 1000000))
}
kill_monitor() {
    children=$(server_children | tr '\n' ' ')
    kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    ms=$(gone_ms $children)
    diag "kill -9 of the monitor: its children ($children) were gone after $ms ms"
}
printf 'before_service_worker_ready { |s, w| }\n' >"$TMPD/service.rb"
start_server "$TMPD/s3.sock" -w 2 -c "$TMPD/service.rb" "$APP"
wait_for sh -c "ps -o args= --ppid $SERVER_PID | grep -q 'service - ready'"
ok $? "a mold, 2 workers and a service worker"
kill_monitor
ok "$([ "$ms" != never ] && echo 0 || echo 1)" \
    "monitor killed: mold, workers and service worker exit ($ms ms)"

start_server "$TMPD/s4.sock" -w 1 "$APP"
touch "$PF_SLOW_BOOT"
kill -HUP "$SERVER_PID"
wait_for test -s "$PF_SLOW_BOOT.pid"
ok $? "a mold boots slowly for a reload"
kill_monitor
ok "$([ "$ms" != never ] && echo 0 || echo 1)" \
    "monitor killed: the mold that boots exits too ($ms ms)"
rm -f "$PF_SLOW_BOOT" "$PF_SLOW_BOOT.pid"

# ---- 4. SIGSTOP of a worker in a request ---------------------------------
printf 'timeout 1, cleanup: 1\n' >"$TMPD/stop.rb"
rm -f "$PF_MARK"
start_server "$TMPD/s5.sock" -w 2 -c "$TMPD/stop.rb" "$APP"
wait_for nworkers 2
ok $? "2 workers, timeout 1, cleanup 1"
fload_start
hcurl -o /dev/null "$(url /stop)" 2>/dev/null &
stopper=$!
wait_for test -s "$PF_MARK"
victim=$(cat "$PF_MARK")
seen
wait_for sh -c "! kill -0 $victim 2>/dev/null"
ok $? "the stopped worker is killed"
log_has "pid $victim passed timeout \+ cleanup: SIGKILL"
ok $? "at timeout + cleanup, with SIGKILL"
wait "$stopper"
wait_for nworkers 2
ok $? "and replaced"
sleep 0.5
fload_stop
nothing_lost 0 "SIGSTOP of a worker in a request: the other one serves"
stop_server
TIMEOUT=10 wait_for none_left
ok $? "no process left running"

done_testing
