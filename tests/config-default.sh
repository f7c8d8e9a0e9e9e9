#!/bin/sh
# config/pitchfork.rb in the working directory is the configuration file
# when none is named (-c, PITCHFORK_CONFIG), as upstream: its settings
# reach the monitor and its hooks run.  A named file replaces it.  The
# start-up line names the file read, or says that none was.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 11

mkdir -p "$TMPD/app/config"
cat >"$TMPD/app/config.ru" <<'EOF'
run ->(env) { [200, {}, ["#{ENV.fetch("HOOKED", "no hook")}\n"]] }
EOF
cat >"$TMPD/app/config/pitchfork.rb" <<'EOF'
worker_processes 3
after_worker_fork { |server, worker| ENV["HOOKED"] = "default file" }
EOF
cat >"$TMPD/app/other.rb" <<'EOF'
worker_processes 2
after_worker_fork { |server, worker| ENV["HOOKED"] = "other file" }
EOF
body() { hcurl "$(url /)"; }

cd "$TMPD/app" || exit 1
start_server "$TMPD/s.sock"
wait_for all_gen 0 4
ok $? "config/pitchfork.rb is read without -c: its worker_processes 3"
is "$(body)" "default file" "and its hook runs"
log_has "config_file=$TMPD/app/config/pitchfork.rb .*msg=\"configuration file $TMPD/app/config/pitchfork.rb \\(found in the working directory\\)"
ok $? "the start-up line names config/pitchfork.rb, made absolute"
stop_server

start_server "$TMPD/s.sock" -c other.rb
wait_for all_gen 0 3
ok $? "-c other.rb: its worker_processes 2, not the default file's"
is "$(body)" "other file" "and its hook, not the default file's"
log_has "msg=\"configuration file $TMPD/app/other.rb; "
ok $? "the start-up line names other.rb, made absolute"
stop_server

PITCHFORK_CONFIG=other.rb start_server "$TMPD/s.sock"
wait_for all_gen 0 3
ok $? "PITCHFORK_CONFIG=other.rb replaces the default file too"
stop_server

# Relative to the working directory, not to the rackup file.
cd "$TMPD" || exit 1
start_server "$TMPD/s.sock" -w 1 "$TMPD/app/config.ru"
is "$(body)" "no hook" "elsewhere: no configuration file, no hook"
log_has 'config_file=none .*msg="configuration file none \(none named, no config/pitchfork.rb\)'
ok $? "the start-up line says that no file was read"
stop_server

# A default file that does not evaluate stops the start, named.
mkdir -p "$TMPD/broken/config"
printf 'worker_processes "many"\n' >"$TMPD/broken/config/pitchfork.rb"
(cd "$TMPD/broken" && exec timeout "$TIMEOUT" "$PITCHFORK" \
    -l "$TMPD/b.sock" "$TMPD/app/config.ru" >"$SERVER_LOG" 2>&1)
st=$?
ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "a broken config/pitchfork.rb: exits non-zero ($st)"
log_has 'config/pitchfork.rb'
ok $? "and the log names it"

done_testing
