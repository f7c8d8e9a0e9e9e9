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

SDCT=${SDCT:-$top_srcdir/tests/systemd/sdct}
[ -x "$SDCT" ] || skip_all "sdct not found at $SDCT"
command -v systemd-nspawn >/dev/null 2>&1 ||
    skip_all "systemd-nspawn not found (Debian package systemd-container)"
command -v nsenter >/dev/null 2>&1 || skip_all "nsenter not found"
[ "$(id -u)" = 0 ] || skip_all "booting a container needs root"
# Only a prefix under /usr holds units a booted systemd reads.
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
case "$prefix" in
/usr | /usr/local) ;;
*) skip_all "prefix $prefix is not /usr or /usr/local: systemd would not see the units" ;;
esac
plan 17

T=$(mktemp -d "${TMPDIR:-/tmp}/pfidle.XXXXXX") || exit 1
N=pfidle$$
BOOTED=""
cleanup() {
    [ -z "$BOOTED" ] || SDCT_FAST_STOP=1 "$SDCT" stop "$N" >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

in_ct() { timeout 30 "$SDCT" exec "$N" "$@"; }
# wait_for CMD...: retry CMD for at most 30 s
wait_for() {
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 150 ] || return 1
        sleep 0.2
    done
}
# prop_is UNIT PROPERTY VALUE
prop_is() { [ "$(in_ct systemctl show -P "$2" "$1")" = "$3" ]; }
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
dump() {
    diag "$(in_ct journalctl -b --no-pager -n 80 -u 'pitchfork@*' 2>&1)"
}

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install \
    DESTDIR="$T/inst" >"$T/install.log" 2>&1 ||
    { diag "$(tail -20 "$T/install.log")"; echo "Bail out! make install"; exit 1; }
if ! SDCT_FAST_STOP=1 "$SDCT" boot "$N" host --private-network \
    --overlay-ro="$prefix:$T/inst$prefix:$prefix" \
    --bind-ro="$top_srcdir/examples/hello:/srv/app" \
    --bind-ro="$top_srcdir/examples/hello:/srv/hold" >"$T/boot.log" 2>&1; then
    diag "$(tail -20 "$T/boot.log")"
    echo "Bail out! the container did not boot"
    exit 1
fi
BOOTED=1
# hold: each worker's exit waits (at most 20 s) for the file "go" in
# the service's RuntimeDirectory=.
in_ct sh -c 'mkdir -p /etc/pitchfork &&
    printf "PITCHFORK_IDLE_TIMEOUT=2\nPITCHFORK_WORKERS=2\n" >/etc/pitchfork/app.conf &&
    printf "PITCHFORK_IDLE_TIMEOUT=1\nPITCHFORK_WORKERS=1\nPITCHFORK_CONFIG=/etc/pitchfork/hold.rb\n" >/etc/pitchfork/hold.conf &&
    printf "before_worker_exit do |_s, _w|\n  200.times { break if File.exist?(\"/run/pitchfork/hold/go\"); sleep 0.1 }\nend\n" >/etc/pitchfork/hold.rb &&
    systemctl daemon-reload'
# A sanitizer build: LeakSanitizer needs ptrace, which the unit forbids.
if [ -n "$(sed -n 's/^SANITIZER_CFLAGS = //p' "$top_builddir/Makefile")" ]; then
    in_ct sh -c 'd=/etc/systemd/system/pitchfork@.service.d
        mkdir -p $d && printf "[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n" >$d/asan.conf &&
        systemctl daemon-reload'
fi

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
