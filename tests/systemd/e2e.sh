#!/bin/sh
# End to end under a real systemd, booted in a throw-away container with
# tests/systemd/sdct after "make install
# DESTDIR=...": socket activation, STATUS=, the journal's fields, reload,
# refork, MemoryMax= and auto memory caps, the watchdog, a graceful stop
# and a restart that loses no request.  In a container that is itself in
# a container, the inner loopback may stay down (no CAP_NET_ADMIN) and
# no cgroup2 may be mounted: the checks that need TCP or the watchdog's
# restart are skipped with that reason, and the others talk to the
# services over their UNIX sockets.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/systemd/lib-container.sh"
ct_prefix
plan 30

ct_setup pfe2e
# journal_has REGEX MATCH...: a verbose entry matching MATCH has REGEX
journal_has() { re=$1; shift; journal "$@" | grep -E -q -- "$re"; }
# prop_not UNIT PROPERTY VALUE: the property is not VALUE
prop_not() { ! prop_is "$@"; }

# Boot with the example application as /srv/app and the test application
# as /srv/mem.
ct_boot --bind-ro="$top_srcdir/examples/hello:/srv/app" \
    --bind-ro="$top_srcdir/tests/systemd/app:/srv/mem"
diag "$(cat "$T/boot.log")"
# The container sees only $prefix of the install: the units must be there.
case "$(find "$T/inst" -name 'pitchfork@.service')" in
"$T/inst$prefix"/*) ;;
*) echo "Bail out! units installed outside $prefix"; exit 1 ;;
esac

# What the container lacks when it runs inside another one.  The
# loopback: systemd brings it up, unless it may not configure network
# devices (IFF_UP is bit 0 of its flags).
lo_flags=$(in_ct cat /sys/class/net/lo/flags)
case "$lo_flags" in 0x*) ;; *) echo "Bail out! no flags of lo: '$lo_flags'"; exit 1 ;; esac
no_tcp=""
[ $((lo_flags & 1)) = 1 ] ||
    no_tcp="the container's loopback is down (flags $lo_flags: no CAP_NET_ADMIN to bring it up)"
# cgroup2: without it, systemd in a container is not told that a killed
# service's cgroup emptied, and waits for TimeoutStopSec= to restart it.
no_cg2=""
in_ct stat -f -c %T /sys/fs/cgroup /sys/fs/cgroup/unified 2>/dev/null | grep -q '^cgroup2fs$' ||
    no_cg2="no cgroup2 in the container: systemd would see the service's cgroup empty only after TimeoutStopSec="
[ -z "$no_tcp" ] || diag "$no_tcp"
[ -z "$no_cg2" ] || diag "$no_cg2"

# Drop-ins: app gets a watchdog (TimeoutAbortSec: a monitor stopped by
# SIGSTOP holds the watchdog's SIGABRT until SIGKILL); mem a memory
# limit, auto caps and, when the loopback is up, a TCP socket besides
# its UNIX one.
in_ct sh -c '
d=/etc/systemd/system
mkdir -p $d/pitchfork@app.service.d $d/pitchfork@mem.service.d $d/pitchfork@mem.socket.d
printf "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=3s\nEnvironment=PITCHFORK_WORKERS=2\n" >$d/pitchfork@app.service.d/test.conf
printf "[Service]\nMemoryMax=256M\n" >$d/pitchfork@mem.service.d/test.conf
[ -n "$1" ] || printf "[Socket]\nListenStream=127.0.0.1:8080\n" >$d/pitchfork@mem.socket.d/tcp.conf
mkdir -p /etc/pitchfork
printf "PITCHFORK_WORKERS=2\nPITCHFORK_WORKER_MEMORY_MAX=auto\nRACK_ENV=production\n" >/etc/pitchfork/mem.conf
systemctl daemon-reload' sh "$no_tcp"
ct_sanitizer_dropin

# ---- pitchfork@app: socket activation, status, journal, watchdog ----------
# The README's deploy commands, as a user types them; the files they
# need are in place (the install overlay, /srv/app).
readme=$(sed -n '/^Deploying with systemd/,/^Migrating/p' "$top_srcdir/README" |
    sed -n 's/^  \(systemctl [^#]*\).*$/\1/p')
failed=$(echo "$readme" | while read -r cmd; do
    # shellcheck disable=SC2086 # one README command, split into words
    in_ct $cmd </dev/null >/dev/null 2>&1 || echo "$cmd"
done)
[ -z "$failed" ] || diag "failed: $failed"
ok "$([ -n "$readme" ] && [ -z "$failed" ] && echo 0 || echo 1)" \
    "the README's commands run: $(echo "$readme" | tr '\n' ';')"
is "$(in_ct systemctl is-active pitchfork@app.socket pitchfork@app | tr '\n' ' ')" \
    "active active " "systemctl start pitchfork@app starts the socket and the service"
is "$(in_ct curl -sS -m 10 --unix-socket /run/pitchfork/app.sock http://localhost/)" \
    "Hello" "the example application answers on /run/pitchfork/app.sock"
# The first connection may still be queued when the workers are ready:
# the once-a-second refresh shows the queue drained.
wait_for status_has pitchfork@app '^gen 0 · 2/2 workers ready · [0-9]+ requests · queue 0$'
ok $? "systemctl show -P StatusText: $(in_ct systemctl show -P StatusText pitchfork@app)"
in_ct systemctl status --no-pager pitchfork@app | grep -q "Status: \"gen 0 · 2/2 workers ready"
ok $? "systemctl status shows the STATUS line"
v=$(journal -u pitchfork@app PITCHFORK_EVENT=ready PITCHFORK_WORKER=1)
ok "$(printf '%s\n' "$v" | grep -q 'PITCHFORK_ROLE=monitor' &&
    printf '%s\n' "$v" | grep -q 'PITCHFORK_GENERATION=0' &&
    printf '%s\n' "$v" | grep -q 'SYSLOG_IDENTIFIER=pitchfork' &&
    printf '%s\n' "$v" | grep -q 'PRIORITY=6' &&
    printf '%s\n' "$v" | grep -q 'MESSAGE=worker 1 pid [0-9]* ready (gen 0)'; echo $?)" \
    "journalctl PITCHFORK_WORKER=1 PITCHFORK_EVENT=ready: structured fields"
w1=$(in_ct systemctl show -P WatchdogTimestampMonotonic pitchfork@app)
wait_for prop_not pitchfork@app WatchdogTimestampMonotonic "$w1"
ok $? "WatchdogSec=2s is pinged (WatchdogTimestamp moves)"

# ---- reload, refork and restart under a concurrent client -----------------
# loop_start NAME URL...: curl in a loop inside the container until
# /tmp/NAME.stop exists; loop_end NAME stops it, waits for it and sets
# res to "OK FAILED" (not from a $(...) subshell: the loop is not that
# subshell's child, so its wait would return at once, before the count is
# written).
loop_start() {
    name=$1
    shift
    timeout 120 "$SDCT" exec "$N" sh -c "ok=0; bad=0; rm -f /tmp/$name.stop
        while [ ! -e /tmp/$name.stop ]; do
            if curl -sSf -m 10 $* >/dev/null 2>>/tmp/$name.err; then ok=\$((ok+1)); else bad=\$((bad+1)); fi
        done; echo \$ok \$bad >/tmp/$name.out" &
    LOOP=$!
    wait_for in_ct test -e "/tmp/$name.err"
}
loop_end() {
    sleep 0.5 # some requests after the change, too
    in_ct touch "/tmp/$1.stop"
    wait "$LOOP"
    res=$(in_ct cat "/tmp/$1.out")
    in_ct sh -c "[ ! -s /tmp/$1.err ] || head -3 /tmp/$1.err" >"$T/err" 2>&1
}
APPURL="--unix-socket /run/pitchfork/app.sock http://localhost/"
loop_start reload "$APPURL"
in_ct systemctl reload pitchfork@app
wait_for has_msg pitchfork@app 'reload done: every worker is gen 1'
ok $? "systemctl reload: a new generation serves"
loop_end reload
ok "$(case "$res" in [1-9]*" 0") echo 0 ;; *) echo 1 ;; esac)" \
    "no failed request during the reload (ok failed: $res)"
[ ! -s "$T/err" ] || diag "$(cat "$T/err")"
wait_for prop_is pitchfork@app ActiveState active
ok $? "the service is active after RELOADING=1 ... READY=1"

in_ct systemctl kill -s USR2 --kill-whom=main pitchfork@app
wait_for has_msg pitchfork@app 'refork done: every worker is gen 2'
ok $? "systemctl kill -s USR2: a refork to gen 2"
journal -u pitchfork@app PITCHFORK_EVENT=promote | grep -q 'PITCHFORK_NEW_GENERATION=2'
ok $? "journal: PITCHFORK_EVENT=promote with PITCHFORK_NEW_GENERATION=2"

loop_start restart "$APPURL"
pid=$(in_ct systemctl show -P MainPID pitchfork@app)
in_ct systemctl restart pitchfork@app
new=$(in_ct systemctl show -P MainPID pitchfork@app)
loop_end restart
ok "$([ "$pid" != "$new" ] && echo 0 || echo 1)" "systemctl restart: a new main process ($pid -> $new)"
ok "$(case "$res" in [1-9]*" 0") echo 0 ;; *) echo 1 ;; esac)" \
    "with the socket unit, no request fails across the restart (ok failed: $res)"
[ ! -s "$T/err" ] || diag "$(cat "$T/err")"

# A wedged monitor stops pinging: systemd kills and restarts the service.
if [ -n "$no_cg2" ]; then
    skip "a stopped monitor misses WatchdogSec=2s: $no_cg2"
    skip "and it serves again: $no_cg2"
else
    pid=$(in_ct systemctl show -P MainPID pitchfork@app)
    in_ct systemctl kill -s STOP --kill-whom=main pitchfork@app
    wait_for prop_is pitchfork@app NRestarts 1
    ok $? "a stopped monitor misses WatchdogSec=2s: systemd restarts the service"
    wait_for prop_is pitchfork@app ActiveState active
    is "$(in_ct curl -sS -m 10 --unix-socket /run/pitchfork/app.sock http://localhost/)" \
        "Hello" "and it serves again (main pid $pid -> $(in_ct systemctl show -P MainPID pitchfork@app))"
fi

# ---- pitchfork@mem: MemoryMax=, auto caps, app output, graceful stop -------
in_ct systemctl start pitchfork@mem
# mcurl PATH CURL-ARGS...: a request to pitchfork@mem on its UNIX socket
mcurl() {
    p=$1
    shift
    in_ct curl -m 20 --unix-socket /run/pitchfork/mem.sock "$@" "http://localhost$p"
}
is "$(mcurl /listener -sS)" "http" \
    "FileDescriptorName=http reaches the app"
if [ -n "$no_tcp" ]; then
    skip "a TCP socket from a drop-in: $no_tcp"
else
    is "$(in_ct curl -sS -m 10 http://127.0.0.1:8080/listener)" "http" \
        "a TCP socket from a drop-in, named http too"
fi
has_msg pitchfork@mem '^cgroup v[12]: memory limit 268435456, .* 2 workers; worker memory cap auto$'
ok $? "MemoryMax=256M shows in the start-up line"
line=$(msgs -u pitchfork@mem | grep 'worker_memory_max=auto: ')
cap=$(printf '%s\n' "$line" | sed -n 's/.*auto: \([0-9]*\) bytes = (memory limit 268435456 - mold \([0-9]*\)) \/ (2 workers + 1)$/\1 \2/p')
ok "$([ -n "$cap" ] && [ "${cap% *}" = $(((268435456 - ${cap#* }) / 3)) ] && echo 0 || echo 1)" \
    "the auto cap derives from it: $line"
wait_for status_has pitchfork@mem '· queue 0$'
ok $? "STATUS= has the listeners' queue depth: $(in_ct systemctl show -P StatusText pitchfork@mem)"

mcurl "/alloc?mb=120" -sS >/dev/null
wait_for journal_has 'PITCHFORK_USS=' -u pitchfork@mem PITCHFORK_EVENT=memory
v=$(journal -u pitchfork@mem PITCHFORK_EVENT=memory)
ok "$(printf '%s\n' "$v" | grep -q 'PITCHFORK_USS=[0-9]' &&
    printf '%s\n' "$v" | grep -q 'PITCHFORK_RSS=[0-9]' &&
    printf '%s\n' "$v" | grep -q 'PITCHFORK_WORKER=[01]'; echo $?)" \
    "a worker over the cap: PITCHFORK_EVENT=memory with PITCHFORK_WORKER, _RSS, _USS"
wait_for has_msg pitchfork@mem 'worker [01] pid [0-9]+ \(gen 0\) exited with status 0$'
ok $? "it finishes its request and exits"
wait_for status_has pitchfork@mem '2/2 workers ready'
ok $? "it is replaced from the mold: 2/2 workers ready"

mcurl /errors -sS >/dev/null
wait_for journal_has 'rack-errors-marker from' -u pitchfork@mem PRIORITY=4 PITCHFORK_STREAM=stderr
ok $? "rack.errors reaches the journal as a warning"
mcurl /logger -sS >/dev/null
wait_for journal_has 'MESSAGE=logger-marker$' -u pitchfork@mem PRIORITY=3 PITCHFORK_STREAM=stdout
ok $? "Logger.new(\$stdout).error: one entry at priority 3, the message alone"
mcurl /raise -s >/dev/null
wait_for journal_has 'boom-marker' -u pitchfork@mem PITCHFORK_EXCEPTION=ArgumentError
n=$(in_ct journalctl -b -u pitchfork@mem -o json PRIORITY=3 PITCHFORK_EXCEPTION=ArgumentError | wc -l)
m=$(in_ct journalctl -b -u pitchfork@mem -o json PRIORITY=3 PITCHFORK_EXCEPTION=ArgumentError | grep -c 'boom-marker.*\\n\\tfrom config.ru:[0-9]')
ok "$([ "$n" = 1 ] && [ "$m" = 1 ] && echo 0 || echo 1)" \
    "an exception and its backtrace are one journal entry at priority 3 ($n entry, $m with the backtrace)"

mcurl "/sleep?s=2" -sS -o /tmp/slow.out &
slow=$!
wait_for has_msg pitchfork@mem '^sleep-start$'
in_ct systemctl stop pitchfork@mem 2>/dev/null # "can still be activated"
wait "$slow"
is "$(in_ct cat /tmp/slow.out)" "slept" "systemctl stop: the in-flight request completes"
is "$(in_ct systemctl show -P Result pitchfork@mem)" "success" "and the service stops cleanly"

san=$(msgs -u 'pitchfork@*' | grep -E -A5 'AddressSanitizer|runtime error:|\[BUG\]')
is "$san" "" "no sanitizer or Ruby [BUG] report in the journal"
[ "$tap_failed" = 0 ] || dump
done_testing
