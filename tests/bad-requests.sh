#!/bin/sh
# Malformed requests never reach the app: the parser's status (400, 414,
# 431, 501, 505, and 400 for a bad Host) with a short body, logged at info with the client's bytes
# escaped; clients that stall or leave are dropped; the worker goes on.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 17

status() { raw | head -1 | tr -d '\r'; }

start_server "$TMPD/s.sock" -w 1 -E production "$APPS/response.ru"
ok $? "server starts"

is "$(printf 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n' | status)" \
    "HTTP/1.1 400 Bad Request" "a field without a colon: 400"
is "$(printf 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n' | status)" \
    "HTTP/1.1 400 Bad Request" "Content-Length with Transfer-Encoding: 400"
is "$(printf 'GET /%09000d HTTP/1.1\r\nHost: x\r\n\r\n' 0 | status)" \
    "HTTP/1.1 414 URI Too Long" "a 9000-byte target: 414"
is "$(ruby -e 'print "GET / HTTP/1.1\r\nHost: x\r\n"; 200.times { |i| print "X-H#{i}: v\r\n" }; print "\r\n"' | status)" \
    "HTTP/1.1 431 Request Header Fields Too Large" "200 header fields: 431"
is "$(ruby -e 'print "GET / HTTP/1.1\r\nHost: x\r\n"; 20.times { |i| print "X-H#{i}: #{"v" * 8000}\r\n" }; print "\r\n"' | status)" \
    "HTTP/1.1 431 Request Header Fields Too Large" "a 160 KB head: 431"
is "$(printf 'GET / HTTP/2.0\r\nHost: x\r\n\r\n' | status)" \
    "HTTP/1.1 505 HTTP Version Not Supported" "HTTP/2.0 in HTTP/1 syntax: 505"
is "$(printf 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' | status | cut -c1-12)" \
    "HTTP/1.1 501" "an unknown transfer coding before chunked: 501"
is "$(printf 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n' | status)" \
    "HTTP/1.1 400 Bad Request" "chunked not final: 400 (RFC 9112 section 6.3)"
is "$(printf 'GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n' | status)" \
    "HTTP/1.1 400 Bad Request" "HTTP/1.1 without Host: 400 (RFC 9112 section 3.2)"
is "$(printf 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' | status)" \
    "HTTP/1.1 400 Bad Request" "two Host fields: 400"
is "$(printf 'GET / HTTP/1.0\r\n\r\n' | raw | tail -1)" "GET /" \
    "HTTP/1.0 without Host is served"
printf 'GET\001 / HTTP/1.1\r\n\r\n' | raw >/dev/null
log_has 'bad request \(400 .*GET\\\\x01'
ok $? "logged at info with the client's bytes escaped"

printf 'GET / HTTP/1.1\r\nHost: x\r\n' | raw >/dev/null
ok $? "a client that leaves mid-head is dropped"
printf '' | raw >/dev/null
ok $? "a client that sends nothing is dropped"
is "$(hcurl "$(url /fine)")" "GET /fine" "the worker serves the next request"
ok "$(log_has 'level=err' && echo 1 || echo 0)" "none of it is an error in the log"
stop_server

done_testing
