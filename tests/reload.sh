#!/bin/sh
# HUP reload: a new mold boots from the rackup file on disk and every
# worker moves to it while a client loop sees no failed request; a
# rackup file broken at reload leaves the old generation serving and
# the failure in the log; a HUP that arrives while a refork is under way
# is not lost: the reload starts once the refork's mold is ready (it used
# to be dropped with a warning, so a deploy that met an automatic refork
# kept the old code).
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 18

app() {
    printf 'run lambda { |env| [200, {}, ["%s #{$$}\\n"]] }\n' "$1" \
        >"$TMPD/config.ru.tmp" && mv "$TMPD/config.ru.tmp" "$TMPD/config.ru"
}
body() { hcurl "$(url /)" | cut -d' ' -f1; }
only_body() {
    for i in 1 2 3 4 5 6; do [ "$(body)" = "$1" ] || return 1; done
}

app one
start_server "$TMPD/s.sock" -w 2 "$TMPD/config.ru"
wait_for all_gen 0 3
ok $? "server starts: a mold and 2 workers, gen 0"
is "$(body)" one "serves the first app"

app two
start_loop
kill -HUP "$SERVER_PID"
wait_for all_gen 1 3
ok $? "HUP: a new mold and 2 workers, all gen 1"
res=$(stop_loop)
is "${res#* }" 0 "the client loop saw no failed request during the reload ($res)"
ok "$([ "${res% *}" -gt 0 ] && echo 0 || echo 1)" "and it was served"
only_body two
ok $? "every worker serves the new app"
log_has 'event=reload .*booting a new mold'
ok $? "the reload is logged"

printf 'run lambda { |env|\n' >"$TMPD/config.ru"
kill -HUP "$SERVER_PID"
wait_for log_has 'the next mold exited with status 1 before it was ready; gen 1 keeps serving'
ok $? "a broken app at reload: the failure is logged"
log_has 'SyntaxError'
ok $? "with the Ruby error"
all_gen 1 3
ok $? "the gen 1 mold and workers are still there"
only_body two
ok $? "and serve the old app"
stop_server

# HUP during a refork, on a server whose after_mold_fork sleeps so that
# the promotion lasts long enough for the HUP to arrive during it.
printf 'after_mold_fork { |_server, _mold| sleep 1.5 }\n' >"$TMPD/pitchfork.rb"
app three
start_server "$TMPD/s.sock" -w 2 -c "$TMPD/pitchfork.rb" "$TMPD/config.ru"
wait_for all_gen 0 3
ok $? "a server whose after_mold_fork sleeps: gen 0"
app four
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
only_body four
ok $? "every worker serves the code on disk"
log_has 'a refork or reload is already in progress'
ok $((! $?)) "nothing was refused"

stop_server
done_testing
