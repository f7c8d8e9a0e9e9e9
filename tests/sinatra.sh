#!/bin/sh
# A real application nobody here wrote: Sinatra (Debian ruby-sinatra),
# through Rack::Lint, answering several routes: forms, JSON, a file
# upload, a streamed body, rack.response_finished.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

ruby -e 'require "sinatra/base"' 2>/dev/null || skip_all "sinatra not installed (ruby-sinatra)"
plan 17

start_server "$TMPD/s.sock" -w 2 -E development "$APPS/sinatra.ru"
ok $? "the Sinatra app boots"

is "$(hcurl "$(url /)")" "hello from sinatra" "GET /"
is "$(hcurl "$(url /hello/pitchfork)")" "hello pitchfork" "a route with a parameter"
is "$(hcurl "$(url '/query?q=a%20b')")" "q=a b" "a query parameter"
is "$(hcurl --data-binary 'a=42&b=1' "$(url /echo)")" "8 42" "a form POST"
is "$(hcurl -H 'Content-Type: application/json' --data-binary '{"name":"fork"}' "$(url /json)")" \
    '{"name":"fork","size":15}' "a JSON POST read from request.body"
printf 'line one\nline two\n' >"$TMPD/up.txt"
is "$(hcurl -F "file=@$TMPD/up.txt" "$(url /upload)")" "up.txt 18 line" \
    "a multipart file upload"
is "$(hcurl "$(url /json)" | ruby -rjson -e 'print JSON.parse($stdin.read)["path"]')" \
    "/json" "JSON with content_type"
is "$(hcurl -o /dev/null -w '%{http_code} %{redirect_url}' "$(url /redirect)")" \
    "302 http://localhost/" "a redirect"
is "$(hcurl -o /dev/null -w '%{http_code}' "$(url /teapot)")" 418 "halt 418"
is "$(hcurl "$(url /stream)" | tr '\n' '|')" "part one|part two|" "a streamed response"
is "$(hcurl "$(url "/finished?$TMPD/fin")")" "finishing" "a route adds to rack.response_finished"
TIMEOUT=10 wait_for test -s "$TMPD/fin"
is "$(cat "$TMPD/fin" 2>/dev/null)" "200 nil" "which runs after the response, with its status"
is "$(hcurl -o /dev/null -w '%{http_code}' "$(url /missing)")" 404 "not_found"
is "$(hcurl -o /dev/null -w '%{http_code}' -I "$(url /)")" 200 "HEAD /"
is "$(hcurl -o /dev/null -w '%{http_code}' "$(url /boom)")" 500 "an exception in a route: 500"
ok "$(log_has 'Lint' && echo 1 || echo 0)" "no Rack::Lint error"
stop_server

done_testing
