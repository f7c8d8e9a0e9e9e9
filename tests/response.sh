#!/bin/sh
# Responses: status line and reason, Date and Connection: close, Content-
# Length for Array bodies, chunked each-bodies, Rack 3 streaming bodies,
# HEAD/204/304 without a body, Rack 2 and 3 repeated headers, empty
# values, refused headers (500), body.close always, exceptions (500, then
# the next request is fine), status 100 (one more call, then final), 600
# and up (500), and a body reaching the client in pieces.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 54

# head PATH [CURL ARGS]: the response head, CRs removed.
head_of() {
    p=$1
    shift
    hcurl -s -D - -o /dev/null "$@" "$(url "$p")" | tr -d '\r'
}
has() { printf '%s\n' "$1" | grep -q -i -E -- "$2" && echo 0 || echo 1; }
lacks() { printf '%s\n' "$1" | grep -q -i -E -- "$2" && echo 1 || echo 0; }
count() { printf '%s\n' "$1" | grep -c -i -E -- "$2"; }

start_server "$TMPD/s.sock" -w 1 -E production "$APPS/response.ru"
ok $? "server starts (production: no Lint, so pitchfork's checks answer)"

h=$(head_of /array)
is "$(printf '%s\n' "$h" | head -1)" "HTTP/1.1 200 OK" "status line with reason"
ok "$(has "$h" '^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$')" "Date"
ok "$(has "$h" '^Connection: close$')" "Connection: close"
ok "$(has "$h" '^Content-Length: 12$')" "Content-Length for an Array body"
is "$(hcurl "$(url /array)")" "hello world" "the Array body"

h=$(head_of /each)
ok "$(has "$h" '^Transfer-Encoding: chunked$')" "an each-body without length is chunked"
is "$(hcurl "$(url /each)")" "one two" "the chunked body, empty parts skipped"
out=$(printf 'GET /each HTTP/1.0\r\n\r\n' | raw)
ok "$(lacks "$out" 'Transfer-Encoding')" "not chunked for HTTP/1.0"
is "$(printf '%s' "$out" | tail -1)" "one two" "close-delimited for HTTP/1.0"
h=$(head_of /each_length)
ok "$(has "$h" '^content-length: 8$')" "the app's Content-Length is kept"
ok "$(lacks "$h" 'Transfer-Encoding')" "and nothing is chunked"

is "$(hcurl "$(url /stream)")" "streamed body" "Rack 3 streaming body (call(stream))"
is "$(head_of /string_status | head -1)" "HTTP/1.1 201 Created" "a String status"

out=$(printf 'HEAD /array HTTP/1.1\r\nHost: x\r\n\r\n' | raw)
ok "$(has "$out" '^Content-Length: 12')" "HEAD: Content-Length of the GET"
is "$(printf '%s' "$out" | sed '1,/^\r$/d' | wc -c)" 0 "HEAD: no body"
out=$(printf 'GET /status?204 HTTP/1.1\r\nHost: x\r\n\r\n' | raw)
is "$(printf '%s' "$out" | head -1 | tr -d '\r')" "HTTP/1.1 204 No Content" "204"
is "$(printf '%s' "$out" | sed '1,/^\r$/d' | wc -c)" 0 "204: no body"
ok "$(lacks "$out" 'Content-Length|Transfer-Encoding')" "204: no framing header"
out=$(printf 'GET /status?304 HTTP/1.1\r\nHost: x\r\n\r\n' | raw)
is "$(printf '%s' "$out" | sed '1,/^\r$/d' | wc -c)" 0 "304: no body"

h=$(head_of /rack3_multi)
is "$(count "$h" '^set-cookie: ')" 2 "Rack 3 Array values: one field each"
ok "$(has "$h" '^x-list: y$')" "... in order"
h=$(head_of /rack2_multi)
is "$(count "$h" '^set-cookie: (a=1|b=2)$')" 2 "Rack 2 newline-joined values: one field each"
h=$(head_of /empty_values)
ok "$(has "$h" '^x-empty: $')" "an empty value is sent (RFC 9110 section 5.5)"
is "$(printf '%s\n' "$h" | grep -i '^x-arr:' | tr '\n' '|')" "x-arr: |x-arr: a|" \
    "an empty element of a Rack 3 Array too, in order"
is "$(printf '%s\n' "$h" | grep -i '^x-joined:' | tr '\n' '|')" "x-joined: a|x-joined: b|" \
    "empty pieces of a Rack 2 newline-joined value are skipped"
h=$(head_of /date)
is "$(count "$h" '^date: yesterday|^connection: keep-alive')" 0 \
    "the app's Date and Connection are replaced"

for p in /inject /nul /badname; do
    is "$(head_of $p | head -1)" "HTTP/1.1 500 Internal Server Error" \
        "refused header ($p): 500"
done
ok "$(has "$(cat "$SERVER_LOG")" 'refusing.*control character.*x-evil')" \
    "the refused header is logged"
is "$(head_of /symname | head -1)" "HTTP/1.1 500 Internal Server Error" \
    "a Symbol header name: 500"
ok "$(has "$(cat "$SERVER_LOG")" 'header name is not a String: .*:.*x-sym')" \
    "the log shows the name's inspect"

is "$(head_of /raise | head -1)" "HTTP/1.1 500 Internal Server Error" "an exception: 500"
log_has 'app error: boom from the app \(ArgumentError\).*response.ru:[0-9]+'
ok $? "logged with class, message and backtrace"
is "$(hcurl "$(url /after)")" "GET /after" "the next request is served"
is "$(head_of "/raise_each?$TMPD/closed1" | head -1)" \
    "HTTP/1.1 500 Internal Server Error" "an exception in each: 500"
is "$(cat "$TMPD/closed1" 2>/dev/null)" closed "body.close ran anyway"
hcurl -o /dev/null "$(url "/close?$TMPD/closed2")"
TIMEOUT=10 wait_for test -s "$TMPD/closed2" # may run after the last byte
is "$(cat "$TMPD/closed2" 2>/dev/null)" closed "body.close after a good response"
is "$(head_of /notarray | head -1)" "HTTP/1.1 500 Internal Server Error" \
    "not [status, headers, body]: 500"

# Status 100 to "Expect: 100-continue": one "100 Continue", one more
# call without HTTP_EXPECT, and that answer is final.
out=$(hcurl -v -H 'Expect: 100-continue' -d abc "$(url /continue)" 2>"$TMPD/curl.err")
is "$out" "body=abc calls=2" "status 100 to Expect: the app is called once more"
is "$(grep -c '^< HTTP/1.1 100 Continue' "$TMPD/curl.err")" 1 \
    "with one 100 Continue before"
code_of() { hcurl -o /dev/null -w '%{http_code}' "$@"; }
is "$(code_of -H 'Expect: 100-continue' -d abc "$(url /always100)")" 500 \
    "status 100 again after the 100 Continue: 500, no loop"
is "$(code_of "$(url /always100)")" 500 "status 100 without Expect: 500"
ok "$(has "$(cat "$SERVER_LOG")" 'invalid final response status 100')" \
    "the interim status is logged"
is "$(hcurl "$(url /after100)")" "GET /after100" "the worker serves the next request"
is "$(code_of "$(url '/status?600')")" 500 "status 600: 500"
is "$(code_of "$(url '/status?999')")" 500 "status 999: 500"
ok "$(has "$(cat "$SERVER_LOG")" 'invalid final response status 999')" \
    "the status out of 200..599 is logged"

# Heads from 990 to 1090 bytes: one of them ends where the head buffer
# must grow for its final CRLF, and each must arrive whole.
out=$(timeout "$TIMEOUT" ruby -rsocket -e '
    bad = (900..1000).find do |n|
      s = UNIXSocket.new(ARGV[0])
      s.write("GET /pad?#{n} HTTP/1.1\r\nHost: x\r\n\r\n")
      got = s.read
      s.close
      !(got.start_with?("HTTP/1.1 204 No Content\r\n") &&
        got.include?("\r\nx-pad: #{"p" * n}\r\n") && got.end_with?("\r\n\r\n"))
    end
    puts(bad ? "broken at #{bad}" : "whole")' "$SERVER_LISTEN")
is "$out" whole "a head that grows the buffer for its last CRLF is sent whole"

# The client reads the first part, then lets the app go on: if the
# server buffered the body, the first part would never come first.
out=$(timeout "$TIMEOUT" ruby -rsocket -e '
    s = UNIXSocket.new(ARGV[0])
    s.write("GET /wait?#{ARGV[1]} HTTP/1.1\r\nHost: x\r\n\r\n")
    got = +""
    got << s.readpartial(4096) until got.include?("first\n")
    ok = !got.include?("second")
    File.write(ARGV[1], "go")
    loop { got << s.readpartial(4096) } rescue nil
    puts(ok && got.include?("second\n") ? "pieces" : "buffered")' \
    "$SERVER_LISTEN" "$TMPD/go")
is "$out" pieces "an each-body reaches the client part by part"

# A client that goes away after the first bytes of a 25 MB body.
timeout "$TIMEOUT" ruby -rsocket -e '
    s = UNIXSocket.new(ARGV[0])
    s.write("GET /big_each HTTP/1.1\r\nHost: x\r\n\r\n")
    s.readpartial(1000)
    s.close' "$SERVER_LISTEN"
ok $? "a client disconnects mid-response"
is "$(hcurl "$(url /again)")" "GET /again" "the worker serves the next request"
ok "$(log_has 'level=err.*(EPIPE|ECONNRESET|Broken pipe)' && echo 1 || echo 0)" \
    "the disconnect is not an error in the log"
stop_server

done_testing
