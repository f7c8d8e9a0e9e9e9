#!/bin/sh
# max_consecutive_spawn_errors stops a crash loop with a non-zero exit:
# workers that exit in after_worker_fork, and a rackup file whose
# workers die as soon as they are forked.  An exit in after_mold_fork
# discards the first mold: the server does not start.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 9

# run ARGS...: the server until it exits on its own; prints its status.
run() {
    timeout "$TIMEOUT" "$PITCHFORK" -l "$TMPD/s.sock" "$@" >"$SERVER_LOG" 2>&1
    echo $?
}
failed() { [ "$1" != 0 ] && [ "$1" != 124 ] && echo 0 || echo 1; }

printf 'max_consecutive_spawn_errors 3\nafter_worker_fork { |s, w| exit 4 }\n' \
    >"$TMPD/exit4.rb"
st=$(run -w 2 -c "$TMPD/exit4.rb" "$APPS/procs.ru")
ok "$(failed "$st")" "exit in after_worker_fork: the server gives up ($st)"
log_has '3 consecutive spawn errors \(max_consecutive_spawn_errors\): giving up'
ok $? "and says why"
log_has 'exited with status 4'
ok $? "the workers' status is logged"
sanitizer_check

cat >"$TMPD/die.ru" <<'EOF'
# Workers die as soon as they are forked (the second fork of a spawn).
module DieInWorker
  def _fork
    pid = super
    if pid.zero?
      $pf_depth = ($pf_depth || 0) + 1
      exit!(7) if $pf_depth == 2
    end
    pid
  end
end
Process.singleton_class.prepend(DieInWorker)
run ->(env) { [200, {}, ["never"]] }
EOF
st=$(PITCHFORK_MAX_CONSECUTIVE_SPAWN_ERRORS=4 run -w 1 "$TMPD/die.ru")
ok "$(failed "$st")" "workers that die at once: the server gives up ($st)"
log_has '4 consecutive spawn errors'
ok $? "after 4 (PITCHFORK_MAX_CONSECUTIVE_SPAWN_ERRORS)"
is "$(grep -c 'exited with status 7' "$SERVER_LOG")" 4 "4 workers died"
sanitizer_check

printf 'after_mold_fork { |s, m| exit 5 }\n' >"$TMPD/mold5.rb"
st=$(run -w 1 -c "$TMPD/mold5.rb" "$APPS/procs.ru")
ok "$(failed "$st")" "exit in after_mold_fork: the server does not start ($st)"
log_has 'after_mold_fork asked to exit: discarding this mold'
ok $? "the mold says why"
log_has 'mold pid [0-9]+ \(gen 0\) exited with status 5'
ok $? "and exits with the hook's status"
sanitizer_check

done_testing
