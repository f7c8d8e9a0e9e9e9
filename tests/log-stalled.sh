#!/bin/sh
# Standard error a pipe whose reader stopped reading: the monitor never
# waits on a log write.  With the pipe full it still reaps and replaces a
# killed worker and stops on SIGTERM; the lines it could not write are
# dropped and counted, and once the pipe is read again it says how many
# ("N log lines dropped while the log was not read").  The workers and
# the mold write to the same pipe and may block in their own process.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 8

ERR=$TMPD/err
mkfifo "$ERR" || echo "Bail out! mkfifo"
# Held open, read and write, so that opening it never waits, and never
# read; its buffer shrunk to one page, so that a few lines fill it.
exec 7<>"$ERR"
ruby -e 'File.open(ARGV[0], File::RDWR) { |f| f.fcntl(1031, 4096) }' "$ERR" ||
    echo "Bail out! F_SETPIPE_SZ on the FIFO"

SERVER_LISTEN=$TMPD/s.sock
"$PITCHFORK" -l "$SERVER_LISTEN" -w 2 -t 5 "$APPS/procs.ru" \
    >"$TMPD/out.log" 2>"$ERR" &
SERVER_PID=$!
KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
wait_for server_answers && kill -0 "$SERVER_PID" 2>/dev/null ||
    echo "Bail out! the server did not start"
KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"

# workers N: the server has N workers
workers() { [ "$(worker_pids | grep -c .)" = "$1" ]; }
# cycles N: N times a worker more, then one less (each logs a few
# lines: 10 times is more than the pipe holds); false when one was not
# answered.
cycles() {
    for i in $(seq "$1"); do
        kill -TTIN "$SERVER_PID"
        wait_for workers 3 || return 1
        kill -TTOU "$SERVER_PID"
        wait_for workers 2 || return 1
    done
}
cycles 10
ok $? "TTIN and TTOU are answered with the log's pipe full"

victim=$(worker_pids | head -1)
kill -KILL "$victim"
# A child the monitor did not reap stays a zombie that kill -0 finds.
wait_for sh -c "! kill -0 $victim 2>/dev/null"
ok $? "a killed worker is reaped"
replaced() { [ "$(worker_pids | grep -c -v -x " *$victim")" = 2 ]; }
wait_for replaced
r=$?
ok $r "and replaced"
[ $r = 0 ] || diag "$(titles)"
is "$(hcurl "$(url /)" | cut -d' ' -f1)" hello "the server serves"

# The reader is back: the monitor says what it dropped.
cat "$ERR" >"$TMPD/err.out" &
reader=$!
KNOWN_PIDS="$KNOWN_PIDS $reader"
kill -TTIN "$SERVER_PID"
wait_for grep -E -q 'event=log log_lines_dropped=[1-9][0-9]* msg="[1-9][0-9]* log lines dropped while the log was not read"' "$TMPD/err.out"
r=$?
ok $r "once the pipe is read, the monitor says how many lines it dropped"
[ $r = 0 ] || diag "$(cat "$TMPD/err.out")"
grep -q 'now 3 workers' "$TMPD/err.out"
ok $? "and logs again"

# Stalled again: SIGTERM still stops everything.
kill "$reader"
wait "$reader" 2>/dev/null
cycles 10
kill -TERM "$SERVER_PID"
if wait_for server_gone; then
    ok 0 "SIGTERM stops the server with the log's pipe full"
    wait "$SERVER_PID"
    is $? 0 "with status 0"
    SERVER_PID=""
else
    ok 1 "SIGTERM stops the server with the log's pipe full"
    skip "the server did not stop (the trap kills it)"
fi
exec 7>&-
done_testing
