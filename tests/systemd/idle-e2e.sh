#!/bin/sh
# Scale to zero under a real systemd, booted in a throw-away container
# with tests/systemd/sdct after "make install DESTDIR=...":
# pitchfork@app.socket alone is started; the first connection starts the
# service, which stops after PITCHFORK_IDLE_TIMEOUT=2 without a request
# (inactive, exit 0, PITCHFORK_EVENT=idle-exit in the journal) while the
# socket keeps listening; the next connection starts it again and is
# answered, and Restart=on-failure counts no restart.  pitchfork@hold,
# whose workers wait in before_worker_exit until told, shows that a
# connection made while the service stops waits in the socket's queue
# and is answered by the next start.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/systemd/lib-container.sh"
CT_DUMP_LINES=80
ct_prefix
plan 17

ct_setup pfidle
# idle_exits: the service's idle-exit journal entries
idle_exits() {
    in_ct journalctl -b --no-pager -o verbose -u pitchfork@app \
        PITCHFORK_EVENT=idle-exit 2>/dev/null
}
# get: the example application's answer and its status on the socket
get() {
    in_ct curl -sS -m 20 -w '%{http_code}' --unix-socket /run/pitchfork/app.sock \
        http://localhost/
}

ct_boot --bind-ro="$top_srcdir/examples/hello:/srv/app" \
    --bind-ro="$top_srcdir/examples/hello:/srv/hold"
# hold: each worker's exit waits (at most 20 s) for the file "go" in
# the service's RuntimeDirectory=.
in_ct sh -c 'mkdir -p /etc/pitchfork &&
    printf "PITCHFORK_IDLE_TIMEOUT=2\nPITCHFORK_WORKERS=2\n" >/etc/pitchfork/app.conf &&
    printf "PITCHFORK_IDLE_TIMEOUT=1\nPITCHFORK_WORKERS=1\nPITCHFORK_CONFIG=/etc/pitchfork/hold.rb\n" >/etc/pitchfork/hold.conf &&
    printf "before_worker_exit do |_s, _w|\n  200.times { break if File.exist?(\"/run/pitchfork/hold/go\"); sleep 0.1 }\nend\n" >/etc/pitchfork/hold.rb &&
    systemctl daemon-reload'
ct_sanitizer_dropin

in_ct systemctl start pitchfork@app.socket
is "$(in_ct systemctl is-active pitchfork@app.socket pitchfork@app | tr '\n' ' ')" \
    "active inactive " "the socket alone is started"
is "$(get)" "Hello
200" "the first connection starts the service and is answered"
wait_for prop_is pitchfork@app ActiveState inactive
ok $? "idle_timeout later, the service stops by itself"
is "$(in_ct systemctl show -P Result,ExecMainStatus pitchfork@app | tr '\n' ' ')" \
    "success 0 " "it exited 0, not failed"
v=$(idle_exits)
ok "$(printf '%s\n' "$v" | grep -q 'PITCHFORK_IDLE_TIMEOUT=2' &&
    printf '%s\n' "$v" | grep -q 'MESSAGE=no request for 2 s (idle_timeout): stopping'
    echo $?)" "journalctl -u pitchfork@app PITCHFORK_EVENT=idle-exit shows the stop"
is "$(in_ct systemctl is-active pitchfork@app.socket)" "active" \
    "the socket keeps listening"

is "$(get)" "Hello
200" "the next connection starts the service again and is answered"
is "$(in_ct systemctl show -P NRestarts pitchfork@app)" "0" \
    "Restart=on-failure counted no restart"
wait_for prop_is pitchfork@app ActiveState inactive
ok $? "and it stops again once idle"
is "$(idle_exits | grep -c '^    MESSAGE=no request for 2 s')" 2 "two idle exits in the journal"
is "$(in_ct journalctl -b --no-pager -o cat -u pitchfork@app | grep -c '^graceful shutdown$')" 2 \
    "each a graceful shutdown"

# ---- pitchfork@hold: a connection made during the idle stop ---------------
# queued: a connection waits in hold's listening socket (Recv-Q)
queued() {
    in_ct ss -xlnH src /run/pitchfork/hold.sock | awk '$3 > 0 { f = 1 } END { exit !f }'
}
in_ct systemctl start pitchfork@hold.socket
is "$(in_ct curl -sS -m 20 -w '%{http_code}' --unix-socket /run/pitchfork/hold.sock http://localhost/)" \
    "Hello
200" "pitchfork@hold: the first connection is answered"
wait_for prop_is pitchfork@hold ActiveState deactivating
ok $? "idle, it stops; its worker waits in before_worker_exit"
timeout 60 "$SDCT" exec "$N" sh -c 'curl -sS -m 40 -w "%{http_code}" \
    --unix-socket /run/pitchfork/hold.sock http://localhost/ >/tmp/late.out 2>&1' &
late=$!
wait_for queued
ok $? "a connection made while it stops waits in the socket's queue"
is "$(in_ct systemctl show -P ActiveState pitchfork@hold)" "deactivating" \
    "(made while the service was stopping)"
in_ct touch /run/pitchfork/hold/go
wait "$late"
is "$(in_ct cat /tmp/late.out)" "Hello
200" "once stopped, the socket starts the service again and the connection is answered"
is "$(in_ct journalctl -b --no-pager -o cat -u pitchfork@hold | grep -c '^1 workers ready (gen 0)$')" 2 \
    "by a second start of the service"
[ "$tap_failed" = 0 ] || dump
done_testing
