# Helpers shared by the benchmark scripts (bench/*.sh): start servers in
# the background, wait for them, walk their process trees through /proc,
# read CPU time and PSS, and kill by PID whatever was started.
# Sourced, never run.  Needs bash, curl, ruby and Linux /proc.
# SPDX-License-Identifier: MIT
#
#   bench_start NAME LOG CMD...   start CMD in the background; sets
#                                 BENCH_PID and remembers it for cleanup
#   bench_stop PID                TERM the tree of PID, wait (bounded),
#                                 then KILL what is left of that tree
#   tree_pids PID                 PID and all its descendants, one a line
#   tree_ticks PID                utime+stime+cutime+cstime of that tree,
#                                 in clock ticks
#   tree_pss_kib PID              sum of Pss (KiB) over that tree
#   pss_kib PID                   Pss (KiB) of one process
#   free_port                     an unused 127.0.0.1 TCP port
#   wait_200 URL SECONDS          poll until URL answers 200 (bounded)
#   now_ms                        CLOCK_MONOTONIC-ish milliseconds
#   stats "v1 v2 ..."             "min median max" of numbers

BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${PITCHFORK:=}"
if [ -z "$PITCHFORK" ]; then
    for p in "$BENCH_TOP/build/src/pitchfork" "$BENCH_TOP/src/pitchfork"; do
        if [ -x "$p" ]; then
            PITCHFORK=$p
            break
        fi
    done
fi
: "${PITCHFORK:=$(command -v pitchfork || true)}"
CLK_TCK=$(getconf CLK_TCK)
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pfbench.XXXXXX") || exit 1
BENCH_STARTED=""
BENCH_PID=""
BENCH_KEEP_TMP=${BENCH_KEEP_TMP:-0}

# All processes as "pid ppid", read once.  The comm field may hold spaces
# and parentheses, so everything up to the last ") " is cut first.
_proc_table() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk '{ pid = $1; sub(/^.*\) /, ""); print pid, $2 }'
}

tree_pids() {
    _proc_table | awk -v root="$1" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            intree[root] = 1
            print root
            # Repeat until no new descendant is found (bounded by depth).
            do {
                changed = 0
                for (i = 1; i <= NR; i++) {
                    p = pids[i]
                    if (!(p in intree) && (parent[p] in intree)) {
                        intree[p] = 1
                        print p
                        changed = 1
                    }
                }
            } while (changed)
        }'
}

tree_ticks() {
    local pids sum=0 p t
    pids=$(tree_pids "$1")
    for p in $pids; do
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' \
            "/proc/$p/stat" 2>/dev/null) || continue
        [ -n "$t" ] && sum=$((sum + t))
    done
    echo "$sum"
}

pss_kib() {
    awk '/^Pss:/ { print $2; found = 1 } END { if (!found) print 0 }' \
        "/proc/$1/smaps_rollup" 2>/dev/null || echo 0
}

tree_pss_kib() {
    local sum=0 p k
    for p in $(tree_pids "$1"); do
        k=$(pss_kib "$p")
        sum=$((sum + ${k:-0}))
    done
    echo "$sum"
}

free_port() {
    ruby -rsocket -e 's = TCPServer.new("127.0.0.1", 0); puts s.addr[1]; s.close'
}

now_ms() {
    local s ns
    read -r s ns < <(date +'%s %N')
    echo $((s * 1000 + 10#$ns / 1000000))
}

# wait_200 URL SECONDS: 0 once URL answers 200, 1 after SECONDS.
wait_200() {
    local deadline code
    deadline=$(($(now_ms) + $2 * 1000))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            -H 'Connection: close' "$1" 2>/dev/null)
        [ "$code" = 200 ] && return 0
        sleep 0.005
    done
    return 1
}

bench_start() {
    local name=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 </dev/null &
    BENCH_PID=$!
    BENCH_STARTED="$BENCH_STARTED $BENCH_PID"
    echo "started $name: pid $BENCH_PID ($*)" >>"$BENCH_TMP/started.log"
}

# bench_stop PID: graceful first (TERM; QUIT for nginx is not needed),
# at most 10 s, then KILL every process of the tree as it was before.
bench_stop() {
    local root=$1 pids i
    [ -n "$root" ] || return 0
    kill -0 "$root" 2>/dev/null || return 0
    pids=$(tree_pids "$root")
    kill -TERM "$root" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$root" 2>/dev/null || break
        sleep 0.1
    done
    for p in $pids; do
        kill -KILL "$p" 2>/dev/null
    done
    wait "$root" 2>/dev/null
    BENCH_STARTED=$(echo "$BENCH_STARTED" | tr ' ' '\n' | grep -vx "$root" | tr '\n' ' ')
}

bench_cleanup() {
    local p
    for p in $BENCH_STARTED; do
        bench_stop "$p"
    done
    if [ "$BENCH_KEEP_TMP" = 1 ]; then
        echo "logs kept in $BENCH_TMP" >&2
    else
        rm -rf "$BENCH_TMP"
    fi
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM HUP

# stats "v1 v2 ...": prints "min median max".
stats() {
    echo "$1" | tr ' ' '\n' | grep -v '^$' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.6g %.6g %.6g\n", v[1], m, v[NR]
        }'
}

# The unicorn configuration the benchmarks use: WORKERS, preload, LISTEN.
unicorn_conf() {
    cat <<EOF
worker_processes $1
preload_app true
listen "$2"
timeout 60
EOF
}
