#!/bin/sh
# The Rack env built in C: every key of the SPEC and pitchfork's own, the
# header rules (joins, Cookie, "_" dropped, CONTENT_*), the scheme from
# the proxy headers, Host and absolute-form, HTTP/1.0, on a UNIX socket
# (through Rack::Lint: RACK_ENV development) and on TCP.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 44

j() { ruby "$top_srcdir/tests/jget.rb" "$TMPD/out.json" "$@"; }

start_server "$TMPD/s.sock" -w 1 -E development "$APPS/env.ru"
ok $? "server starts on a UNIX socket (development: Rack::Lint)"

hcurl -o "$TMPD/out.json" "$(url '/a/b%20c?x=1&y=2')"
ok $? "GET through Rack::Lint"
is "$(j REQUEST_METHOD)" GET "REQUEST_METHOD"
is "$(j SCRIPT_NAME)" "" "SCRIPT_NAME is empty"
is "$(j PATH_INFO)" "/a/b%20c" "PATH_INFO is not decoded"
is "$(j QUERY_STRING)" "x=1&y=2" "QUERY_STRING"
is "$(j REQUEST_URI)" "/a/b%20c?x=1&y=2" "REQUEST_URI"
is "$(j SERVER_PROTOCOL)" "HTTP/1.1" "SERVER_PROTOCOL"
is "$(j REMOTE_ADDR)" "127.0.0.1" "REMOTE_ADDR on a UNIX socket"
is "$(j SERVER_NAME SERVER_PORT | tr '\n' ' ')" "localhost 80 " \
    "SERVER_NAME and SERVER_PORT from Host"
is "$(j rack.url_scheme)" http "rack.url_scheme"
is "$(j rack.multithread rack.multiprocess rack.run_once | tr '\n' ' ')" \
    "false true false " "multithread, multiprocess, run_once"
is "$(j rack.hijack?)" true "rack.hijack?"
is "$(j rack.version)" "[1,3]" "rack.version"
is "$(j pitchfork.listener)" "http" "pitchfork.listener names the listener"
is "$(j _worker_nr)" 0 "Pitchfork::Info.worker_nr"
is "$(j _worker | cut -d, -f1-2)" "[0,0" "env[pitchfork.worker]: nr, generation"
n0=$(j _worker | tr -d '[]' | cut -d, -f3)
is "$(j _encoding.PATH_INFO)" "UTF-8" "ASCII values are UTF-8"
is "$(j rack.after_reply rack.response_finished | tr '\n' ' ')" "[] [] " \
    "rack.after_reply and rack.response_finished"
is "$(j CONTENT_LENGTH HTTP_CONTENT_LENGTH)" "<absent>
<absent>" "no CONTENT_LENGTH without a body"

hcurl -o "$TMPD/out.json" -H 'Cookie: a=1' -H 'Cookie: b=2' \
    -H 'X-Multi: 1' -H 'X-Multi: 2' -H 'X-Forwarded_For: 6.6.6.6' \
    -H 'X-Real-Ip: 10.0.0.1' -H 'Version: 9' -H 'Accept-Language: fr' \
    -H 'Content-Type: text/x-test' --data-binary 'hello body' \
    "$(url /post)"
ok $? "POST with repeated and odd headers"
is "$(j HTTP_COOKIE)" "a=1; b=2" "Cookie fields joined with '; '"
is "$(j HTTP_X_MULTI)" "1, 2" "repeated fields joined with ', '"
is "$(j HTTP_X_FORWARDED_FOR)" "<absent>" "a header name with '_' is dropped"
is "$(j HTTP_X_REAL_IP HTTP_ACCEPT_LANGUAGE | tr '\n' ' ')" "10.0.0.1 fr " \
    "other headers as HTTP_*"
is "$(j HTTP_VERSION)" "HTTP/1.1" "a Version field does not override HTTP_VERSION"
is "$(j CONTENT_TYPE CONTENT_LENGTH | tr '\n' ' ')" "text/x-test 10 " \
    "CONTENT_TYPE and CONTENT_LENGTH"
is "$(j HTTP_CONTENT_TYPE HTTP_CONTENT_LENGTH | tr '\n' ' ')" \
    "<absent> <absent> " "not as HTTP_CONTENT_*"
is "$(j _input)" "hello body" "rack.input reads the body"

hcurl -o "$TMPD/out.json" -H 'X-Forwarded-Proto: https' -H 'Host: ex.com' \
    "$(url /)"
is "$(j rack.url_scheme SERVER_NAME SERVER_PORT | tr '\n' ' ')" \
    "https ex.com 443 " "X-Forwarded-Proto: https"
hcurl -o "$TMPD/out.json" -H 'X-Forwarded-Ssl: on' -H 'Host: [::1]:8443' \
    "$(url /)"
is "$(j rack.url_scheme SERVER_NAME SERVER_PORT | tr '\n' ' ')" \
    "https [::1] 8443 " "X-Forwarded-Ssl: on, IPv6 Host with a port"

printf 'GET /old HTTP/1.0\r\n\r\n' | raw --body >"$TMPD/out.json"
is "$(j SERVER_PROTOCOL HTTP_HOST | tr '\n' ' ')" "HTTP/1.0 <absent> " \
    "HTTP/1.0 without Host"
is "$(j SERVER_NAME SERVER_PORT | tr '\n' ' ')" "localhost 80 " \
    "SERVER_NAME and SERVER_PORT from the listener"

printf 'GET http://example.org:8080/abs?q=1 HTTP/1.1\r\nHost: other\r\n\r\n' |
    raw --body >"$TMPD/out.json"
is "$(j HTTP_HOST SERVER_NAME SERVER_PORT PATH_INFO QUERY_STRING | tr '\n' ' ')" \
    "example.org:8080 example.org 8080 /abs q=1 " \
    "absolute-form: the authority wins over Host"

hcurl -o "$TMPD/out.json" "$(url /)"
is "$(j _worker | tr -d '[]' | cut -d, -f3)" "$((n0 + 6))" \
    "requests_count counts requests"
ok "$(log_has 'Lint' && echo 1 || echo 0)" "no Rack::Lint error in the log"
stop_server

port=$(free_port)
start_server "127.0.0.1:$port" -w 1 -E production "$APPS/env.ru"
ok $? "server starts on TCP (production: no Lint)"
hcurl -o "$TMPD/out.json" "$(url /tcp)"
is "$(j REMOTE_ADDR SERVER_NAME SERVER_PORT | tr '\n' ' ')" \
    "127.0.0.1 127.0.0.1 $port " "REMOTE_ADDR, SERVER_NAME, SERVER_PORT on TCP"
is "$(j rack.input rack.hijack pitchfork.timeout | tr '\n' ' ')" \
    "Pitchfork::Input Pitchfork::Hijack Pitchfork::TimeoutHandler " \
    "pitchfork's own objects without Lint"
is "$(j _errors_is_stderr)" true "rack.errors is \$stderr"
is "$(j SERVER_SOFTWARE | cut -d' ' -f1)" pitchfork "SERVER_SOFTWARE"
is "$(j rack.early_hints)" "<absent>" "no rack.early_hints unless enabled"
printf 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n' | raw --body >"$TMPD/out.json"
is "$(j REQUEST_URI PATH_INFO | tr '\n' ' ')" "* <absent> " \
    "OPTIONS *: no PATH_INFO (Rack < 3.2)"
stop_server
ok "$(server_gone && echo 0 || echo 1)" "the server stops on TERM"

done_testing
