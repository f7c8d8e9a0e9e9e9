#!/bin/sh
# Print one line "N passed, N failed" over the TAP results of the tests
# named as arguments (their .trs files), for the end of "make check".
# Skipped results count as neither.  Exits 1 when any failed.
# SPDX-License-Identifier: MIT
pass=0
fail=0
for t in "$@"; do
    trs="${t%.sh}.trs"
    if [ ! -f "$trs" ]; then
        fail=$((fail + 1))
        continue
    fi
    p=$(grep -c '^:test-result: PASS' "$trs")
    f=$(grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' "$trs")
    pass=$((pass + p))
    fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
