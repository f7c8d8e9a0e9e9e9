# Helpers for the integration tests: start the real server in the
# background on a UNIX socket or 127.0.0.1, wait until it answers, talk
# to it, and clean up by PID.  Sourced by tests/*.sh after tests/tap.sh.
# SPDX-License-Identifier: MIT
#
#   start_server LISTEN [ARGS...]   LISTEN is /path.sock or 127.0.0.1:PORT;
#                                   bails out when it does not start
#   stop_server                     TERM, wait (bounded), then KILL by PID
#   free_port                       an unused 127.0.0.1 port number
#   hcurl ARGS...                   curl against the server, bounded
#   raw [ARGS...] < REQUEST         raw bytes in, raw response out
#   worker_pids                     PIDs of the server's workers
#   log_has REGEX                   the server log matches REGEX
#   wait_for CMD...                 retry CMD until it succeeds (bounded)

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PITCHFORK:=$top_builddir/src/pitchfork}"
APPS="$top_srcdir/tests/apps"
TIMEOUT=${TEST_TIMEOUT:-30}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/pftest.XXXXXX") || exit 1
SERVER_PID=""
SERVER_LISTEN=""
SERVER_LOG="$TMPD/server.log"
KNOWN_PIDS=""

command -v ruby >/dev/null 2>&1 || skip_all "ruby not found"
command -v curl >/dev/null 2>&1 || skip_all "curl not found"
[ -x "$PITCHFORK" ] || skip_all "$PITCHFORK not built"

# Every PID this test started, with the server's children, is killed.
cleanup() {
    stop_server
    for p in $KNOWN_PIDS; do
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The server's children (mold and workers) right now.
server_children() {
    [ -n "$SERVER_PID" ] && ps -o pid= --ppid "$SERVER_PID" 2>/dev/null
}

worker_pids() {
    [ -n "$SERVER_PID" ] || return 0
    ps -o pid=,args= --ppid "$SERVER_PID" 2>/dev/null |
        awk '/worker\[/ { print $1 }'
}

# The mold: the oldest child titled as one.  A worker the mold has just
# forked carries the mold's title until it sets its own, so "oldest"
# matters.
mold_pid() {
    [ -n "$SERVER_PID" ] || return 0
    ps -o pid=,args= --ppid "$SERVER_PID" --sort=start_time 2>/dev/null |
        awk '/ mold( |$)/ { print $1; exit }'
}

log_has() {
    grep -E -q -- "$1" "$SERVER_LOG"
}

# wait_for CMD...: retry (every 0.1 s, at most TIMEOUT s) until CMD works.
wait_for() {
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt $((TIMEOUT * 10)) ] || return 1
        sleep 0.1
    done
}

free_port() {
    ruby -rsocket -e 's = TCPServer.new("127.0.0.1", 0); puts s.addr[1]; s.close'
}

hcurl() {
    case "$SERVER_LISTEN" in
    /*) curl -sS --max-time "$TIMEOUT" --unix-socket "$SERVER_LISTEN" "$@" ;;
    *) curl -sS --max-time "$TIMEOUT" "$@" ;;
    esac
}

# The base URL for hcurl: the host part is ignored on a UNIX socket.
url() {
    case "$SERVER_LISTEN" in
    /*) echo "http://localhost$1" ;;
    *) echo "http://$SERVER_LISTEN$1" ;;
    esac
}

raw() {
    timeout "$TIMEOUT" ruby "$top_srcdir/tests/rawclient.rb" "$SERVER_LISTEN" "$@"
}

server_answers() {
    kill -0 "$SERVER_PID" 2>/dev/null || return 0 # dead: stop waiting
    hcurl -o /dev/null --max-time 2 "$(url /__ready)"
}

start_server() {
    SERVER_LISTEN=$1
    shift
    "$PITCHFORK" -l "$SERVER_LISTEN" "$@" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
    if ! wait_for server_answers || ! kill -0 "$SERVER_PID" 2>/dev/null; then
        diag "the server did not start; its log:"
        diag "$(cat "$SERVER_LOG")"
        echo "Bail out! the server did not start"
        exit 1
    fi
    KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"
}

server_gone() {
    ! kill -0 "$SERVER_PID" 2>/dev/null
}

# A sanitizer report in the log fails the whole test (done_testing).
sanitizer_check() {
    if grep -E -q 'runtime error:|AddressSanitizer|\[BUG\]' "$SERVER_LOG"; then
        diag "sanitizer or Ruby [BUG] report in the server log:"
        diag "$(grep -E -A20 'runtime error:|AddressSanitizer|\[BUG\]' "$SERVER_LOG" | head -40)"
        tap_failed=$((tap_failed + 1))
    fi
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"
    kill -TERM "$SERVER_PID" 2>/dev/null
    TIMEOUT=10 wait_for server_gone || kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    sanitizer_check
}

# ---- process-model helpers ------------------------------------------------
#   titles                          one line per server child: its cmdline
#   gen_count GEN                   children whose title says (gen:GEN)
#   all_gen GEN N                   exactly N children, all of gen GEN
#   stalled_notify PATH             a datagram socket at PATH that nobody
#                                   reads (a stalled NOTIFY_SOCKET)
#   start_loop [PATH] / stop_loop   a background client loop, running
#                                   once start_loop returns; stop_loop
#                                   prints "OK FAILED"

titles() {
    for p in $(server_children); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null && echo
    done
}

gen_count() {
    titles | grep -c "(gen:$1)"
}

all_gen() {
    t=$(titles)
    [ "$(printf '%s\n' "$t" | grep -c "(gen:$1) ")" = "$2" ] &&
        [ "$(printf '%s\n' "$t" | grep -c .)" = "$2" ] &&
        ! printf '%s\n' "$t" | grep -q booting
}

# A datagram socket that is never read: its queue holds
# net.unix.max_dgram_qlen messages (10 by default), then senders wait.
stalled_notify() {
    ruby -rsocket -e 's = Socket.new(:UNIX, :DGRAM)
        s.bind(Socket.sockaddr_un(ARGV[0]))
        sleep' "$1" &
    KNOWN_PIDS="$KNOWN_PIDS $!"
    wait_for test -S "$1" || echo "Bail out! no notify socket"
}

LOOP_PID=""
start_loop() {
    rm -f "$TMPD/loop.stop" "$TMPD/loop.out" "$TMPD/loop.out.started"
    timeout "$((TIMEOUT * 4))" ruby "$top_srcdir/tests/clientloop.rb" "$SERVER_LISTEN" \
        "$TMPD/loop.stop" "$TMPD/loop.out" "${1:-/}" 2>"$TMPD/loop.err" &
    LOOP_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $LOOP_PID"
    wait_for test -e "$TMPD/loop.out.started"
}

# (Often called in $(...), a subshell that cannot wait for the loop.)
stop_loop() {
    touch "$TMPD/loop.stop"
    wait_for test -s "$TMPD/loop.out"
    cat "$TMPD/loop.out" 2>/dev/null || echo "0 -1"
    [ -s "$TMPD/loop.err" ] && diag "$(cat "$TMPD/loop.err")"
    LOOP_PID=""
}
