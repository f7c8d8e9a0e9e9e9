#!/bin/sh
# The benchmarks, cut down to seconds: bench/run --quick runs every one
# of them once (the warm-up after a deploy, scale, the real apps, the
# lifecycle under load, the parser, bench/throughput.sh and
# bench/cow-memory.sh), writes its report and its plots, and no process
# it started outlives it.  No number is judged: timings on a shared
# machine are not a test.
# SPDX-License-Identifier: MIT
. "$top_srcdir/tests/tap.sh"
for c in bash ruby wrk unicorn puma nginx curl; do
    command -v "$c" >/dev/null 2>&1 ||
        skip_all "$c not found (tools/setup-deps installs the benchmarks' peers)"
done
plan 14

T=$(mktemp -d "${TMPDIR:-/tmp}/pfbsmoke.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

# The runner with a private TMPDIR whose files it keeps (BENCH_KEEP_TMP),
# so that every started.log (its own, and those of the shell scripts it
# runs) lists every process it started.
mkdir -p "$T/tmp" "$T/results"
TMPDIR="$T/tmp" BENCH_KEEP_TMP=1 BENCH_RESULTS="$T/results" \
    timeout 600 "$top_srcdir/bench/run" --quick >"$T/run.out" 2>&1
ok $? "bench/run --quick exits 0"
R=$T/results/latest.md
[ -s "$R" ]
ok $? "it writes latest.md"
# has ERE: the report has a line matching ERE.
has() { grep -E -q -- "$1" "$R"; }
has '^\| CPU \| .+ \|$' && has '^\| cores \| [0-9]+ \|$' &&
    has '^\| memory \| [0-9.]+ GiB \|$' && has '^\| kernel \| Linux ' &&
    has '^\| load average before \| [0-9.]+ ' && has '^\| load average after \| [0-9.]+ '
ok $? "the machine and the load average before and after"
has '^\| unicorn \| unicorn v' && has '^\| puma \| puma version' &&
    has '^\| nginx \| nginx version' && has '^\| upstream pitchfork \| '
ok $? "the peers' versions"
has '^\| 50/s \| reload \| pitchfork, refork_after [0-9,]+ \| [0-9.]+ / '
ok $? "warm-up: pitchfork's latency after a reload"
has '^\| 2 \| unicorn, preload_app true \| [0-9]+ / [0-9]+ / [0-9]+ \| [0-9.]+ / '
ok $? "scale: unicorn's req/s, CPU and Pss at 2 workers"
has '^\| (Sinatra|Rails) \| pitchfork, refork_after [0-9,]+ \| [0-9]+ / '
ok $? "a real application"
has '^\| USR2 refork \| [0-9.]+ / [0-9.]+ / [0-9.]+ \| '
ok $? "lifecycle: a refork rolled out under load"
has '^\| overall \|  \| [0-9]+ / [0-9]+ / [0-9]+ \| [0-9]+ / '
ok $? "the parser against memchr"
has '^## 6\. bench/throughput\.sh' && has '^## 7\. bench/cow-memory\.sh' &&
    ! has '^(skip|.*: no 200|.*timeout)'
ok $? "bench/throughput.sh and bench/cow-memory.sh ran, every server answered"
if command -v gnuplot >/dev/null 2>&1; then
    n=$(ls "$T/results"/*.png 2>/dev/null | wc -l)
    is "$n" 4 "four plots: latency after a start and a deploy, req/s and Pss vs workers"
else
    skip "gnuplot not found (Debian gnuplot-nox): no plots"
fi

# leftovers: the PIDs started (by bench/run and the scripts it ran) that
# are still alive.
leftovers() {
    find "$T/tmp" -name started.log -exec cat {} + |
        sed -n 's/^started [^:]*: pid \([0-9]*\) .*/\1/p' |
        while read -r p; do
            ! kill -0 "$p" 2>/dev/null || echo "$p"
        done
}
is "$(leftovers)" "" "no process bench/run started outlives it"

# The warm-up app reports the endpoints a process holds warm: after a
# request, and in a forked child with what it inherited, before it
# serves (the runner counts workers forked from a warm mold as warm).
mkdir -p "$T/state"
pids=$(WARMUP_STATE_DIR="$T/state" WARMUP_STRINGS=10 timeout 60 ruby -e '
    def run(_app); end
    eval(File.read(ARGV[0]), binding, ARGV[0])
    WarmupApp.call("PATH_INFO" => "/e/3")
    WarmupApp.call("PATH_INFO" => "/e/4")
    pid = fork { sleep 0.1 }
    Process.wait(pid)
    puts "#{Process.pid} #{pid}"' "$top_srcdir/bench/apps/warmup.ru" 2>&1)
set -- $pids
is "$(cat "$T/state/$1" 2>/dev/null)" 2 "warm-up app: a process that served two endpoints reports 2"
is "$(cat "$T/state/${2:-none}" 2>/dev/null)" 2 "and a child it forks reports them too, before serving"

[ "$tap_failed" -eq 0 ] || { diag "$(cat "$T/run.out")"; diag "$(cat "$R" 2>/dev/null)"; }
done_testing
