#!/bin/sh
# A HUP that arrives while a refork is under way is not lost: the
# reload starts as soon as the refork's mold is ready, and the workers
# end up serving the code on disk.  (It used to be dropped with a
# warning, so a deploy that met an automatic refork kept the old code.)
# after_mold_fork sleeps so that the promotion lasts long enough for the
# HUP to arrive during it.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 7

app() {
    printf 'run lambda { |env| [200, {}, ["%s #{$$}\\n"]] }\n' "$1" \
        >"$TMPD/config.ru.tmp" && mv "$TMPD/config.ru.tmp" "$TMPD/config.ru"
}
body() { hcurl "$(url /)" | cut -d' ' -f1; }
only_body() {
    for i in 1 2 3 4 5 6; do [ "$(body)" = "$1" ] || return 1; done
}

printf 'after_mold_fork { |_server, _mold| sleep 1.5 }\n' >"$TMPD/pitchfork.rb"
app one
start_server "$TMPD/s.sock" -w 2 -c "$TMPD/pitchfork.rb" "$TMPD/config.ru"
wait_for all_gen 0 3
ok $? "server starts: a mold and 2 workers, gen 0"

app two
kill -USR2 "$SERVER_PID"
wait_for log_has 'promoting worker [0-9]* pid [0-9]* to mold of gen 1'
ok $? "USR2: a worker is promoted"
kill -HUP "$SERVER_PID"
wait_for log_has 'HUP: a refork is in progress; reloading once its mold is ready'
ok $? "a HUP during the promotion waits for it"
wait_for all_gen 2 3
ok $? "then the reload runs: a mold and 2 workers of gen 2"
log_has 'mold pid [0-9]* is now gen 1; replacing older workers'
ok $? "after the refork's mold (gen 1) was current"
only_body two
ok $? "every worker serves the code on disk"
log_has 'a refork or reload is already in progress'
ok $((! $?)) "nothing was refused"

stop_server
done_testing
