#!/bin/sh
# A whole request mix through Rack::Lint (RACK_ENV development): GET,
# HEAD, POST (length, chunked, 100-continue, multipart), query strings,
# every body kind, hijack, hints, after_reply; no response is a 500 and
# the log holds no Lint error.  Each Rack's Lint refuses what the other
# allows: Rack 2's a streaming body and header values in arrays, Rack 3's
# newlines in header values and a rack.input the app rewinds.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 4

PITCHFORK_EARLY_HINTS=true start_server "$TMPD/s.sock" -w 2 \
    -E development "$APPS/mix.ru"
ok $? "server starts with the apps mounted under Rack::Lint"

head -c 200000 /dev/urandom >"$TMPD/body"
: >"$TMPD/codes"
code() { hcurl -o /dev/null -w '%{http_code}\n' "$@" >>"$TMPD/codes"; }
rack3=$(ruby -rrack -e 'print Rack.release.to_i >= 3')
per_round=18
[ "$rack3" = true ] && per_round=19
for i in 1 2 3; do
    code "$(url "/env/a/b?i=$i")"
    code -I "$(url /env/head)"
    code --data-binary @"$TMPD/body" "$(url /input/sha256)"
    code -H 'Transfer-Encoding: chunked' --data-binary @"$TMPD/body" "$(url /input/all)"
    code -H 'Expect: 100-continue' --data-binary 'x=1' "$(url /input/lines)"
    if [ "$rack3" = true ]; then
        code -F "file=@$TMPD/body" "$(url /input/upload)"
        code "$(url /response/rack3_multi)"
        code "$(url /response/stream)"
    else
        code --data-binary @"$TMPD/body" "$(url /input/rewind)"
        code "$(url /response/rack2_multi)"
    fi
    code "$(url /response/array)"
    code "$(url /response/each)"
    code -I "$(url /response/array)"
    code "$(url "/response/file?$TMPD/body")"
    code "$(url "/response/close?$TMPD/closed")"
    code "$(url /response/status?204)"
    code "$(url /hijack/partial)"
    code "$(url /hijack/hints)"
    code "$(url "/hijack/after_reply?$TMPD/ar")"
    code "$(url /hijack/timeout)"
    code "$(url /nothing)"
done
printf 'GET /hijack/full HTTP/1.1\r\nHost: x\r\n\r\n' | raw >/dev/null
n=$(wc -l <"$TMPD/codes")
is "$n" $((3 * per_round)) "$((3 * per_round)) requests answered (Rack 3: $rack3)"
is "$(grep -c -v -E '^(200|201|204|404)$' "$TMPD/codes")" 0 \
    "every status is 200, 204 or 404 (no 500)"
ok "$(log_has 'Lint|level=err' && echo 1 || echo 0)" "no Rack::Lint error, no error at all"
if log_has 'Lint|level=err'; then diag "$(grep -E 'Lint|level=err' "$SERVER_LOG" | head -5)"; fi
stop_server

done_testing
