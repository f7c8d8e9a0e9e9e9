#!/bin/sh
# Lint every man page with mandoc: zero warnings allowed.
# SPDX-License-Identifier: MIT
. "$top_srcdir/tests/tap.sh"
[ -n "$MANDOC" ] || skip_all "mandoc not found (install mandoc)"
pages=$(ls "$top_srcdir"/man/*.[1-8])
plan $(echo "$pages" | wc -l)
for p in $pages; do
    out=$("$MANDOC" -Tlint -Wwarning "$p" 2>&1)
    ok "$([ -z "$out" ] && echo 0 || echo 1)" "mandoc -Tlint $(basename "$p")"
    [ -z "$out" ] || diag "$out"
done
