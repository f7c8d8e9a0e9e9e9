#!/bin/sh
# A rackup file that cannot load (syntax error, missing gem, exception,
# missing file) makes the server exit non-zero with the Ruby error, its
# backtrace and the file in the log, and leaves no process behind.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 12

# boot FILE: run the server on FILE until it exits; prints the status.
boot() {
    (cd "$TMPD" && exec timeout "$TIMEOUT" "$PITCHFORK" -w 1 \
        -l "$TMPD/s.sock" "$1" >"$SERVER_LOG" 2>&1)
    echo $?
    sanitizer_check >&2
}
# Processes whose working directory is $TMPD: the server's, if any left.
leftovers() {
    for d in /proc/[0-9]*; do
        [ "$(readlink "$d/cwd" 2>/dev/null)" = "$TMPD" ] && echo "${d#/proc/}"
    done
}

printf 'run lambda { |env|\n  [200, {}, ["x"]\n' >"$TMPD/syntax.ru"
st=$(boot "$TMPD/syntax.ru")
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "syntax error: exits non-zero ($st)"
log_has 'SyntaxError'
ok $? "the SyntaxError is logged"
log_has 'syntax.ru:[0-9]+'
ok $? "with the file and line"
is "$(leftovers)" "" "no process left behind"

printf 'require "no_such_gem_here"\nrun ->(e) { [200, {}, []] }\n' >"$TMPD/gem.ru"
st=$(boot "$TMPD/gem.ru")
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "missing gem: exits non-zero ($st)"
log_has 'cannot load such file -- no_such_gem_here \(LoadError\)'
ok $? "the LoadError is logged"
log_has 'gem.ru:1'
ok $? "with the backtrace into the rackup file"

printf '# a comment\nraise ArgumentError, "bad config"\n' >"$TMPD/raise.ru"
st=$(boot "$TMPD/raise.ru")
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "exception at load: exits non-zero ($st)"
log_has 'bad config \(ArgumentError\).*raise.ru:2'
ok $? "the exception, its class and the line are logged"

st=$(boot "$TMPD/missing.ru")
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "missing rackup file: exits non-zero ($st)"
log_has 'missing.ru.*(ENOENT|No such file)'
ok $? "the missing file is named"
is "$(leftovers)" "" "no process left behind"

done_testing
