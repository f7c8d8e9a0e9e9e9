#!/bin/sh
# The README's 5-minute tour, as a script: start pitchfork on the example
# app, look at its processes, send USR2 and watch the generation change.
# Every command is printed before it runs.  tests/readme-tour.sh runs it.
#
#   examples/tour.sh [PORT]       (default 8080; uses build/src/pitchfork)
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."
PORT=${1:-8080}
PITCHFORK=${PITCHFORK:-build/src/pitchfork}
LOG=$(mktemp "${TMPDIR:-/tmp}/pitchfork-tour.XXXXXX")

run() {
    echo "\$ $*"
    "$@"
}

titles() {
    echo "\$ ps -o pid,ppid,args --ppid $PID"
    ps -o pid,ppid,args --ppid "$PID"
}

# wait_gen N: until every worker's title shows generation N (at most 30 s)
wait_gen() {
    i=0
    while [ "$(ps -o args= --ppid "$PID" | grep -c "(gen:$1) worker")" -lt 2 ]; do
        i=$((i + 1))
        [ "$i" -lt 300 ] || { echo "tour: generation $1 never came" >&2; exit 1; }
        sleep 0.1
    done
}

echo "\$ $PITCHFORK -w 2 -l 127.0.0.1:$PORT examples/hello/config.ru 2>$LOG &"
"$PITCHFORK" -w 2 -l "127.0.0.1:$PORT" examples/hello/config.ru 2>"$LOG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$LOG"' EXIT
wait_gen 0
run curl -s "http://127.0.0.1:$PORT/"
titles
echo "# USR2 promotes the busiest worker to be the mold of generation 1;"
echo "# the other worker is replaced by a fork of it."
run kill -USR2 "$PID"
wait_gen 1
titles
run curl -s "http://127.0.0.1:$PORT/"
echo "\$ grep -E 'event=(promote|refork)' $LOG"
grep -E 'event=(promote|refork)' "$LOG"
echo "# TERM: a graceful stop"
run kill -TERM "$PID"
wait "$PID"
echo "tour: pitchfork exited with status $?"
trap - EXIT
rm -f "$LOG"
