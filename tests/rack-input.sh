#!/bin/sh
# rack.input: Content-Length and chunked bodies (10 MB, trailers), the
# memory/temporary-file switch, read/gets/each/rewind/size, 100-continue,
# the streaming (non-rewindable) mode, and a client that sends less than
# it announced.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

command -v sha256sum >/dev/null 2>&1 || skip_all "sha256sum not found"
plan 31

# Rack 2's Rack::Lint passes rewind on to the server's rack.input; Rack
# 3.1's has none (a Rack 3 rack.input need not be rewindable): there the
# app can rewind only without Lint, in production.
lint_rewinds() {
    ruby -rrack -rrack/lint -e '
        w = defined?(Rack::Lint::Wrapper::InputWrapper) ?
            Rack::Lint::Wrapper::InputWrapper : Rack::Lint::InputWrapper
        exit w.method_defined?(:rewind)'
}
check_rewind() {
    out=$(hcurl --data-binary @"$TMPD/10m" "$(url /rewind)")
    is "$out" "true 10485760" "rewind and read again (temporary file, $1)"
    out=$(hcurl --data-binary 'small' "$(url /rewind)")
    is "$out" "true 5" "rewind and read again (memory, $1)"
}

head -c 10485760 /dev/urandom >"$TMPD/10m"
sum=$(sha256sum <"$TMPD/10m" | cut -d' ' -f1)
printf 'line one\nline two\nline three' >"$TMPD/lines"

start_server "$TMPD/s.sock" -w 2 -E development "$APPS/input.ru"
ok $? "server starts (development: Rack::Lint wraps rack.input)"

out=$(hcurl -v --data-binary @"$TMPD/10m" "$(url /sha256)" 2>"$TMPD/curl.err")
is "$out" "10485760 $sum" "10 MB POST read with read(n, buf): same sha256"
ok "$(grep -q '< HTTP/1.1 100 Continue' "$TMPD/curl.err" && echo 0 || echo 1)" \
    "curl's Expect: 100-continue answered before the body is read"

out=$(hcurl --data-binary @"$TMPD/10m" "$(url /all)")
is "$out" "10485760 $sum ASCII-8BIT" "10 MB POST read at once, binary"

out=$(hcurl -H 'Transfer-Encoding: chunked' --data-binary @"$TMPD/10m" "$(url /all)")
is "$out" "10485760 $sum ASCII-8BIT" \
    "10 MB chunked upload (memory, then temporary file)"

out=$(printf 'POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=val\r\n world\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n' |
    raw --body)
is "$out" "11 $(printf 'hello world' | sha256sum | cut -d' ' -f1)" \
    "chunked upload with extensions and trailers"

out=$(hcurl --data-binary @"$TMPD/lines" "$(url /lines)")
is "$out" 'first="line one\n" rest=2 last="line three"' "gets and each"

lint_rewinds && check_rewind "through Rack::Lint"

out=$(timeout "$TIMEOUT" ruby "$top_srcdir/tests/continue.rb" "$SERVER_LISTEN" /all 'abcde')
is "$(echo "$out" | head -1)" "interim:HTTP/1.1 100 Continue" \
    "100 Continue when the app reads the body"
ok "$(echo "$out" | grep -q "^5 $(printf abcde | sha256sum | cut -d' ' -f1) ASCII-8BIT" && echo 0 || echo 1)" \
    "then the body is read"
out=$(timeout "$TIMEOUT" ruby "$top_srcdir/tests/continue.rb" "$SERVER_LISTEN" /ignore 'abcde')
is "$(echo "$out" | head -1)" "interim:none" \
    "no 100 Continue when the app does not read the body"
ok "$(echo "$out" | grep -q '^ignored' && echo 0 || echo 1)" \
    "and the final response comes anyway"

head -c 300000 /dev/zero >"$TMPD/300k"
out=$(hcurl --data-binary @"$TMPD/300k" "$(url /partial)")
is "$out" '"\x00\x00\x00\x00\x00"' \
    "a response arrives whole when the app leaves the body unread"

out=$(printf 'POST /eof?%s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789' "$TMPD/eof.txt" |
    raw)
ok "$(grep -q 'Pitchfork::ClientShutdown' "$TMPD/eof.txt" 2>/dev/null && echo 0 || echo 1)" \
    "a short body raises Pitchfork::ClientShutdown (an EOFError)"
out=$(hcurl --data-binary 'after' "$(url /all)")
is "$out" "5 $(printf after | sha256sum | cut -d' ' -f1) ASCII-8BIT" \
    "the next request is served"
ok "$(log_has 'client error.*ClientShutdown' && echo 0 || echo 1)" \
    "the short body is logged as a client error"

out=$(hcurl -F "file=@$TMPD/lines" "$(url /upload)")
is "${out% *}" "28" "a multipart upload is parsed into a temporary file"
# The client may have the whole response before the server closes it.
[ -n "${out#* }" ] && TIMEOUT=10 wait_for test ! -e "${out#* }"
ok $? "which is deleted after the response (rack.tempfiles)"

out=$(printf 'POST /all HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n' | raw)
is "$(echo "$out" | head -1 | tr -d '\r')" "HTTP/1.1 400 Bad Request" \
    "a malformed chunked body is a 400"
out=$(ruby -e 'print "POST /all HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                     "5\r\nhello\r\n0\r\nX-Big: #{"a" * 20_000}\r\n\r\n"' | raw | tr -d '\r')
is "$(echo "$out" | head -1)" "HTTP/1.1 431 Request Header Fields Too Large" \
    "a chunked trailer section over 16 KiB is a 431, as pitchfork(8) says"
is "$(echo "$out" | tail -1)" "trailer section too large" "with the parser's reason"
stop_server

start_server "$TMPD/s.sock" -w 1 -E production "$APPS/input.ru"
is "$(hcurl --data-binary 'abc' "$(url /can_rewind)")" "true Pitchfork::Input" \
    "rewindable input (the default) has rewind"
lint_rewinds || check_rewind "no Rack::Lint"
stop_server

PITCHFORK_REWINDABLE_INPUT=false start_server "$TMPD/s.sock" -w 1 -E production "$APPS/input.ru"
ok $? "server starts with rewindable_input false"
out=$(hcurl -H 'Transfer-Encoding: chunked' --data-binary @"$TMPD/10m" "$(url /sha256)")
is "$out" "10485760 $sum" "streaming input: 10 MB chunked upload"
out=$(hcurl --data-binary @"$TMPD/lines" "$(url /lines)")
is "$out" 'first="line one\n" rest=2 last="line three"' "streaming input: gets and each"
out=$(hcurl --data-binary 'abc' "$(url /can_rewind)")
is "$out" "false Pitchfork::StreamInput" \
    "streaming input: no rewind method (Rack 2 forbids one raising ESPIPE)"
is "$(hcurl "$(url /can_rewind)")" "false Pitchfork::StreamInput" \
    "streaming input: no rewind without a body either"
out=$(printf 'POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' | raw --body)
is "$out" "3" "size of a body with a length"
! log_has 'has no rewind'
ok $? "no warning about Rack::Lint outside development"
stop_server

# Rack 2's Rack::Lint (development) requires rewind: a warning at boot.
PITCHFORK_REWINDABLE_INPUT=false start_server "$TMPD/s.sock" -w 1 -E development "$APPS/input.ru"
if ruby -rrack -e 'exit(Rack::RELEASE.to_i < 3)'; then
    log_has 'rewindable_input false: rack.input has no rewind, and the Rack::Lint of rack 2'
    ok $? "development with rack 2: the log says Rack::Lint refuses requests"
else
    ! log_has 'has no rewind'
    ok $? "development with rack 3: no warning, its Lint allows no rewind"
fi
stop_server

done_testing
