#!/bin/sh
# A 100 MB to_path body goes out with sendfile(2): the bytes arrive
# intact and the worker's resident memory does not grow with the file.
# Through Rack::Lint the file goes out with sendfile(2) when Lint passes
# to_path on (Rack 3) and with each, chunked, when it hides it (Rack 2);
# a body with each alone is sent chunked.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

command -v sha256sum >/dev/null 2>&1 || skip_all "sha256sum not found"
plan 10

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

# Rack 3's Rack::Lint answers to_path when the body does; Rack 2's hides it.
lint_passes_to_path() {
    ruby -rrack -rrack/lint -e '
        exit !!(defined?(Rack::Lint::Wrapper) &&
                Rack::Lint::Wrapper.method_defined?(:to_path))'
}

start_server "$TMPD/s.sock" -w 1 -E development "$APPS/response.ru"
ok $? "server starts (development: Rack::Lint wraps the body)"
hcurl -D "$TMPD/h" -o "$TMPD/got" "$(url "/file?$f")"
is "$(sha256sum <"$TMPD/got" | cut -d' ' -f1)" "$sum" \
    "the same bytes through Rack::Lint"
if lint_passes_to_path; then
    ok "$(grep -q -i "^Content-Length: $size" "$TMPD/h" && echo 0 || echo 1)" \
        "Rack 3's Lint passes to_path on: sent with sendfile, Content-Length"
else
    ok "$(grep -q -i '^Transfer-Encoding: chunked' "$TMPD/h" && echo 0 || echo 1)" \
        "Rack 2's Lint hides to_path: sent with each, chunked"
fi
hcurl -D "$TMPD/h" -o "$TMPD/got" "$(url "/file_each?$f")"
is "$(sha256sum <"$TMPD/got" | cut -d' ' -f1)" "$sum" \
    "the same bytes from a body with each alone"
ok "$(grep -q -i '^Transfer-Encoding: chunked' "$TMPD/h" && echo 0 || echo 1)" \
    "sent chunked"
stop_server

done_testing
