#!/bin/sh
# Under the journal (PITCHFORK_LOG=journal), the application's output is
# entries of its own: a Logger on the standard streams gives each
# message the priority of its severity, keeps its level and formatter
# and drops the default formatter's time; writes to $stdout, $stderr,
# STDERR and rack.errors are one entry per call; an exception and its
# backtrace are one entry; a Logger on a file and a reopened stream are
# untouched.  Run in a private mount namespace with a tmpfs on /run and
# tests/journal-listen.rb as journald's native socket.
# SPDX-License-Identifier: MIT
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$top_srcdir/tests/tap.sh"

if [ -z "${PF_JOURNAL_NS:-}" ]; then
    command -v unshare >/dev/null 2>&1 || skip_all "unshare not found (util-linux)"
    unshare -m true 2>/dev/null ||
        skip_all "unshare -m is not permitted here (it needs root)"
    PF_JOURNAL_NS=1 exec unshare -m sh "$0" "$@"
fi
# In the namespace (private propagation): the host's /run is untouched.
if ! mount -t tmpfs -o mode=0755 tmpfs /run || ! mkdir -p /run/systemd/journal; then
    echo "Bail out! cannot mount a tmpfs on /run in the namespace"
    exit 1
fi
. "$top_srcdir/tests/lib-server.sh"

plan 27

J="$TMPD/journal.jsonl"
ruby "$top_srcdir/tests/journal-listen.rb" /run/systemd/journal/socket "$J" \
    "$((TIMEOUT * 4))" 2>"$TMPD/listen.err" &
KNOWN_PIDS="$KNOWN_PIDS $!"
wait_for test -S /run/systemd/journal/socket ||
    { diag "$(cat "$TMPD/listen.err")"; echo "Bail out! the listener did not start"; exit 1; }

# entries TEXT: each entry whose MESSAGE has TEXT, one a line, as
# "PRIORITY STREAM ROLE WORKER MESSAGE" (MESSAGE inspected: \n shows).
entries() {
    ruby -rjson -e '
        File.foreach(ARGV[1]) do |l|
          e = JSON.parse(l)
          next unless e["MESSAGE"].to_s.include?(ARGV[0])
          puts [e["PRIORITY"], e["PITCHFORK_STREAM"] || "-", e["PITCHFORK_ROLE"],
                e["PITCHFORK_WORKER"] || "-", e["MESSAGE"].inspect].join(" ")
        end' "$1" "$J"
}
in_journal() { grep -q -- "$1" "$J"; }

cat >"$TMPD/pitchfork.rb" <<EOF
require "logger"
logger Logger.new(\$stdout)
after_request_complete do |s, w, env|
  raise ArgumentError, "hook-marker" if env["PATH_INFO"] == "/raise"
end
EOF
export JOURNAL_TEST_FILE="$TMPD/file.log"
PITCHFORK_LOG=journal start_server "$TMPD/s.sock" -w 1 -c "$TMPD/pitchfork.rb" \
    "$APPS/journal.ru"
wait_for in_journal '1 workers ready'
ok $? "the server's own lines reach the journal"

# ---- Logger --------------------------------------------------------------
is "$(hcurl "$(url /logger)")" "ok" "an application that logs answers"
wait_for in_journal raw-marker
is "$(entries error-marker)" '3 stdout worker 0 "error-marker"' \
    "Logger.new(\$stdout).error: priority 3, the message alone"
is "$(entries info-marker)" '6 stdout worker 0 "info-marker"' "info: priority 6"
is "$(entries debug-marker)" "" "a debug message below the Logger's level is not sent"
is "$(entries multi-marker)" '4 stdout worker 0 "multi-marker line 1\nline 2"' \
    "warn: priority 4; a two-line message is one entry"
is "$(entries fatal-marker)" '2 stderr worker 0 "prog: fatal-marker"' \
    "Logger.new(STDERR, progname:).fatal: priority 2, the progname kept"
is "$(entries custom-marker)" '4 stdout worker 0 "custom WARN custom-marker"' \
    "a formatter the application set is kept, less its newline"
is "$(entries raw-marker)" '6 stdout worker 0 "raw-marker"' \
    "Logger#<< is a write to the stream"
is "$(entries file-marker)" "" "a Logger on a file sends nothing to the journal"
grep -q '^E, \[.*\] ERROR -- : file-marker$' "$JOURNAL_TEST_FILE"
ok $? "and writes its file as before"

# ---- the standard streams --------------------------------------------------
is "$(hcurl "$(url /streams)")" "ok" "an application that writes to its streams answers"
wait_for in_journal rack-errors-marker
is "$(entries stdout-marker)" '6 stdout worker 0 "stdout-marker"' "\$stdout.puts: priority 6"
is "$(entries stderr-marker)" '4 stderr worker 0 "stderr-marker"' "\$stderr.puts: priority 4"
is "$(entries const-marker)" '4 stderr worker 0 "const-marker"' "STDERR.write: priority 4"
is "$(entries part1-marker)" '6 stdout worker 0 "part1-marker part2"' \
    "a line written in two calls is one entry"
is "$(entries two-marker)" '4 stderr worker 0 "two-marker\nlines"' \
    "two lines written in one call are one entry"
is "$(entries warn-marker)" '4 stderr worker 0 "warn-marker"' "Kernel#warn: priority 4"
is "$(entries rack-errors-marker)" '4 stderr worker 0 "rack-errors-marker"' \
    "rack.errors: priority 4"
is "$(entries reopened-marker)" "" "a stream reopened onto a file sends nothing"
grep -q '^reopened-marker$' "$JOURNAL_TEST_FILE"
ok $? "and writes to its file"
is "$(hcurl "$(url /io)")" "1 2 2 true true false" \
    "fileno, sync and tty? of the streams are as without the journal"

# ---- exceptions --------------------------------------------------------------
is "$(hcurl -o /dev/null -w '%{http_code}' "$(url /raise)")" 500 "an exception gives a 500"
wait_for in_journal hook-marker
e=$(entries boom-marker)
case "$e" in
'3 - worker 0 "app error: boom-marker (ArgumentError)\n\tfrom '*'journal.ru:'[0-9]*) r=0 ;;
*) r=1 ;; esac
ok $r "the exception and its backtrace are one entry at priority 3"
[ $r = 0 ] || diag "$e"
e=$(entries hook-marker)
case "$e" in
'3 stdout worker 0 "after_request_complete hook error: hook-marker (ArgumentError)\n\tfrom '*pitchfork.rb:[0-9]*) r=0 ;;
*) r=1 ;; esac
ok $r "a hook's exception, through the configured Logger, is one entry at priority 3"
[ $r = 0 ] || diag "$e"
hcurl -o /dev/null "$(url /thread)"
wait_for in_journal thread-marker
e=$(entries thread-marker)
case "$e" in
'4 stderr worker 0 "#<Thread:'*' terminated with exception (report_on_exception is true):\n'*'thread-marker (ArgumentError)'*) r=0 ;;
*) r=1 ;; esac
ok $r "Ruby's report of a dead thread is one entry, a warning"
[ $r = 0 ] || diag "$e"
stop_server

# ---- Logger loaded before the server's boot ----------------------------------
RUBYOPT=-rlogger PITCHFORK_LOG=journal start_server "$TMPD/s2.sock" -w 1 \
    "$APPS/journal.ru"
hcurl -o /dev/null "$(url /logger)"
wait_for sh -c "[ \"\$(grep -c error-marker '$J')\" = 2 ]"
is "$(entries error-marker | tail -1)" '3 stdout worker 0 "error-marker"' \
    "RUBYOPT=-rlogger: a Logger loaded before the boot is routed too"
stop_server
[ -s "$TMPD/listen.err" ] && diag "$(cat "$TMPD/listen.err")"
done_testing
