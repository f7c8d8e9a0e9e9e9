#!/bin/sh
# worker_memory_hard_max outside a real systemd: without systemd (no
# INVOCATION_ID) it is a boot warning that says why, and the server
# serves; with a fake delegated v1 tree (PITCHFORK_CGROUP_ROOT,
# PITCHFORK_CGROUP_SELF) each worker is put in its cgroup worker-N with
# the limit, and a SIGKILL while that cgroup's oom_kill counter moved is
# logged as event=oom and the worker replaced.  (The kernel's own OOM
# kill is tested under systemd: tests/systemd/oom.sh.)
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/lib-server.sh"

plan 11

APP="$top_srcdir/tests/systemd/app/config.ru"

# ---- not under systemd: a warning, and it serves ---------------------------
unset INVOCATION_ID
PITCHFORK_WORKER_MEMORY_HARD_MAX=64M start_server "$TMPD/warn.sock" -w 1 "$APP"
log_has 'level=warn role=monitor pid=[0-9]+ msg="worker_memory_hard_max is ignored: not started by systemd as a service, so no cgroup is delegated to it \(Delegate=yes\)"'
ok $? "without systemd: a boot warning naming the setting and why"
ok "$([ -n "$(hcurl "$(url /pid)")" ] && echo 0 || echo 1)" "and the server serves"
stop_server

# ---- the configuration file's DSL, an Integer of bytes -----------------------
echo 'worker_memory_hard_max 64 << 20' >"$TMPD/c.rb"
start_server "$TMPD/dsl.sock" -w 1 -c "$TMPD/c.rb" "$APP"
log_has 'msg="worker_memory_hard_max is ignored: not started by systemd'
ok $? "worker_memory_hard_max 64 << 20 in the configuration file is read"
stop_server

# ---- a percentage without a memory limit ------------------------------------
CG=$TMPD/cg
mkdir -p "$CG/memory/app"
printf '4:memory:/app\n0::/\n' >"$TMPD/self-v1"
: >"$CG/memory/app/cgroup.procs"
INVOCATION_ID=fake PITCHFORK_CGROUP_ROOT=$CG PITCHFORK_CGROUP_SELF=$TMPD/self-v1 \
    PITCHFORK_WORKER_MEMORY_HARD_MAX=25% start_server "$TMPD/pct.sock" -w 1 "$APP"
log_has 'msg="worker_memory_hard_max is ignored: 25% of no memory limit: the service.s cgroup has none \(MemoryMax=\)"'
ok $? "25% without a memory limit: a boot warning"
stop_server

# ---- a fake delegated v1 tree ----------------------------------------------
W=$CG/memory/app/worker-0
mkdir -p "$W"
echo 1073741824 >"$CG/memory/app/memory.limit_in_bytes"
echo 9223372036854771712 >"$W/memory.limit_in_bytes"
: >"$W/cgroup.procs"
printf 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n' >"$W/memory.oom_control"
INVOCATION_ID=fake PITCHFORK_CGROUP_ROOT=$CG PITCHFORK_CGROUP_SELF=$TMPD/self-v1 \
    PITCHFORK_WORKER_MEMORY_HARD_MAX=25% start_server "$TMPD/v1.sock" -w 1 "$APP"
log_has 'memory_hard_max=268435456 msg="worker_memory_hard_max: each worker in its own cgroup \(v1\) with a memory limit of 268435456 bytes"'
ok $? "25% of a 1 GiB limit: 256 MiB a worker, logged at boot"
pid=$(hcurl "$(url /pid)")
is "$(cat "$W/memory.limit_in_bytes")" 268435456 \
    "worker 0's cgroup has the limit"
is "$(cat "$W/cgroup.procs")" "$pid" "worker 0 entered it itself"
printf 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n' >"$W/memory.oom_control"
kill -KILL "$pid"
wait_for log_has "worker=0 gen=0 pid=[0-9]+ event=oom child_pid=$pid memory_hard_max=268435456 oom_kills=1 msg=\"worker 0 pid $pid \\(gen 0\\) was killed by the kernel at worker_memory_hard_max 268435456 bytes: replacing it\""
ok $? "SIGKILL with the oom_kill counter moved: event=oom, worker, generation, limit"
new=$(hcurl "$(url /pid)")
ok "$([ -n "$new" ] && [ "$new" != "$pid" ] && echo 0 || echo 1)" \
    "the worker is replaced ($pid -> $new)"
is "$(cat "$W/cgroup.procs")" "$new" "its replacement entered the cgroup"
kill -KILL "$new"
wait_for log_has "worker 0 pid $new \\(gen 0\\) killed by signal 9"
is "$(grep -c 'event=oom' "$SERVER_LOG")" 1 \
    "a SIGKILL with the counter still: no oom event"
stop_server
done_testing
