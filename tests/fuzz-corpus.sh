#!/bin/sh
# Replay the fuzz corpus through the libFuzzer target (ASan + UBSan):
# every seed must run without a crash or a one-shot/split mismatch.
# Built only with --enable-fuzzing.
# SPDX-License-Identifier: MIT
. "$top_srcdir/tests/tap.sh"
fuzzer="$top_builddir/tests/fuzz/fuzz_http_parser"
[ -x "$fuzzer" ] || skip_all "fuzz target not built (configure --enable-fuzzing)"
plan 1
out=$("$fuzzer" -runs=0 "$top_srcdir/tests/fuzz/corpus" 2>&1)
ok $? "the corpus replays cleanly ($(ls "$top_srcdir/tests/fuzz/corpus" | wc -l) seeds)"
echo "$out" | tail -3 | sed 's/^/# /'
