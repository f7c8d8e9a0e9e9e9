#!/bin/sh
# A NOTIFY_SOCKET whose reader never reads (systemd stuck, or a container
# manager that set it and reads slowly): once its queue is full, the
# monitor goes on without waiting for it.  It still promotes a worker
# past refork_after, replaces a killed worker and stops on SIGTERM, and
# says once that the notifications wait.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 6

# A stalled NOTIFY_SOCKET (lib-server.sh).
stalled_notify "$TMPD/notify.sock"

NOTIFY_SOCKET=$TMPD/notify.sock \
    start_server "$TMPD/s.sock" -w 2 --refork-after 10,false "$APPS/procs.ru"
for i in $(seq 30); do hcurl -o /dev/null "$(url /)"; done
wait_for all_gen 1 3
ok $? "a worker past refork_after is promoted, and gen 1 rolls out"
wait_for log_has "systemd's notification socket is full"
ok $? "the monitor says once that notifications wait"

victim=$(worker_pids | head -1)
kill -KILL "$victim"
wait_for sh -c "! kill -0 $victim 2>/dev/null"
wait_for log_has "pid $victim \(gen 1\) killed by signal 9"
ok $? "a killed worker is reaped and logged while the queue is full"
wait_for all_gen 1 3
ok $? "and replaced"

kill -TERM "$SERVER_PID"
if TIMEOUT=20 wait_for server_gone; then
    ok 0 "SIGTERM stops the server while the queue is full"
    wait "$SERVER_PID"
    is $? 0 "with status 0"
    SERVER_PID=""
else
    ok 1 "SIGTERM stops the server while the queue is full"
    skip "the server did not stop (the trap kills it)"
fi
done_testing
