#!/bin/sh
# Many short reforks under concurrent fast and slow requests: with
# refork_after 4 (repeated), every worker that served 4 requests of the
# current generation leads to a promotion, whatever the timing: each
# worker that exits having served 4 or more requests in generation G saw
# a promotion to G + 1, and once the load stops no worker of the newest
# generation is left past the threshold.  The monitor runs as under
# systemd-nspawn, whose NOTIFY_SOCKET nobody may be reading: a monitor
# that waited there promoted nobody while its workers kept serving.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 6

LIMIT=4
TOTAL=150

stalled_notify "$TMPD/notify.sock"

NOTIFY_SOCKET=$TMPD/notify.sock \
    start_server "$TMPD/s.sock" -w 2 --refork-after "$LIMIT" "$APPS/procs.ru"
res=$(timeout "$((TIMEOUT * 4))" ruby "$top_srcdir/tests/refork-load.rb" \
    "$SERVER_LISTEN" "$TOTAL" 4 2>"$TMPD/load.err")
is "$res" "$TOTAL 0" "$TOTAL requests from 4 clients, none failed"
if [ -s "$TMPD/load.err" ]; then
    diag "$(cat "$TMPD/load.err")"
    diag "the server's warnings and errors:"
    diag "$(grep -E '^level=(warn|err|crit|alert|emerg)' "$SERVER_LOG")"
fi

# The newest generation, from the titles.
newest() { titles | sed -n 's/.*(gen:\([0-9]*\)).*/\1/p' | sort -n | tail -1; }
# No worker of the newest generation is past the threshold, and the mold
# and both workers run it.
settled() {
    g=$(newest)
    all_gen "$g" 3 &&
        ! titles | awk -v g="(gen:$g)" -v l="$LIMIT" \
            'index($0, g) && /requests: / { split($0, a, "requests: "); if (a[2] + 0 >= l) bad = 1 }
             END { exit !bad }'
}
wait_for settled
ok $? "after the load, the newest generation has no worker past refork_after"

promotions=$(grep -c 'promoting worker [0-9]* pid [0-9]* to mold of gen [0-9]* (served 4 requests)' "$SERVER_LOG")
gen=$(newest)
diag "$TOTAL requests, $promotions promotions, newest generation $gen"
is "$promotions" "$gen" "every generation but the first came from a refork_after promotion"
# At most (LIMIT - 1) * 2 + 1 requests of a generation's workers before one
# is past the threshold; the older workers serve during each rollout too.
ok "$([ "$promotions" -ge 3 ] && echo 0 || echo 1)" "many reforks ($promotions)"

# Each worker that exited past the threshold in generation G: a
# promotion to G + 1 exists.
missing=$(awk -v l="$LIMIT" '
    /promoting worker .* to mold of gen/ {
        match($0, /mold of gen [0-9]+/); promoted[substr($0, RSTART + 12, RLENGTH - 12) + 0] = 1
    }
    /role=monitor worker=.*event=exit/ {
        match($0, / gen=[0-9]+/); g = substr($0, RSTART + 5, RLENGTH - 5) + 0
        match($0, / requests=[0-9]+/); r = substr($0, RSTART + 10, RLENGTH - 10) + 0
        if (r >= l) past[g] = 1
    }
    END { for (g in past) if (!((g + 1) in promoted)) print "gen " g }' "$SERVER_LOG")
is "$missing" "" "every generation with a worker past refork_after was followed by a promotion"
log_has 'refork done: every worker is gen'
ok $? "the rollouts complete"
stop_server
done_testing
