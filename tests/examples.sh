#!/bin/sh
# The shipped examples work: examples/rails/config/pitchfork.rb loads with
# its hooks and examples/app.conf's settings are all accepted.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"
plan 5

start_server "$TMPD/s.sock" -c "$top_srcdir/examples/rails/config/pitchfork.rb" \
    -w 2 "$top_srcdir/examples/hello/config.ru"
ok $? "the server starts with examples/rails/config/pitchfork.rb"
is "$(hcurl "$(url /)")" Hello "and serves the example app"
wait_for log_has 'INFO -- : worker 1 ready'
ok $? "its after_worker_ready hook logs through the server's logger"
ok "$(log_has 'level=(err|warn)' && echo 1 || echo 0)" "no warning or error"
stop_server

# Every line of the EnvironmentFile example is a setting pitchfork takes.
env_out=$(env -i PATH="$PATH" sh -c "set -a; . '$top_srcdir/examples/app.conf'; \
    exec '$PITCHFORK' --help" 2>&1)
ok $? "examples/app.conf's settings are accepted ($(echo "$env_out" | head -1))"
done_testing
