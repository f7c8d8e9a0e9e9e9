# TAP helpers for shell tests, sourced by tests/*.sh.
# SPDX-License-Identifier: MIT
#
#   plan N | skip_all REASON | ok STATUS DESCRIPTION | is GOT WANT DESC
#   skip REASON | diag TEXT | done_testing
# STATUS is a shell status: 0 passes.

tap_n=0
tap_failed=0
tap_planned=""

plan() {
    tap_planned=$1
    echo "1..$1"
}

skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

skip() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n # SKIP $*"
}

diag() {
    printf '%s\n' "$*" | sed 's/^/# /'
}

ok() {
    tap_n=$((tap_n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=$((tap_failed + 1))
    fi
}

is() {
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
    else
        ok 1 "$3"
        diag "     got: '$1'"
        diag "  wanted: '$2'"
    fi
}

done_testing() {
    [ -n "$tap_planned" ] || echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
