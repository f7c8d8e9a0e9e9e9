#!/bin/sh
# The long soak, run by hand (issue 13): REQUESTS mixed requests (the
# 7 types of tests/soakclient.rb: GET, POST with a length, chunked
# upload, streaming response, full hijack, 404, application exception)
# against pitchfork with WORKERS (2) workers and refork_after
# REFORK_AFTER (50000) on a UNIX socket, in CHUNKS chunks.  A worker
# counts its own requests, so with 2 workers a refork comes about every
# 100,000 requests.
#
# After each chunk, once the server has settled (one mold and WORKERS
# workers of one generation, none booting, the same a second later; at
# most SETTLE_TIMEOUT s), it samples the monitor, the current mold and
# each worker, found by process title ("pitchfork monitor",
# "(gen:N) mold", "worker[N]"): VmRSS from /proc/PID/status, Pss from
# /proc/PID/smaps_rollup and the number of open descriptors in
# /proc/PID/fd.  It prints one line per chunk (with the promotions
# counted in the log, the load average and the client's seconds), then
# for each role the growth from the sample after WARMUP_CHUNKS chunks to
# the last one, and the least-squares slope over those samples per
# 100,000 requests.  A worker replaced at a refork starts fresh and a
# mold is a worker promoted after about REFORK_AFTER requests: compare
# a role only with itself.  It checks nothing and has no thresholds.
#
# Usage: bench/soak-long.sh [PITCHFORK]   (default: $PITCHFORK, else
#   build/src/pitchfork)
# Environment (defaults in parentheses): REQUESTS (1000000), CHUNKS (20),
#   WORKERS (2), REFORK_AFTER (50000), THREADS (4: client connections
#   in parallel), WARMUP_CHUNKS (2), CHUNK_TIMEOUT (1200 s),
#   SETTLE_TIMEOUT (60 s), SOAK_KEEP=1 (keep the server log and the
#   per-process samples; the path is printed at exit).
# Needs ruby, curl and Linux /proc.  It kills only the processes it
# started (the monitor, the client, and the monitor's children as they
# were just before it stopped), and removes its directory at exit.
# SPDX-License-Identifier: MIT
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
PITCHFORK=${1:-${PITCHFORK:-$TOP/build/src/pitchfork}}
REQUESTS=${REQUESTS:-1000000}
CHUNKS=${CHUNKS:-20}
WORKERS=${WORKERS:-2}
REFORK_AFTER=${REFORK_AFTER:-50000}
THREADS=${THREADS:-4}
WARMUP_CHUNKS=${WARMUP_CHUNKS:-2}
CHUNK_TIMEOUT=${CHUNK_TIMEOUT:-1200}
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-60}
SOAK_KEEP=${SOAK_KEEP:-0}

[ -x "$PITCHFORK" ] || {
    echo "soak-long: $PITCHFORK is not an executable (build first)" >&2
    exit 1
}
command -v ruby >/dev/null 2>&1 || {
    echo "soak-long: ruby not found" >&2
    exit 1
}
command -v curl >/dev/null 2>&1 || {
    echo "soak-long: curl not found" >&2
    exit 1
}
[ "$WARMUP_CHUNKS" -lt "$CHUNKS" ] || {
    echo "soak-long: WARMUP_CHUNKS ($WARMUP_CHUNKS) must be below CHUNKS ($CHUNKS)" >&2
    exit 1
}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/pfsoak.XXXXXX") || exit 1
SOCK=$DIR/s.sock
LOG=$DIR/server.log
SAMPLES=$DIR/samples
TABLE=$DIR/table
MON=""
CLIENT=""

# The monitor's children right now, from the ppid field of
# /proc/*/stat (the comm field may hold spaces and parentheses, so
# everything up to the last ") " is cut first).
children() {
    [ -n "$MON" ] || return 0
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v mon="$MON" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == mon) print pid }'
}

title() {
    tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"
}

# stop: TERM to the monitor, at most 15 s, then KILL the monitor and
# those of its children of before that still carry a pitchfork title
# (a PID is checked before it is killed: it may have been reused).
stop() {
    [ -n "$CLIENT" ] && kill -TERM "$CLIENT" 2>/dev/null
    CLIENT=""
    [ -n "$MON" ] || return 0
    kids=$(children)
    kill -TERM "$MON" 2>/dev/null
    i=0
    while kill -0 "$MON" 2>/dev/null && [ "$i" -lt 150 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$MON" 2>/dev/null
    wait "$MON" 2>/dev/null
    for p in $kids; do
        case $(title "$p") in
        pitchfork\ *) kill -KILL "$p" 2>/dev/null ;;
        esac
    done
    MON=""
}

cleanup() {
    stop
    if [ "$SOAK_KEEP" = 1 ]; then
        echo "soak-long: server log and samples kept in $DIR" >&2
    else
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

answers() {
    curl -s -o /dev/null --max-time 2 --unix-socket "$SOCK" \
        -H 'Connection: close' http://localhost/hello
}

# settled: one mold and WORKERS workers, all of one generation, none
# booting; prints their PIDs and generation.
settled() {
    t=$(for p in $(children); do
        printf '%s ' "$p"
        title "$p"
        echo
    done)
    [ "$(printf '%s\n' "$t" | grep -c ') mold')" = 1 ] &&
        [ "$(printf '%s\n' "$t" | grep -c ' worker\[')" = "$WORKERS" ] &&
        [ "$(printf '%s\n' "$t" | grep -c .)" = $((WORKERS + 1)) ] &&
        [ "$(printf '%s\n' "$t" | sed -n 's/.*(gen:\([0-9]*\)).*/\1/p' |
            sort -u | grep -c .)" = 1 ] &&
        ! printf '%s\n' "$t" | grep -q booting &&
        printf '%s\n' "$t" | sed 's/ - .*//' | sort
}

# stable: settled, with the same processes a second later (the monitor
# decides a promotion at its next tick, every 100 ms, after the last
# request of a chunk).
stable() {
    s1=$(settled) || return 1
    sleep 1
    s2=$(settled) || return 1
    [ "$s1" = "$s2" ]
}

# wait_until SECONDS CMD...: 0 once CMD succeeds, 1 after SECONDS or
# when the monitor is gone.
wait_until() {
    deadline=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        kill -0 "$MON" 2>/dev/null || return 1
        sleep 0.1
    done
}

# sample CHUNK: one line per process in $SAMPLES:
# "CHUNK ROLE PID GEN RSS PSS FDS REQUESTS" (KiB; REQUESTS is a
# worker's count from its title, - for the others).  Returns 1, and
# writes nothing, when a process was missing (a refork under way).
sample() {
    for p in $MON $(children); do
        t=$(title "$p")
        case $t in
        "pitchfork monitor"*) role=monitor ;;
        *") mold"*booting*) continue ;;
        *") mold"*) role=mold ;;
        *" worker["*) role=worker ;;
        *) continue ;;
        esac
        gen=$(printf '%s\n' "$t" | sed -n 's/.*(gen:\([0-9]*\)).*/\1/p')
        req=$(printf '%s\n' "$t" | sed -n 's/.*requests: \([0-9]*\).*/\1/p')
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        pss=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        fds=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
        [ -n "$rss" ] || continue # gone meanwhile
        echo "$1 $role $p ${gen:--} $rss ${pss:-0} $fds ${req:--}"
    done >"$DIR/sample"
    [ "$(grep -c ' monitor ' "$DIR/sample")" = 1 ] &&
        [ "$(grep -c ' mold ' "$DIR/sample")" = 1 ] &&
        [ "$(grep -c ' worker ' "$DIR/sample")" = "$WORKERS" ] || return 1
    cat "$DIR/sample" >>"$SAMPLES"
}

# settle_and_sample CHUNK: wait until stable (at most SETTLE_TIMEOUT s),
# then sample, up to 3 times; the last attempt's sample is kept even if
# incomplete.  Returns 1 when the server never settled.
settle_and_sample() {
    for try in 1 2 3; do
        if wait_until "$SETTLE_TIMEOUT" stable && sample "$1"; then
            return 0
        fi
    done
    cat "$DIR/sample" >>"$SAMPLES"
    return 1
}

# row CHUNK DONE FAILED PROMOTIONS SETTLED SECONDS: the table line of
# CHUNK from $SAMPLES (the mold of the highest generation if there are
# two); SECONDS are the client's for the chunk.
row() {
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk -v c="$1" -v dn="$2" -v f="$3" -v pr="$4" -v st="$5" -v s="$6" \
        -v load="$load" '
        $1 != c { next }
        $2 == "monitor" { mr = $5; mf = $7 }
        $2 == "mold" && $4 + 0 >= mg + 0 { mg = $4; xr = $5; xp = $6; xf = $7 }
        $2 == "worker" {
            n++
            if ($5 > wr) wr = $5
            if ($6 > wp) wp = $6
            if ($7 > wf) wf = $7
        }
        END {
            printf "%5s %9d %6d %4s %5d %8d %4d %8d %8d %4d %8d %8d %4d %2d %5s %5s %s\n",
                c, dn, f, (mg == "" ? "-" : mg), pr, mr, mf, xr, xp, xf,
                wr, wp, wf, n, load, s, (st ? "" : "unsettled")
        }' "$SAMPLES"
}

echo "pitchfork $PITCHFORK; $REQUESTS requests in $CHUNKS chunks, $THREADS" \
    "connections; $WORKERS workers, refork_after $REFORK_AFTER;" \
    "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$PITCHFORK" -l "$SOCK" -w "$WORKERS" --refork-after "$REFORK_AFTER" \
    --log stderr "$TOP/tests/apps/soak.ru" >"$LOG" 2>&1 </dev/null &
MON=$!
if ! wait_until 60 answers || ! wait_until "$SETTLE_TIMEOUT" stable; then
    echo "soak-long: the server did not start; its log:" >&2
    tail -40 "$LOG" >&2
    exit 1
fi
: >"$SAMPLES"
st=1
settle_and_sample 0 || st=0
row 0 0 0 0 "$st" - >"$TABLE"

echo
echo "RSS and PSS in KiB; worker columns: the largest over the workers (n);"
echo "load: 1-minute load average at the sample; secs: the client's for the chunk"
printf '%5s %9s %6s %4s %5s %8s %4s %8s %8s %4s %8s %8s %4s %2s %5s %5s\n' \
    chunk requests failed gen promo mon_rss fds mold_rss mold_pss fds \
    wrk_rss wrk_pss fds n load secs
cat "$TABLE"

done_n=0
failed=0
start=$(date +%s)
c=1
while [ "$c" -le "$CHUNKS" ]; do
    n=$(((REQUESTS * c / CHUNKS) - done_n))
    timeout "$CHUNK_TIMEOUT" ruby "$TOP/tests/soakclient.rb" "$SOCK" "$n" \
        "$THREADS" >"$DIR/client.out" 2>"$DIR/client.err" &
    CLIENT=$!
    wait "$CLIENT"
    CLIENT=""
    set -- $(cat "$DIR/client.out")
    ok=${1:-0}
    failed=$((failed + n - ok))
    done_n=$((done_n + n))
    [ -s "$DIR/client.err" ] && sed "s/^/chunk $c: /" "$DIR/client.err" >>"$DIR/errors"
    kill -0 "$MON" 2>/dev/null || {
        echo "soak-long: the monitor is gone after chunk $c" >&2
        break
    }
    st=1
    settle_and_sample "$c" || st=0
    promo=$(grep -c 'promoting worker [0-9]* pid [0-9]* to mold of gen' "$LOG")
    row "$c" "$done_n" "$failed" "$promo" "$st" "${3:-?}" | tee -a "$TABLE"
    c=$((c + 1))
done
secs=$(($(date +%s) - start))

echo
echo "$done_n requests in $secs s, $failed failed;" \
    "$(grep -c 'promoting worker [0-9]* pid [0-9]* to mold of gen' "$LOG")" \
    "promotions; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
[ -s "$DIR/errors" ] && { echo "client errors:"; cat "$DIR/errors"; }

# Growth per role from the chunk WARMUP_CHUNKS to the last one, and the
# least-squares slope over every sample in between, per 100,000
# requests (columns of $TABLE: 2 requests, 6-7 monitor, 8-10 mold,
# 11-13 the largest worker).
echo
echo "verdict (after chunk $WARMUP_CHUNKS to the last; slope per 100,000 requests):"
awk -v w="$WARMUP_CHUNKS" '
    $1 + 0 < w { next }
    {
        n++; x[n] = $2 / 100000
        for (k = 6; k <= 13; k++) v[n, k] = $k
    }
    function slope(k,   i, sx, sy, sxx, sxy, d) {
        for (i = 1; i <= n; i++) {
            sx += x[i]; sy += v[i, k]
            sxx += x[i] * x[i]; sxy += x[i] * v[i, k]
        }
        d = n * sxx - sx * sx
        return d == 0 ? 0 : (n * sxy - sx * sy) / d
    }
    function line(name, k) {
        printf "  %-14s %8d -> %8d  %+8d  slope %+9.1f\n", name,
            v[1, k], v[n, k], v[n, k] - v[1, k], slope(k)
    }
    END {
        if (n < 2) { print "  too few samples"; exit }
        line("monitor RSS", 6); line("monitor fds", 7)
        line("mold RSS", 8); line("mold PSS", 9); line("mold fds", 10)
        line("worker RSS", 11); line("worker PSS", 12); line("worker fds", 13)
    }' "$TABLE"
