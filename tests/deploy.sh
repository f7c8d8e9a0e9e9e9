#!/bin/sh
# Deploys through a symlink, Capistrano's layout: releases/1 and
# releases/2, "current" pointing at one of them, pitchfork started in
# current.  After the symlink is switched, a refork keeps serving the
# old release and a reload (HUP) boots the new one, without a failed
# request; the old release can then be deleted.  working_directory from
# the environment, from a flag and from the configuration file; a bad
# one is a start error; a release gone before a reload fails the reload
# and the running generation keeps serving.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 25

# release N: releases/N, whose app answers with the file "release" read
# per request from the working directory.
release() {
    mkdir -p "$TMPD/releases/$1"
    echo "$1" >"$TMPD/releases/$1/release"
    printf 'run ->(env) { [200, {}, [File.read("release")]] }\n' \
        >"$TMPD/releases/$1/config.ru"
}
# switch N: current -> releases/N, atomically
switch() {
    ln -sfn "releases/$1" "$TMPD/current.new" &&
        mv -T "$TMPD/current.new" "$TMPD/current"
}
body() { hcurl "$(url /)"; }
only_body() {
    for i in 1 2 3 4 5 6; do [ "$(body)" = "$1" ] || return 1; done
}
# start_fails ARGS...: run pitchfork to its end; sets st, output in out
start_fails() {
    timeout "$TIMEOUT" "$PITCHFORK" -w 1 -l "$TMPD/f.sock" "$@" \
        >"$TMPD/out" 2>&1
    st=$?
    out=$(cat "$TMPD/out")
}

release 1
release 2
switch 1

# ---- started in current, as a shell names it ($PWD) ----------------------
cd "$TMPD/current" || exit 1
start_server "$TMPD/s.sock" -w 2
wait_for all_gen 0 3
only_body 1
ok $? "started in current -> releases/1: release 1 is served"
log_has "working_directory=$TMPD/current .*msg=\".*; working directory $TMPD/current \\(the start directory, as \\\$PWD names it\\)\""
ok $? "the start-up line names the working directory as \$PWD does, symlink kept"

switch 2
only_body 1
ok $? "current switched to releases/2: the running generation still serves release 1"
kill -USR2 "$SERVER_PID"
wait_for log_has 'refork done: every worker is gen 1'
ok $? "USR2: a refork to gen 1"
only_body 1
ok $? "a refork keeps its generation's directory: release 1"

start_loop
kill -HUP "$SERVER_PID"
wait_for log_has 'reload done: every worker is gen 2'
ok $? "HUP: the reload is done"
res=$(stop_loop)
is "${res#* }" 0 "the client loop saw no failed request during the rollout ($res)"
ok "$([ "${res% *}" -gt 0 ] && echo 0 || echo 1)" "and it was served"
only_body 2
ok $? "every worker serves release 2"
is "$(readlink "/proc/$SERVER_PID/cwd")" "$TMPD/releases/2" \
    "the monitor moved to releases/2 too: it keeps no old release alive"

rm -rf "$TMPD/releases/1"
only_body 2
ok $? "releases/1 deleted: release 2 is still served"
kill -TTIN "$SERVER_PID"
wait_for all_gen 2 4
ok $? "and a worker forked afterwards serves (TTIN: 3 workers)"

# A release deleted before the reload that would boot it.
release 3
switch 3
rm -rf "$TMPD/releases/3"
kill -HUP "$SERVER_PID"
wait_for log_has 'the next mold exited with status 1 before it was ready; gen 2 keeps serving'
ok $? "a release gone before HUP: the reload fails"
log_has "working_directory $TMPD/current: chdir: No such file or directory"
ok $? "the log names the directory and the reason"
only_body 2
ok $? "gen 2 keeps serving release 2"
stop_server
switch 2

# ---- named by the environment, a flag, the configuration file ------------
mkdir -p "$TMPD/elsewhere" "$TMPD/releases/2/config"
echo 'worker_processes 3' >"$TMPD/releases/2/config/pitchfork.rb"
cd "$TMPD" || exit 1
PITCHFORK_WORKING_DIRECTORY=current start_server "$TMPD/s.sock"
wait_for all_gen 0 4
only_body 2
ok $? "PITCHFORK_WORKING_DIRECTORY=current, relative to the start directory: release 2"
log_has "configuration file $TMPD/current/config/pitchfork.rb \\(found in the working directory\\); .*; working directory $TMPD/current \\(working_directory\\)\""
ok $? "config/pitchfork.rb is looked for there (worker_processes 3), its path absolute"
stop_server
rm -r "$TMPD/releases/2/config"

cd "$TMPD/elsewhere" || exit 1
start_server "$TMPD/s.sock" -w 1 --working-directory "$TMPD/current"
only_body 2
ok $? "--working-directory $TMPD/current: release 2"
stop_server

# The file's working_directory binds when read: what follows runs there.
cat >"$TMPD/pf.rb" <<EOF
working_directory "$TMPD/current"
worker_processes File.read("release").to_i + 1
EOF
start_server "$TMPD/s.sock" -c "$TMPD/pf.rb"
wait_for all_gen 0 4
ok $? "working_directory in the configuration file: the rest of it runs there (3 workers)"
only_body 2
ok $? "and release 2 is served"
log_has "working directory $TMPD/current \\(working_directory\\)\""
ok $? "the start-up line names it"
stop_server

# ---- a working directory that cannot be entered stops the start --------
start_fails --working-directory "$TMPD/none"
is "$st" 2 "--working-directory to a missing directory: exit status 2, as a bad setting"
is "$out" "pitchfork: working_directory $TMPD/none: chdir: No such file or directory" \
    "the error names the setting, the value and the reason"
PITCHFORK_WORKING_DIRECTORY="$TMPD/pf.rb" start_fails
is "$out" "pitchfork: working_directory $TMPD/pf.rb: chdir: Not a directory" \
    "PITCHFORK_WORKING_DIRECTORY naming a file: the same error"
echo 'working_directory "none"' >"$TMPD/bad.rb"
start_fails -c "$TMPD/bad.rb"
ok "$([ "$st" = 2 ] && printf '%s\n' "$out" |
    grep -q "working_directory $TMPD/elsewhere/none: chdir: No such file or directory" &&
    echo 0 || echo 1)" \
    "in the configuration file: exit status 2 ($st), the directory named as resolved"

done_testing
