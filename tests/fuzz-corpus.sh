#!/bin/sh
# The libFuzzer targets (ASan + UBSan), built only with --enable-fuzzing:
# the request-head parser and the chunked body decoder.  Each replays
# its corpus, where every seed must run without a crash or a
# one-shot/split mismatch, then fuzzes for FUZZ_CHECK_SECONDS (default
# 20) on a scratch copy of that corpus, so that the tree is not written
# to.  A crashing input is kept in the build tree as
# tests/fuzz/TARGET-crash-*, to replay with "tests/fuzz/TARGET FILE".
# SPDX-License-Identifier: MIT
. "$top_srcdir/tests/tap.sh"
fuzz="$top_builddir/tests/fuzz"
for t in fuzz_http_parser fuzz_http_chunked; do
    [ -x "$fuzz/$t" ] ||
        skip_all "fuzz target $t not built (configure --enable-fuzzing)"
done
seconds=${FUZZ_CHECK_SECONDS:-20}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pffuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' INT TERM HUP

plan 4

# fuzz TARGET CORPUS DICT: replay CORPUS, then fuzz a copy of it.
fuzz() {
    seeds=$(ls "$2" | wc -l)
    out=$("$fuzz/$1" -runs=0 "$2" 2>&1)
    ok $? "$1: its corpus replays cleanly ($seeds seeds)"
    diag "$(printf '%s\n' "$out" | tail -2)"
    mkdir "$scratch/$1" && cp "$2"/* "$scratch/$1"/ || exit 1
    out=$("$fuzz/$1" -max_total_time="$seconds" -dict="$3" \
        -artifact_prefix="$fuzz/$1-" "$scratch/$1" 2>&1)
    st=$?
    ok $st "$1: fuzzes for $seconds s without a crash or a mismatch"
    if [ "$st" != 0 ]; then
        diag "$(printf '%s\n' "$out" | grep -E -A20 'fuzz_http|ERROR|==[0-9]+==' | head -40)"
    fi
    diag "$(printf '%s\n' "$out" | grep -E '^#[0-9]+' | tail -1)"
}

fuzz fuzz_http_parser "$top_srcdir/tests/fuzz/corpus" \
    "$top_srcdir/tests/fuzz/http.dict"
fuzz fuzz_http_chunked "$top_srcdir/tests/fuzz/chunked" \
    "$top_srcdir/tests/fuzz/chunked.dict"
done_testing
