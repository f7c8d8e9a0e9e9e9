#!/bin/sh
# worker_memory_hard_max under a real systemd, booted in a throw-away
# container with tests/systemd/sdct after "make install DESTDIR=...":
# with Delegate=yes each worker lives in its own memory cgroup with the
# limit; a request that grows past it gets its worker OOM-killed by the
# kernel (its client sees the connection closed, no response), while a
# request on the other worker is answered, the service stays active,
# the journal has PITCHFORK_EVENT=oom with the worker, its generation and
# the limit, and the worker is replaced.  The unit runs as root: on
# cgroup v1 (these machines) systemd does not hand the memory hierarchy
# to an unprivileged user, even with Delegate=yes.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/systemd/lib-container.sh"
CT_TIMEOUT=60
ct_prefix
plan 13

ct_setup pfoom
# ocurl PATH CURL-ARGS...: a request to the service on its UNIX socket
ocurl() {
    p=$1
    shift
    in_ct curl -m 30 --unix-socket /run/pitchfork/oom.sock "$@" "http://localhost$p"
}

ct_boot --bind-ro="$top_srcdir/tests/systemd/app:/srv/oom"

# The drop-in pitchfork@.service(8) gives for worker_memory_hard_max, as
# root (see above), two workers with a 96 MiB hard cap each.
in_ct sh -c '
d=/etc/systemd/system/pitchfork@oom.service.d
mkdir -p $d
printf "[Service]\nDelegate=yes\nProtectControlGroups=no\nDynamicUser=no\nMemoryMax=512M\n" >$d/hard-max.conf
mkdir -p /etc/pitchfork
printf "PITCHFORK_WORKERS=2\nPITCHFORK_WORKER_MEMORY_HARD_MAX=96M\nRACK_ENV=production\n" >/etc/pitchfork/oom.conf
systemctl daemon-reload'
in_ct systemctl start pitchfork@oom
wait_for status_has pitchfork@oom '2/2 workers ready'
has_msg pitchfork@oom '^worker_memory_hard_max: each worker in its own cgroup \(v[12]\) with a memory limit of 100663296 bytes$'
ok $? "the hard cap is set up at boot: 96M a worker"

# Where the workers are: their own cgroups, with the limit.
pids=$(in_ct sh -c 'for p in $(pgrep -f "pitchfork.*worker\[[01]\]"); do grep -E "memory:|^0::" /proc/$p/cgroup | head -1; done')
case "$pids" in
*/worker-0*/worker-1* | */worker-1*/worker-0*) r=0 ;;
*) r=1 ;;
esac
ok $r "each worker is in its own cgroup: $(echo "$pids" | tr '\n' ' ')"

# One worker sleeps in a request while the other grows past its cap.
ocurl "/sleep?s=3" -sS -o /tmp/slow.out &
slow=$!
wait_for has_msg pitchfork@oom '^sleep-start$'
ocurl "/grow?mb=300" -sS -o /tmp/grow.out 2>"$T/grow.err"
rc=$?
diag "the client of the runaway request: curl exit $rc, $(cat "$T/grow.err")"
ok "$([ "$rc" = 52 ] || [ "$rc" = 56 ] && echo 0 || echo 1)" \
    "the runaway request gets no response: the connection is closed"
wait "$slow"
is "$(in_ct cat /tmp/slow.out)" "slept" "the request on the other worker is answered"
is "$(in_ct systemctl is-active pitchfork@oom)" "active" "the service stays active"

has_oom() { journal -u pitchfork@oom PITCHFORK_EVENT=oom | grep -q '^ *PITCHFORK_EVENT=oom$'; }
wait_for has_oom
v=$(journal -u pitchfork@oom PITCHFORK_EVENT=oom)
ok "$(printf '%s\n' "$v" | grep -q 'PITCHFORK_WORKER=[01]$' &&
    printf '%s\n' "$v" | grep -q 'PITCHFORK_GENERATION=0$' &&
    printf '%s\n' "$v" | grep -q 'PITCHFORK_MEMORY_HARD_MAX=100663296$' &&
    printf '%s\n' "$v" | grep -q 'PITCHFORK_OOM_KILLS=1$'; echo $?)" \
    "PITCHFORK_EVENT=oom with PITCHFORK_WORKER, _GENERATION, _MEMORY_HARD_MAX, _OOM_KILLS"
has_msg pitchfork@oom 'worker [01] pid [0-9]+ \(gen 0\) was killed by the kernel at worker_memory_hard_max 100663296 bytes: replacing it$'
ok $? "its message names the worker, its generation and the limit"
has_msg pitchfork@oom 'worker [01] pid [0-9]+ \(gen 0\) killed by signal 9 \(Killed\)$'
ok $? "the worker's exit: SIGKILL"
wait_for status_has pitchfork@oom '2/2 workers ready'
ok $? "the worker is replaced: 2/2 workers ready"
is "$(ocurl "/grow?mb=10" -sS)" "grew 10 MiB" "and the service serves"

# A refork: the promoted worker, now the mold, leaves its worker cgroup.
in_ct systemctl kill -s USR2 --kill-whom=main pitchfork@oom
wait_for has_msg pitchfork@oom 'refork done: every worker is gen 1'
ok $? "systemctl kill -s USR2: a refork to gen 1"
mold=$(in_ct sh -c 'grep -E "memory:|^0::" /proc/$(pgrep -f "pitchfork \(gen:1\) mold")/cgroup | head -1')
case "$mold" in
*/pitchfork@oom.service | */pitchfork@oom.service/monitor) r=0 ;;
*) r=1 ;;
esac
ok $r "the promoted mold is back in the service's cgroup: $mold"
cgs=$(in_ct sh -c 'ls -d /sys/fs/cgroup/memory/system.slice/system-pitchfork.slice/pitchfork@oom.service/worker-* /sys/fs/cgroup/system.slice/system-pitchfork.slice/pitchfork@oom.service/worker-* 2>/dev/null | wc -l')
is "$cgs" 2 "one cgroup a worker: those of exited workers are removed"

[ "$tap_failed" = 0 ] || dump
done_testing
