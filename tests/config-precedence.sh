#!/bin/sh
# One setting, four sources: a config/pitchfork.rb in upstream's DSL
# (with listen options this server ignores) loads, and its settings reach
# the server; flags win over PITCHFORK_* variables, which win over the
# file, which wins over the defaults.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 11

mkdir -p "$TMPD/config"
cat >"$TMPD/config/pitchfork.rb" <<'EOF'
# An upstream config/pitchfork.rb, unchanged.
worker_processes 3
listen "127.0.0.1:1", backlog: 64, tcp_defer_accept: true,
       queues_per_worker: 2, tcp_nodelay: true
timeout 7, cleanup: 3
spawn_timeout 30
refork_after [3, false]
refork_max_unavailable 1
max_consecutive_spawn_errors 5
early_hints true
rewindable_input true
client_body_buffer_size 64 * 1024
check_client_connection false
setpgid false
after_worker_fork { |server, worker| }
EOF
info() { hcurl "$(url /info)"; }

# worker_processes: flag (1) > env (2) > file (3); timeout: env (8) > file
# (7); listen: flag > file; refork_after and early_hints: file > default.
cd "$TMPD" || exit 1
PITCHFORK_WORKERS=2 PITCHFORK_TIMEOUT=8 \
    start_server "$TMPD/s.sock" -w 1 -c config/pitchfork.rb "$APPS/procs.ru"
wait_for all_gen 0 2
ok $? "the upstream file loads; -w 1 wins over PITCHFORK_WORKERS=2 and the file's 3"
is "$(info | cut -d, -f2 | tr -d ' ')" 1 "Pitchfork::Info.workers_count is 1"
is "$(info | cut -d, -f6 | tr -d ' ')" 8 "PITCHFORK_TIMEOUT=8 wins over the file's timeout 7"
log_has 'listening on .*s.sock'
ok $? "-l wins over the file's listen"
log_has '127.0.0.1:1'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "the file's address is not used"
log_has 'listen option tcp_defer_accept: is not supported by this server and is ignored'
ok $? "tcp_defer_accept: is accepted with a warning"
log_has 'queues_per_worker'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "queues_per_worker: is accepted without a warning"
for i in 1 2 3 4; do hcurl -o /dev/null "$(url /)"; done
wait_for all_gen 1 2
ok $? "the file's refork_after [3, false] applies (gen 1)"
for i in 1 2 3 4 5 6 7; do hcurl -o /dev/null "$(url /)"; done
kill -TTIN "$SERVER_PID"
wait_for all_gen 1 3
ok $? "and stops after one refork (false): still gen 1"
stop_server

# Without flags and environment, the file wins over the defaults.
start_server "$TMPD/s2.sock" -c config/pitchfork.rb "$APPS/procs.ru"
wait_for all_gen 0 4
ok $? "the file's worker_processes 3 wins over the default"
is "$(info | cut -d, -f6 | tr -d ' ')" 7 "the file's timeout 7 wins over the default 20"
stop_server

done_testing
