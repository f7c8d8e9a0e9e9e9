#!/bin/sh
# A 100 MB to_path body goes out with sendfile(2): the bytes arrive
# intact and the worker's resident memory does not grow with the file.
# Through Rack::Lint (which hides to_path) the same file is streamed with
# each, chunked.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

command -v sha256sum >/dev/null 2>&1 || skip_all "sha256sum not found"
plan 8

# 100 MB: random bytes at both ends, a sparse middle.
f="$TMPD/100m"
head -c 1048576 /dev/urandom >"$f"
truncate -s 104857600 "$f"
head -c 4096 /dev/urandom >>"$f"
size=$(wc -c <"$f")
sum=$(sha256sum <"$f" | cut -d' ' -f1)

# Peak resident memory of a process, in kB.
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

start_server "$TMPD/s.sock" -w 1 -E production "$APPS/response.ru"
ok $? "server starts"
w=$(worker_pids | head -1)
before=$(hwm "$w")
hcurl -D "$TMPD/h" -o "$TMPD/got" "$(url "/file?$f")"
ok $? "GET of a 100 MB to_path body"
is "$(sha256sum <"$TMPD/got" | cut -d' ' -f1)" "$sum" "the bytes arrive intact"
ok "$(grep -q -i "^Content-Length: $size" "$TMPD/h" && echo 0 || echo 1)" \
    "Content-Length from the file's size"
after=$(hwm "$w")
diag "worker $w VmHWM before ${before} kB, after ${after} kB"
ok "$([ $((after - before)) -lt 16384 ] && echo 0 || echo 1)" \
    "the worker's peak RSS grew by less than 16 MB"
stop_server

start_server "$TMPD/s.sock" -w 1 -E development "$APPS/response.ru"
ok $? "server starts (development: Lint hides to_path)"
hcurl -D "$TMPD/h" -o "$TMPD/got" "$(url "/file?$f")"
is "$(sha256sum <"$TMPD/got" | cut -d' ' -f1)" "$sum" \
    "the same bytes through each, chunked"
ok "$(grep -q -i '^Transfer-Encoding: chunked' "$TMPD/h" && echo 0 || echo 1)" \
    "sent chunked"
stop_server

done_testing
