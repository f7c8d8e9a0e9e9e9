#!/bin/sh
# cgroup limits from fake v1 and v2 trees (PITCHFORK_CGROUP_ROOT and
# PITCHFORK_CGROUP_SELF): the start-up line, the default worker count,
# the "auto" worker memory cap (derived again after TTIN and HUP), a refork when memory.current nears the
# limit; and a worker over an explicit memory cap is replaced.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lib-server.sh"

plan 17

APP="$top_srcdir/tests/systemd/app/config.ru"
CPUS=$(nproc)
CG=$TMPD/cg

# ---- v1: memory and cpu controllers, 0.5 CPU -----------------------------
mkdir -p "$CG/memory/app" "$CG/cpu/app"
printf '12:memory:/app\n4:cpu,cpuacct:/app\n1:name=systemd:/app\n0::/\n' \
    >"$TMPD/self-v1"
echo 536870912 >"$CG/memory/app/memory.limit_in_bytes"
echo 10000000 >"$CG/memory/app/memory.usage_in_bytes"
echo 50000 >"$CG/cpu/app/cpu.cfs_quota_us"
echo 100000 >"$CG/cpu/app/cpu.cfs_period_us"
PITCHFORK_CGROUP_ROOT=$CG PITCHFORK_CGROUP_SELF=$TMPD/self-v1 \
    start_server "$TMPD/v1.sock" "$APP"
log_has 'msg="cgroup v1: memory limit 536870912, memory high unlimited, cpu quota 0.5; 1 workers; worker memory cap none"'
ok $? "v1: the start-up line shows the limits"
# Count them once every worker the monitor wanted is ready.
wait_for log_has 'msg="[0-9]* workers ready \(gen 0\)"'
is "$(worker_pids | wc -l)" 1 "v1: a 0.5 CPU quota means 1 worker"
stop_server

# ---- v2: 2 CPUs, 1 GiB, auto cap, memory pressure --------------------------
mkdir -p "$CG/system.slice/app.service"
V2=$CG/system.slice/app.service
printf '0::/system.slice/app.service\n' >"$TMPD/self-v2"
echo 1073741824 >"$V2/memory.max"
echo max >"$V2/memory.high"
echo 100000000 >"$V2/memory.current"
echo "200000 100000" >"$V2/cpu.max"
want=$((CPUS < 2 ? CPUS : 2))
PITCHFORK_CGROUP_ROOT=$CG PITCHFORK_CGROUP_SELF=$TMPD/self-v2 \
    PITCHFORK_WORKER_MEMORY_MAX=auto PITCHFORK_REFORK_AFTER=1000000 \
    start_server "$TMPD/v2.sock" "$APP"
log_has "msg=\"cgroup v2: memory limit 1073741824, memory high unlimited, cpu quota 2; $want workers; worker memory cap auto\""
ok $? "v2: the start-up line shows the limits"
wait_for log_has 'msg="[0-9]* workers ready \(gen 0\)"'
is "$(worker_pids | wc -l)" "$want" "v2: a 2 CPU quota means min(2, $CPUS) workers"
auto=$(sed -n 's/.*mold_uss=\([0-9]*\) msg="worker_memory_max=auto: \([0-9]*\) bytes = (memory limit 1073741824 - mold \1) \/ ('"$want"' workers + 1)".*/\1 \2/p' "$SERVER_LOG")
mold=${auto% *}
cap=${auto#* }
ok "$([ -n "$mold" ] && [ "$mold" -gt 0 ] && echo 0 || echo 1)" \
    "auto: the mold's private memory is measured ($mold bytes)"
is "$cap" "$(((1073741824 - ${mold:-0}) / (want + 1)))" \
    "auto: cap = (limit - mold) / (workers + 1)"
log_has 'event=memory'
ok $((!$?)) "no memory event below 90% of the limit"
printf 'anon 1\ninactive_file 200000000\n' >"$V2/memory.stat"
echo 990000000 >"$V2/memory.current"
sleep 1.5 # two once-a-second checks
log_has 'event=memory'
ok $((!$?)) "no refork while inactive page cache keeps the usage below 90%"
echo 'inactive_file 1000000' >"$V2/memory.stat"
wait_for log_has 'event=memory cgroup_memory_current=990000000 cgroup_memory_inactive_file=1000000 cgroup_memory_limit=1073741824 msg="the cgroup uses 989000000 of 1073741824 bytes, not counting 1000000 of inactive page cache: reforking'
ok $? "memory.current less inactive_file above 90% of memory.max: a refork"
wait_for log_has 'refork done: every worker is gen 1'
ok $? "the refork completes"
sleep 1.5 # two more once-a-second checks, still above the limit
is "$(grep -c 'reforking to re-share' "$SERVER_LOG")" 1 \
    "at most one such refork per spawn_timeout"
echo 100000000 >"$V2/memory.current"
kill -TTIN "$SERVER_PID"
wait_for log_has "msg=\"worker_memory_max=auto: [0-9]+ bytes = \\(memory limit 1073741824 - mold [0-9]+\\) / \\($((want + 1)) workers \\+ 1\\)"
ok $? "TTIN: the auto cap is derived again for $((want + 1)) workers"
kill -HUP "$SERVER_PID"
wait_for log_has 'reload done'
wait_for sh -c "[ \$(grep -c 'worker_memory_max=auto: ' '$SERVER_LOG') -ge 3 ]"
ok $? "HUP: the reloaded application's mold is measured and the cap derived again"
stop_server

# ---- an explicit cap: a worker holding more is replaced --------------------
PITCHFORK_WORKER_MEMORY_MAX=48M start_server "$TMPD/cap.sock" -w 1 "$APP"
pid=$(hcurl "$(url /pid)")
is "$(hcurl "$(url /alloc?mb=64)")" "holding 64 MiB" "a request allocates 64 MiB"
wait_for log_has "event=memory rss=[0-9]+ uss=[0-9]+ memory_max=50331648 msg=\"worker 0 pid $pid has"
ok $? "the worker over 48M is logged (event=memory, rss, uss)"
wait_for log_has "worker 0 pid $pid \\(gen 0\\) exited with status 0"
ok $? "it exits gracefully"
new=$(hcurl "$(url /pid)")
ok "$([ -n "$new" ] && [ "$new" != "$pid" ] && echo 0 || echo 1)" \
    "a new worker from the mold serves ($pid -> $new)"
stop_server
done_testing
