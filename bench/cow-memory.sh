#!/bin/bash
# Copy-on-write memory benchmark.  bench/apps/cow.ru defines COW_METHODS
# methods that each read distinct constants, so the first call of each one
# dirties inline caches that a fork shares with its parent.  Each server
# runs it with WORKERS workers (4), one server at a time, on 127.0.0.1:
#   unicorn (preload_app true), puma (WORKERS x 1 thread, --preload),
#   pitchfork without reforking, pitchfork with --refork-after REFORK_AFTER
# and gets WARMUP_REQUESTS requests (1000 per worker), "Connection: close",
# 4 at a time.  For the reforking pitchfork the script then waits until
# every worker's title shows the last generation of REFORK_AFTER.  Then
# every server gets SETTLE_REQUESTS more requests (the new workers serve
# too), and the script sums Pss from /proc/PID/smaps_rollup over the whole
# process tree (monitor + mold + workers; master + workers) and prints it
# with a per-process breakdown and the ratio to unicorn.
#
# It also measures, on the reforking pitchfork: the time of a refork
# rollout after USR2 (idle, and under wrk load; with the time until the
# promoted worker's title says it is the new mold), wrk's latency percentiles
# during rollouts against the same wrk run without one; and, for pitchfork
# and unicorn with the hello and the cow apps, the time from starting the
# server to the first 200 (curl polling), the servers taking turns.
#
# Usage: bench/cow-memory.sh
# Environment (defaults in parentheses):
#   COW_METHODS (100000)  methods/constants the app defines; COW_SLICES (100)
#   WORKERS (4)  WARMUP_REQUESTS (1000 x WORKERS)  SETTLE_REQUESTS (100 x
#   WORKERS)  REFORK_AFTER (50,100,false)  SERVERS ("unicorn puma
#   pitchfork pitchfork-refork")  PUMA_PRELOAD (1)  STARTUP_RUNS (3)
#   ROLLOUT_RUNS (3)  WRK_SECONDS (8, at least 3)  SKIP_EXTRA=1 (PSS only)
#   PITCHFORK  BENCH_KEEP_TMP=1
# SPDX-License-Identifier: MIT
set -u

. "$(dirname "$0")/lib-bench.sh"

export COW_METHODS=${COW_METHODS:-100000}
export COW_SLICES=${COW_SLICES:-100}
WORKERS=${WORKERS:-4}
WARMUP_REQUESTS=${WARMUP_REQUESTS:-$((1000 * WORKERS))}
SETTLE_REQUESTS=${SETTLE_REQUESTS:-$((100 * WORKERS))}
REFORK_AFTER=${REFORK_AFTER:-50,100,false}
SERVERS=${SERVERS:-"unicorn puma pitchfork pitchfork-refork"}
PUMA_PRELOAD=${PUMA_PRELOAD:-1}
STARTUP_RUNS=${STARTUP_RUNS:-3}
ROLLOUT_RUNS=${ROLLOUT_RUNS:-3}
WRK_SECONDS=${WRK_SECONDS:-8}
SKIP_EXTRA=${SKIP_EXTRA:-0}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-120}
ROLLOUT_TIMEOUT=${ROLLOUT_TIMEOUT:-60}
COW_APP=$BENCH_TOP/bench/apps/cow.ru
HELLO_APP=$BENCH_TOP/bench/apps/hello.ru
LOAD="ruby $BENCH_TOP/bench/load.rb"
unset PITCHFORK_REFORK_AFTER PITCHFORK_WORKERS PITCHFORK_LISTEN PITCHFORK_CONFIG

[ -n "$PITCHFORK" ] && [ -x "$PITCHFORK" ] || { echo "pitchfork not built; set PITCHFORK" >&2; exit 1; }

# The final generation REFORK_AFTER leads to: the number of entries before
# "false"; none when it never stops (then the rollout wait is skipped).
final_gen() {
    echo "$1" | awk -F, '$NF == "false" { print NF - 1 }'
}

# titles ROOT: "pid title" of every process of the tree except ROOT.
titles() {
    local p
    for p in $(tree_pids "$1"); do
        [ "$p" = "$1" ] && continue
        printf '%s %s\n' "$p" "$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")"
    done
}

# gen_state ROOT: "molds newest_mold_gen workers min_gen max_gen" from the titles
# "pitchfork (gen:N) mold" and "pitchfork (gen:N) worker[K] ...".
gen_state() {
    titles "$1" | awk '
        /\(gen:[0-9]+\) mold/ {
            m++; match($0, /gen:[0-9]+/); g = substr($0, RSTART + 4, RLENGTH - 4) + 0
            if (mg == "" || g > mg) mg = g
        }
        /\(gen:[0-9]+\) worker\[/ {
            w++; match($0, /gen:[0-9]+/); g = substr($0, RSTART + 4, RLENGTH - 4) + 0
            if (min == "" || g < min) min = g
            if (max == "" || g > max) max = g
        }
        END { printf "%d %s %d %s %s\n", m, (mg == "" ? "-" : mg), w, (min == "" ? "-" : min), (max == "" ? "-" : max) }'
}

# wait_gen ROOT GEN SECONDS: until one mold and WORKERS workers, all at
# GEN.  Prints the milliseconds it took, then those until a mold first
# showed GEN (the promoted worker's title changes once it is the mold);
# returns 1 on timeout.
wait_gen() {
    local root=$1 gen=$2 start deadline st mold_ms=-
    start=$(now_ms)
    deadline=$((start + $3 * 1000))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        st=$(gen_state "$root")
        if [ "$mold_ms" = - ] && echo "$st" | grep -q "^[0-9]* $gen "; then
            mold_ms=$(($(now_ms) - start))
        fi
        if [ "$st" = "1 $gen $WORKERS $gen $gen" ]; then
            echo "$(($(now_ms) - start)) $mold_ms"
            return 0
        fi
        sleep 0.01
    done
    echo "timeout (state: $st)"
    return 1
}

start_cow() {
    local name=$1 app=$2 port=$3
    case $name in
    unicorn)
        unicorn_conf "$WORKERS" "127.0.0.1:$port" >"$BENCH_TMP/unicorn.conf.rb"
        bench_start "$name" "$BENCH_TMP/$name.log" \
            unicorn -E production -c "$BENCH_TMP/unicorn.conf.rb" "$app"
        ;;
    puma)
        local preload=""
        [ "$PUMA_PRELOAD" = 1 ] && preload=--preload
        bench_start "$name" "$BENCH_TMP/$name.log" \
            puma -e production -w "$WORKERS" -t 1:1 $preload \
            -b "tcp://127.0.0.1:$port" "$app"
        ;;
    pitchfork)
        bench_start "$name" "$BENCH_TMP/$name.log" \
            "$PITCHFORK" -E production -w "$WORKERS" -l "127.0.0.1:$port" "$app"
        ;;
    pitchfork-nocompact)
        bench_start "$name" "$BENCH_TMP/$name.log" \
            env PITCHFORK_MOLD_COMPACT=false \
            "$PITCHFORK" -E production -w "$WORKERS" -l "127.0.0.1:$port" "$app"
        ;;
    pitchfork-refork)
        bench_start "$name" "$BENCH_TMP/$name.log" \
            "$PITCHFORK" -E production -w "$WORKERS" -l "127.0.0.1:$port" \
            --refork-after "$REFORK_AFTER" "$app"
        ;;
    esac
}

# breakdown ROOT: one line per process: pid, Pss, Private, Shared, title.
breakdown() {
    local p
    for p in $(tree_pids "$1"); do
        awk -v pid="$p" -v t="$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-60)" '
            /^Pss:/ { pss = $2 }
            /^Private_(Clean|Dirty):/ { priv += $2 }
            /^Shared_(Clean|Dirty):/ { sh += $2 }
            END { printf "    %7d  Pss %8.1f MiB  private %8.1f MiB  shared %8.1f MiB  %s\n",
                  pid, pss / 1024, priv / 1024, sh / 1024, t }' \
            "/proc/$p/smaps_rollup" 2>/dev/null
    done
}

echo "cow-memory: $(nproc) CPUs, $WORKERS workers, COW_METHODS=$COW_METHODS COW_SLICES=$COW_SLICES"
echo "warm-up: $WARMUP_REQUESTS requests + $SETTLE_REQUESTS after any rollout, Connection: close, 4 concurrent"
echo "pitchfork: $PITCHFORK; refork-after $REFORK_AFTER"
echo "versions: $(unicorn -v 2>/dev/null | head -1); $(puma -V 2>/dev/null | head -1); $(ruby -v)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs on this machine skew the timings, not the Pss)"
echo
: >"$BENCH_TMP/pss"

# ---- PSS after warm-up, one server at a time -------------------------------
for s in $SERVERS; do
    port=$(free_port)
    url="http://127.0.0.1:$port/"
    t0=$(now_ms)
    start_cow "$s" "$COW_APP" "$port"
    root=$BENCH_PID
    if ! wait_200 "$url" "$BOOT_TIMEOUT"; then
        echo "$s: no 200 within $BOOT_TIMEOUT s; log:"
        tail -n 20 "$BENCH_TMP/$s.log" | sed 's/^/    /'
        bench_stop "$root"
        continue
    fi
    boot=$(($(now_ms) - t0))
    w0=$(now_ms)
    res=$($LOAD "127.0.0.1:$port" "$WARMUP_REQUESTS" 4)
    warm=$(($(now_ms) - w0))
    extra=""
    fg=""
    [ "$s" = pitchfork-refork ] && fg=$(final_gen "$REFORK_AFTER")
    if [ -n "$fg" ]; then
        # A generation is promoted only once one of its workers served
        # enough requests, and the kernel may have given most of the
        # warm-up to a worker of an older one: send more, a batch at a
        # time, until the rollout to the last generation is over.
        more=0
        while ! ms=$(wait_gen "$root" "$fg" 15); do
            [ "$more" -ge $((10 * WARMUP_REQUESTS)) ] && break
            $LOAD "127.0.0.1:$port" "$SETTLE_REQUESTS" 4 >/dev/null
            more=$((more + SETTLE_REQUESTS))
        done
        extra=" rollout to gen $fg: ${ms%% *} ms after $more more requests"
    fi
    res2=$($LOAD "127.0.0.1:$port" "$SETTLE_REQUESTS" 4)
    [ -n "$fg" ] && wait_gen "$root" "$fg" "$ROLLOUT_TIMEOUT" >/dev/null
    sleep 1
    pss=$(tree_pss_kib "$root")
    echo "$s $pss" >>"$BENCH_TMP/pss"
    printf '%-17s total Pss %8.1f MiB  (first 200 after %d ms, warm-up %d ms [%s], settle [%s])%s\n' \
        "$s" "$(echo "$pss" | awk '{ print $1 / 1024 }')" "$boot" "$warm" "$res" "$res2" "$extra"
    breakdown "$root"
    if [ "$s" = pitchfork-refork ] && [ "$SKIP_EXTRA" != 1 ]; then
        REFORK_ROOT=$root
        REFORK_PORT=$port
    else
        bench_stop "$root"
    fi
done

echo
echo "total Pss of the process tree, and ratio to unicorn"
upss=$(awk '$1 == "unicorn" { print $2 }' "$BENCH_TMP/pss")
while read -r s pss; do
    awk -v s="$s" -v p="$pss" -v u="${upss:-0}" 'BEGIN {
        printf "  %-17s %8.1f MiB", s, p / 1024
        if (u > 0) printf "   %.3f x unicorn", p / u
        printf "\n" }'
done <"$BENCH_TMP/pss"

[ "$SKIP_EXTRA" = 1 ] && exit 0

# ---- refork rollout time and latency during rollouts ----------------------
if [ -n "${REFORK_ROOT:-}" ]; then
    echo
    echo "refork rollout after USR2 to the monitor (pitchfork-refork, cow app, $WORKERS workers)"
    rollouts=""
    for i in $(seq "$ROLLOUT_RUNS"); do
        gen=$(gen_state "$REFORK_ROOT" | awk '{ print $2 }')
        kill -USR2 "$REFORK_ROOT"
        ms=$(wait_gen "$REFORK_ROOT" $((gen + 1)) "$ROLLOUT_TIMEOUT")
        case $ms in
        [0-9]*) echo "  idle rollout gen $gen -> $((gen + 1)): ${ms%% *} ms (new mold's title after ${ms#* } ms)" ;;
        *) echo "  idle rollout gen $gen -> $((gen + 1)): $ms after $ROLLOUT_TIMEOUT s (see the server's log)" ;;
        esac
        case $ms in [0-9]*) rollouts="$rollouts ${ms%% *}" ;; esac
        sleep 0.5
    done
    echo "  idle rollout ms min/median/max: $(stats "$rollouts")"

    url="http://127.0.0.1:$REFORK_PORT/"
    wrk_lat() {
        awk '/^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /^ +Latency +[0-9]/ { max = $4 }
             /requests in/ { n = $1 } /^Requests\/sec/ { r = $2 }
             END { printf "p50 %s p99 %s max %s, %s requests, %s req/s", p50, p99, max, n, r }' "$1"
    }
    timeout 60 wrk -t2 -c4 -d"$WRK_SECONDS"s --latency -H 'Connection: close' "$url" \
        >"$BENCH_TMP/wrk-steady.txt" 2>&1
    echo "  wrk -t2 -c4 -d${WRK_SECONDS}s, no rollout:     $(wrk_lat "$BENCH_TMP/wrk-steady.txt")"
    timeout 60 wrk -t2 -c4 -d"$WRK_SECONDS"s --latency -H 'Connection: close' "$url" \
        >"$BENCH_TMP/wrk-rollout.txt" 2>&1 &
    wrk_pid=$!
    sleep 1
    loaded=""
    molds=""
    n=0
    # Rollouts start 1 s into wrk's run and stop 1 s before its end.
    t_end=$(($(now_ms) + (WRK_SECONDS - 2) * 1000))
    while [ "$(now_ms)" -lt "$t_end" ]; do
        gen=$(gen_state "$REFORK_ROOT" | awk '{ print $2 }')
        kill -USR2 "$REFORK_ROOT"
        ms=$(wait_gen "$REFORK_ROOT" $((gen + 1)) "$ROLLOUT_TIMEOUT") || { echo "  $ms"; break; }
        loaded="$loaded ${ms%% *}"
        molds="$molds ${ms#* }"
        n=$((n + 1))
        sleep 0.3
    done
    wait "$wrk_pid"
    echo "  wrk -t2 -c4 -d${WRK_SECONDS}s, $n rollouts:     $(wrk_lat "$BENCH_TMP/wrk-rollout.txt")"
    echo "  rollout under load ms:$loaded (min/median/max: $(stats "$loaded")); new mold's title after:$molds"
    bench_stop "$REFORK_ROOT"
fi

# ---- time from start to the first 200 --------------------------------------
# Runs take turns (unicorn, pitchfork, pitchfork-nocompact, unicorn, ...),
# so that a change in the machine's load skews every server alike.
STARTUP_SERVERS="unicorn pitchfork pitchfork-nocompact"
echo
echo "time from start to the first 200 (ms; $WORKERS workers; curl polling), min/median/max of $STARTUP_RUNS, runs interleaved"
for app in "$HELLO_APP" "$COW_APP"; do
    : >"$BENCH_TMP/startup"
    for i in $(seq "$STARTUP_RUNS"); do
        for s in $STARTUP_SERVERS; do
            port=$(free_port)
            t0=$(now_ms)
            start_cow "$s" "$app" "$port"
            if wait_200 "http://127.0.0.1:$port/" "$BOOT_TIMEOUT"; then
                echo "$s $(($(now_ms) - t0))" >>"$BENCH_TMP/startup"
            fi
            bench_stop "$BENCH_PID"
        done
    done
    for s in $STARTUP_SERVERS; do
        times=$(awk -v s="$s" '$1 == s { printf " %s", $2 }' "$BENCH_TMP/startup")
        printf '  %-19s %-8s %s   (runs:%s)\n' "$s" "$(basename "$app")" "$(stats "$times")" "$times"
    done
done
