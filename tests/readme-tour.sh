#!/bin/sh
# The README's tour (examples/tour.sh) runs as documented: the example
# app answers, USR2 moves every process to generation 1, TERM stops it.
# SPDX-License-Identifier: MIT
. "$top_srcdir/tests/tap.sh"
command -v curl >/dev/null 2>&1 || skip_all "curl not found"
plan 6
port=$(ruby -rsocket -e 's = TCPServer.new("127.0.0.1", 0); puts s.addr[1]; s.close')
out=$(PITCHFORK="$PITCHFORK" timeout 60 "$top_srcdir/examples/tour.sh" "$port" 2>&1)
ok $? "examples/tour.sh exits 0"
echo "$out" | grep -q '^Hello$'
ok $? "the example app answers Hello"
echo "$out" | grep -q '(gen:0) worker\[1\]'
ok $? "two workers of generation 0 at first"
echo "$out" | grep -q '(gen:1) mold'
ok $? "after USR2 a worker became the mold of generation 1"
echo "$out" | grep -q 'exited with status 0'
ok $? "TERM stops it with status 0"
grep -q 'examples/tour.sh' "$top_srcdir/README"
ok $? "the README points at examples/tour.sh"
[ "$tap_failed" -eq 0 ] || echo "$out" | sed 's/^/# /'
