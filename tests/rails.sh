#!/bin/sh
# A real application nobody here wrote: a small Rails API app on the Rails
# that Debian ships (ruby-rails), through Rack::Lint (development) and in
# production, answering several routes from two workers: JSON, a form, a
# file upload, a streamed body and rack.response_finished.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

ruby -e 'require "rails"; require "action_controller/railtie"' 2>/dev/null ||
    skip_all "rails not installed (ruby-rails)"
plan 24
# Rails boots slowly under ASan or on a loaded machine: the default
# spawn_timeout (10 s) bounds the boot, so give it room here.
PITCHFORK_SPAWN_TIMEOUT=120
export PITCHFORK_SPAWN_TIMEOUT

# Rails writes to tmp/ and log/ under its root: use a copy in TMPD.
mkdir -p "$TMPD/app"
cp "$APPS/rails/config.ru" "$TMPD/app/config.ru"
printf 'line one\nline two\n' >"$TMPD/up.txt"

for env in development production; do
    start_server "$TMPD/$env.sock" -w 2 -E "$env" "$TMPD/app/config.ru"
    ok $? "the Rails app boots ($env)"
    hcurl "$(url /)" | grep -q '^hello from rails [0-9]'
    ok $? "GET / ($env)"
    is "$(hcurl "$(url /items/42)" | ruby -rjson -e 'print JSON.parse($stdin.read)["id"]')" \
        42 "a route with a parameter, as JSON ($env)"
    is "$(hcurl -w ' %{http_code}' -H 'Content-Type: application/json' \
        --data-binary '{"name":"fork"}' "$(url /items)")" '{"name":"fork"} 201' \
        "a JSON POST ($env)"
    is "$(hcurl --data-binary 'a=42&b=x%20y' "$(url /form)")" "a=42 b=x y" \
        "a form POST ($env)"
    is "$(hcurl -F "file=@$TMPD/up.txt" "$(url /upload)")" "up.txt 18 line" \
        "a multipart file upload ($env)"
    is "$(hcurl "$(url /stream)" | tr '\n' '|')" "part one|part two|" \
        "a streamed body, ActionController::Live ($env)"
    rm -f "$TMPD/fin"
    is "$(hcurl "$(url "/finished?$TMPD/fin")")" "finishing" \
        "an action adds to rack.response_finished ($env)"
    TIMEOUT=10 wait_for test -s "$TMPD/fin"
    is "$(cat "$TMPD/fin" 2>/dev/null)" "200 nil" \
        "which runs after the response, with its status ($env)"
    is "$(hcurl -o /dev/null -w '%{http_code}' "$(url /missing)")" 404 \
        "an unknown route: 404 ($env)"
    is "$(hcurl -o /dev/null -w '%{http_code}' "$(url /boom)")" 500 \
        "an exception in an action: 500 ($env)"
    ok "$(log_has 'Rack::Lint|\[BUG\]' && echo 1 || echo 0)" "no Lint error or crash ($env)"
    stop_server
done

done_testing
