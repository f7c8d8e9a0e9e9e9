#!/bin/sh
# The README's benchmark commands run, cut down to seconds: every server
# starts, answers and is measured, every section of the report is there,
# and no process a benchmark started outlives it.  No number is judged:
# timings on a shared machine are not a test.
# SPDX-License-Identifier: MIT
. "$top_srcdir/tests/tap.sh"
for c in bash wrk unicorn puma nginx curl; do
    command -v "$c" >/dev/null 2>&1 ||
        skip_all "$c not found (tools/setup-deps installs the benchmarks' peers)"
done
plan 12

T=$(mktemp -d "${TMPDIR:-/tmp}/pfbsmoke.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

# run NAME SCRIPT: the script with a private TMPDIR whose files it keeps
# (BENCH_KEEP_TMP), so that started.log lists every server it started.
run() {
    mkdir -p "$T/$1"
    TMPDIR="$T/$1" BENCH_KEEP_TMP=1 timeout 300 bash "$top_srcdir/bench/$2" \
        >"$T/$1.out" 2>&1
}
# leftovers NAME: the PIDs the script started that are still alive.
leftovers() {
    for p in $(sed -n 's/^started [^:]*: pid \([0-9]*\) .*/\1/p' "$T/$1"/*/started.log); do
        ! kill -0 "$p" 2>/dev/null || echo "$p"
    done
}
# has NAME ERE: the report has a line matching ERE.
has() { grep -E -q -- "$2" "$T/$1.out"; }

DURATION=1s WARMUP=1s run tp throughput.sh
ok $? "bench/throughput.sh exits 0"
n=$(grep -E -c '^run 1 +(nginx|unicorn|puma|pitchfork) +[1-9][0-9]* requests' "$T/tp.out")
is "$n" 4 "nginx, unicorn, puma and pitchfork each served requests"
has tp '^pitchfork +[0-9.]+ / [0-9.]+ / [0-9.]+ +[0-9.]+ / [0-9.]+ / [0-9.]+$'
ok $? "the report has pitchfork's ratios to unicorn"
is "$(leftovers tp)" "" "no server outlives bench/throughput.sh"

COW_METHODS=2000 COW_SLICES=10 WORKERS=2 WARMUP_REQUESTS=200 \
    SETTLE_REQUESTS=20 REFORK_AFTER=20,false STARTUP_RUNS=1 ROLLOUT_RUNS=1 \
    WRK_SECONDS=3 run cow cow-memory.sh
ok $? "bench/cow-memory.sh exits 0"
n=$(grep -E -c '^  (unicorn|puma|pitchfork|pitchfork-refork) +[0-9.]+ MiB +[0-9.]+ x unicorn$' "$T/cow.out")
is "$n" 4 "a total Pss and its ratio to unicorn for the four servers"
has cow 'rollout to gen 1: [0-9]+ ms'
ok $? "the reforking pitchfork reaches its last generation"
has cow '^  idle rollout gen 1 -> 2: [0-9]+ ms'
ok $? "a USR2 rollout is timed"
has cow '^  wrk -t2 -c4 -d3s, [1-9][0-9]* rollouts: +p50 [0-9.]+[mu]s p99'
ok $? "latency under wrk is measured during rollouts"
n=$(grep -E -c '^  (unicorn|pitchfork|pitchfork-nocompact) +(hello|cow)\.ru +[0-9]+ [0-9]+ [0-9]+ ' "$T/cow.out")
is "$n" 6 "time to the first 200 for three servers and two apps"
! has cow 'timeout|no 200'
ok $? "no server missed a deadline"
is "$(leftovers cow)" "" "no server outlives bench/cow-memory.sh"

[ "$tap_failed" -eq 0 ] || { diag "$(cat "$T/tp.out")"; diag "$(cat "$T/cow.out")"; }
done_testing
