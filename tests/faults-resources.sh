#!/bin/sh
# Faults of resources: a worker out of descriptors logs once, backs off
# and serves again once they are free; the monitor raises its own soft
# RLIMIT_NOFILE for its control sockets (the workers keep theirs) and
# refuses to start when even the hard limit is too low; a full
# filesystem under the rack.input temporary file gives a 500 and one log
# line, and the next request is served; an after_worker_fork that raises
# is a failed spawn, and the server gives up after
# max_consecutive_spawn_errors.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 20

export PF_MARK="$TMPD/mark"
APP="$APPS/faults.ru"
REAL="$PITCHFORK"
# The server under "ulimit -S -n $NOFILE" (-H too with HARD set).
cat >"$TMPD/lowfd" <<EOF
#!/bin/sh
ulimit -S -n "\$NOFILE" || exit 99
[ -z "\$HARD" ] || ulimit -H -n "\$NOFILE" || exit 99
exec "$REAL" "\$@"
EOF
chmod +x "$TMPD/lowfd"
nworkers() { [ "$(worker_pids | wc -l)" = "$1" ]; }
soft_nofile() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }

# ---- a worker out of descriptors -----------------------------------------
NOFILE=64 PITCHFORK="$TMPD/lowfd" start_server "$TMPD/s.sock" -w 1 "$APP"
w=$(worker_pids)
is "$(soft_nofile "$w")" 64 "the worker has the soft limit it was given (64)"
n=$(hcurl "$(url "/hog?$TMPD/release")" | cut -d' ' -f2)
diag "the worker holds $n more descriptors"
more() { [ "$(tr -d ' ' <"$PF_MARK")" -gt "$n" ]; }
wait_for more # and the one of the /hog connection, once closed
hcurl -o "$TMPD/out" -w '%{http_code}' "$(url /)" >"$TMPD/code" &
client=$!
wait_for log_has 'accept4 on .*backing off.*: Too many open files'
ok $? "out of descriptors: the worker logs it"
touch "$TMPD/release"
wait "$client"
is "$(cat "$TMPD/code")" 200 "once they are free, the waiting request is served"
is "$(grep -c 'Too many open files' "$SERVER_LOG")" 1 \
    "the worker logged it once, not at each retry"
log_has 'accept4 on .*: accepting again'
ok $? "and logs that it accepts again"
is "$(worker_pids)" "$w" "the same worker, still serving"
stop_server

# ---- the monitor's descriptors -------------------------------------------
NOFILE=24 PITCHFORK="$TMPD/lowfd" start_server "$TMPD/s.sock" -w 30 "$APP"
wait_for log_has '30 workers ready'
ok $? "soft limit 24, 30 workers: all 30 ready"
! grep 'role=monitor' "$SERVER_LOG" | grep -q 'Too many open files'
ok $? "the monitor never runs out of descriptors"
log_has "RLIMIT_NOFILE: the monitor's soft limit is [0-9]+ \(its children keep 24\)"
ok $? "it raised its own soft limit, and says so"
is "$(soft_nofile "$(worker_pids | head -1)")/$(soft_nofile "$(mold_pid)")" 24/24 \
    "the mold and the workers keep 24"
stop_server

HARD=1 NOFILE=24 timeout "$TIMEOUT" "$TMPD/lowfd" -l "$TMPD/s.sock" -w 30 "$APP" \
    >"$SERVER_LOG" 2>&1
is $? 1 "hard limit 24, 30 workers: exit status 1"
log_has 'RLIMIT_NOFILE: the monitor needs [0-9]+ descriptors .* the limit is 24 \(hard 24\)'
ok $? "naming the limit"

# ---- a full filesystem under rack.input's temporary file -----------------
if ! unshare -m true 2>/dev/null; then
    skip "unshare -m: no mount namespace here (needs root)"
    skip "unshare -m: no mount namespace here"
    skip "unshare -m: no mount namespace here"
else
    # The server in its own mount namespace, TMPDIR on a 1 MiB tmpfs.
    mkdir "$TMPD/small"
    cat >"$TMPD/small-tmp" <<EOF
#!/bin/sh
mount -t tmpfs -o size=1m pftest "$TMPD/small" || exit 99
TMPDIR="$TMPD/small" exec "$REAL" "\$@"
EOF
    chmod +x "$TMPD/small-tmp"
    cat >"$TMPD/ns" <<EOF
#!/bin/sh
exec unshare -m "$TMPD/small-tmp" "\$@"
EOF
    chmod +x "$TMPD/ns"
    PITCHFORK="$TMPD/ns" start_server "$TMPD/s.sock" -w 1 "$APP"
    head -c 4194304 /dev/zero >"$TMPD/4m"
    is "$(hcurl -o /dev/null -w '%{http_code}' --data-binary @"$TMPD/4m" "$(url /upload)")" \
        500 "a 4 MiB upload on a full filesystem: 500"
    is "$(grep -c 'No space left on device' "$SERVER_LOG")" 1 \
        "one log line with the error"
    log_has "No space left on device - rack.input temporary file in $TMPD/small"
    ok $? "naming the temporary file's directory"
    is "$(hcurl --data-binary 'small' "$(url /upload)")" 5 "the next request is served"
    grep 'No space left on device' "$SERVER_LOG" | head -1 | cut -c1-300 |
        while read -r l; do diag "$l"; done
    stop_server
fi

# ---- after_worker_fork raises --------------------------------------------
printf 'max_consecutive_spawn_errors 3\nafter_worker_fork { |s, w| raise "no database" }\n' \
    >"$TMPD/raise.rb"
timeout "$TIMEOUT" "$PITCHFORK" -l "$TMPD/s.sock" -w 2 -c "$TMPD/raise.rb" "$APP" \
    >"$SERVER_LOG" 2>&1
is $? 1 "after_worker_fork raises: the server gives up with status 1"
log_has '3 consecutive spawn errors \(max_consecutive_spawn_errors\): giving up'
ok $? "and says why"
# Both workers spawn at once, and their replacements too: a few more may
# fail before the monitor stops, but no more than 3 for each of the 2.
n=$(grep -Ec 'after_worker_fork raised: worker [0-9]+ exits' "$SERVER_LOG")
ok "$([ "$n" -ge 3 ] && [ "$n" -le 6 ] && echo 0 || echo 1)" \
    "each failed worker says why it exits ($n)"
log_has 'no database \(RuntimeError\)'
ok $? "with the exception"

done_testing
