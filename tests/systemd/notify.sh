#!/bin/sh
# sd_notify from the monitor, recorded by a NOTIFY_SOCKET listener:
# EXTEND_TIMEOUT_USEC= while the application boots (at start and reload), READY=1 once every
# worker is ready, STATUS= with the listen-queue depth, WATCHDOG=1 with
# WATCHDOG_USEC, RELOADING=1 + MONOTONIC_USEC= ... READY=1 around a HUP
# reload and a USR2 refork, STOPPING=1 at shutdown.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lib-server.sh"

plan 18

APP="$top_srcdir/tests/systemd/app/config.ru"
NOTES="$TMPD/notify.out"
ruby "$top_srcdir/tests/systemd/notify-listen.rb" "$TMPD/notify.sock" \
    "$NOTES" &
KNOWN_PIDS="$KNOWN_PIDS $!"
wait_for test -S "$TMPD/notify.sock" || echo "Bail out! no notify listener"

# notes: the messages received so far, one a line ("--" between them)
notes() { grep -v -e '^--$' -e '^WATCHDOG=1$' "$NOTES"; }
# seen REGEX: some message matches
seen() { grep -E -q -- "$1" "$NOTES"; }
# line REGEX [AFTER]: number of the first line matching after line AFTER
line() { awk -v re="$1" -v after="${2:-0}" 'NR > after && $0 ~ re { print NR; exit }' "$NOTES"; }

NOTIFY_SOCKET=$TMPD/notify.sock WATCHDOG_USEC=400000 BOOT_SLEEP=1.5 \
    start_server "$TMPD/web.sock" -w 2 "$APP"

wait_for seen '^READY=1$'
extend=$(line '^EXTEND_TIMEOUT_USEC=[0-9]+$')
ready=$(line '^READY=1$')
ok "$([ -n "$extend" ] && [ -n "$ready" ] && [ "$extend" -lt "$ready" ] && echo 0 || echo 1)" \
    "EXTEND_TIMEOUT_USEC= while the application boots, before READY=1"
one=$(line '· 1/2 workers ready')
ok "$([ -n "$ready" ] && [ -n "$one" ] && [ "$one" -lt "$ready" ] &&
    log_has '2 workers ready' && echo 0 || echo 1)" \
    "READY=1 once both workers are ready"
is "$(grep -c '^READY=1$' "$NOTES")" 1 "READY=1 once"
wait_for seen '^STATUS=gen 0 · 2/2 workers ready · [0-9]+ requests · queue 0$'
ok $? "STATUS= says generation, workers ready, requests and queue"
wait_for test "$(grep -c '^WATCHDOG=1$' "$NOTES")" -ge 3
ok $? "WATCHDOG=1 every WATCHDOG_USEC/2"

# One worker busy, one asleep on a slow request: the rest queue up.
clients=""
for p in /sleep?s=3 /sleep?s=3 / / /; do
    hcurl -o /dev/null "$(url "$p")" &
    clients="$clients $!"
done
wait_for seen '· queue [1-9][0-9]*$'
ok $? "STATUS= shows the listen-queue depth of a UNIX listener"
for p in $clients; do wait "$p"; done

before=$(wc -l <"$NOTES")
kill -HUP "$SERVER_PID"
wait_for log_has 'reload done: every worker is gen 1'
ok $? "HUP: gen 1 serves"
wait_for line '^READY=1$' "$before"
reloading=$(line '^RELOADING=1$' "$before")
ok "$([ -n "$reloading" ] && echo 0 || echo 1)" "HUP: RELOADING=1"
ok "$(sed -n "$((reloading + 1))p" "$NOTES" | grep -E -q '^MONOTONIC_USEC=[0-9]+$'; echo $?)" \
    "with MONOTONIC_USEC= in the same message"
again=$(line '^READY=1$' "$reloading")
extend=$(line '^EXTEND_TIMEOUT_USEC=[0-9]+$' "$reloading")
ok "$([ -n "$extend" ] && [ "$extend" -lt "$again" ] && echo 0 || echo 1)" \
    "EXTEND_TIMEOUT_USEC= while the reloaded application boots"
ok "$([ -n "$again" ] && [ "$(line 'STATUS=gen 1 · 2/2' "$reloading")" -lt "$again" ] && echo 0 || echo 1)" \
    "READY=1 once every worker runs gen 1"
is "$(awk -v a="$before" 'NR > a && /^(RELOADING|READY)=1$/' "$NOTES" | tr '\n' ' ')" \
    "RELOADING=1 READY=1 " "no other RELOADING=1 or READY=1 around it"

before=$(wc -l <"$NOTES")
kill -USR2 "$SERVER_PID"
wait_for log_has 'refork done: every worker is gen 2'
ok $? "USR2: a refork to gen 2"
wait_for line '^READY=1$' "$before"
is "$(awk -v a="$before" 'NR > a && /^(RELOADING|READY)=1$/' "$NOTES" | tr '\n' ' ')" \
    "RELOADING=1 READY=1 " "USR2: RELOADING=1 then READY=1"
# Every worker was replaced twice: the count still has the 5 requests.
wait_for seen '^STATUS=gen 2 · 2/2 workers ready · ([5-9]|[1-9][0-9]+) requests'
ok $? "STATUS= keeps counting the requests of replaced workers"

stop_server
wait_for seen '^STOPPING=1$'
ok $? "STOPPING=1 at shutdown"
wait_for seen '· stopping$'
ok $? "STATUS= says stopping"
log_has 'monitor exiting with status 0'
ok $? "stops cleanly"
diag "$(notes | tail -3)"
done_testing
