#!/bin/sh
# rack.hijack (full and partial, 101 with a partial hijack),
# rack.early_hints (103), rack.after_reply and rack.response_finished
# callbacks, and env["pitchfork.timeout"].
# Through Rack::Lint (development), on TCP.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 17

port=$(free_port)
PITCHFORK_EARLY_HINTS=true start_server "127.0.0.1:$port" -w 1 \
    -E development "$APPS/hijack.ru"
ok $? "server starts with early_hints"

out=$(printf 'GET /full HTTP/1.1\r\nHost: x\r\n\r\n' | raw)
is "$out" "$(printf 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhijack')" \
    "full hijack: the app writes everything, the server nothing"
out=$(printf 'GET /partial HTTP/1.1\r\nHost: x\r\n\r\n' | raw | tr -d '\r')
is "$(printf '%s\n' "$out" | head -1)" "HTTP/1.1 200 OK" "partial hijack: the server writes the head"
is "$(printf '%s\n' "$out" | tail -1)" "partial hijack" "then the app writes on the socket"

out=$(printf 'GET /upgrade HTTP/1.1\r\nHost: x\r\n\r\n' | raw | tr -d '\r')
is "$(printf '%s\n' "$out" | head -1)" "HTTP/1.1 101 Switching Protocols" \
    "101 with a partial hijack: the server writes the head"
ok "$(printf '%s\n' "$out" | grep -q '^upgrade: example$' && echo 0 || echo 1)" \
    "with the app's Upgrade field"
is "$(printf '%s\n' "$out" | tail -1)" "new protocol" "then the app speaks on the socket"
is "$(printf '%s\n' "$out" | grep -i '^connection:')" "Connection: upgrade" \
    "no Connection: close but the upgrade option the sender of Upgrade owes"
out=$(printf 'GET /upgrade?conn HTTP/1.1\r\nHost: x\r\n\r\n' | raw | tr -d '\r')
is "$(printf '%s\n' "$out" | grep -i '^connection:')" "connection: Upgrade" \
    "a 101 keeps the app's Connection field (RFC 9110 section 7.8)"

out=$(printf 'GET /hints HTTP/1.1\r\nHost: x\r\n\r\n' | raw | tr -d '\r')
is "$(printf '%s\n' "$out" | sed -n '1,3p' | tr '\n' '|')" \
    "HTTP/1.1 103 Early Hints|link: </style.css>; rel=preload; as=style||" \
    "early hints: a 103 with the Link header"
is "$(printf '%s\n' "$out" | sed -n '4p')" "HTTP/1.1 200 OK" "then the final response"
out=$(printf 'GET /hints HTTP/1.0\r\n\r\n' | raw | tr -d '\r' | head -1)
is "$out" "HTTP/1.1 200 OK" "no 103 to an HTTP/1.0 client"

is "$(hcurl "$(url "/after_reply?$TMPD/ar")")" "replied" "after_reply request"
TIMEOUT=10 wait_for test -f "$TMPD/ar"
is "$(cat "$TMPD/ar" 2>/dev/null)" "after_reply ran" "rack.after_reply callback ran"
hcurl -o /dev/null -H 'X-Fail: 1' "$(url "/finished?$TMPD/rf")"
TIMEOUT=10 wait_for test -f "$TMPD/rf"
is "$(cat "$TMPD/rf" 2>/dev/null)" "500 RuntimeError /finished" \
    "rack.response_finished gets env, status and the error"
is "$(hcurl "$(url /timeout)")" 5 "pitchfork.timeout extend_deadline(5)"
is "$(hcurl "$(url /other)")" "hijack app" "the worker still serves"
stop_server

done_testing
