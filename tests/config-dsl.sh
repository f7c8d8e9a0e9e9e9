#!/bin/sh
# The configuration file's DSL comes from the settings table and the
# hook list: every DSL method of the table and every hook is a method of
# the file; a value of the wrong Ruby type is refused at its line, naming
# the method (and option) and the value; a value of the right type but
# out of range is refused by the monitor with the same message as a flag
# or a variable would get.  The server then exits non-zero.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

plan 22

# conf TEXT: run the server with TEXT as its configuration file until it
# exits; prints the status.
conf() {
    printf '%s\n' "$1" >"$TMPD/c.rb"
    (cd "$TMPD" && exec timeout "$TIMEOUT" "$PITCHFORK" -c c.rb \
        -l "$TMPD/s.sock" "$APPS/procs.ru" >"$SERVER_LOG" 2>&1)
    echo $?
    sanitizer_check >&2
}

# refused TEXT REGEX DESCRIPTION: the file is refused, with REGEX logged.
refused() {
    st=$(conf "$1")
    ok "$([ "$st" != 0 ] && [ "$st" != 124 ] && echo 0 || echo 1)" "$1: refused ($st)"
    log_has "$2"
    ok $? "$3"
}

# Every method is there, and they are the table's: the file checks, then
# stops the start with what it found, so no application boots.
st=$(conf 'd = Pitchfork::ConfigDSL
missing = (d.setters + Pitchfork::Configurator::HOOKS).reject { |x| respond_to?(x) }
raise "missing: #{missing}" unless missing.empty?
raise "setters: #{d.setters.sort.join(" ")}; listen: " \
      "#{d.options(:listen).sort.join(" ")}; hooks: #{d.hooks.size}"')
ok "$([ "$st" != 0 ] && echo 0 || echo 1)" "the checking file stops the start ($st)"
log_has 'missing:'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "every DSL setter and every hook is a method of the file"
setters=$("$PITCHFORK" --help | sed -n 's/.*, DSL \([a-z_]*\)$/\1/p; s/.*, DSL \([a-z_]*\), .*/\1/p' |
    sort | tr '\n' ' ')
log_has "setters: ${setters% }; listen: backlog queues queues_per_worker reuseport umask; hooks: 12"
ok $? "the setters are the table's DSL methods (--help), listen's options its options"

# Wrong Ruby types: refused where they are written.
refused 'worker_processes "3"' \
    'worker_processes: expected an Integer, got \\?"3\\?" \(ArgumentError\)' \
    "worker_processes: an Integer"
log_has 'c\.rb:1'
ok $? "the error points at the file's line"
refused 'timeout 5, cleanup: "x"' \
    'timeout: cleanup: expected a number of seconds, got \\?"x\\?"' \
    "timeout's cleanup: a number of seconds"
refused 'listen 8080, reuseport: 1' \
    'listen: reuseport: expected true or false, got 1 ' \
    "listen's reuseport: true or false"
refused 'refork_after [1, false, 2]' \
    'refork_after: expected an Array of Integers, optionally ending with false, got \[1, false, 2\]' \
    "refork_after: false only last"
refused 'listen "a,b"' \
    'listen: expected a String without a comma' \
    "listen: one address per call"
refused 'early_hints "yes"' \
    'early_hints: expected true or false, got \\?"yes\\?"' \
    "a generated setter checks its type"

# Right type, out of range: the monitor's message, as for a flag.
refused 'worker_processes 0' \
    'invalid value \\?"0\\?" for worker_processes in .*/c\.rb: expected an integer from 1 to 1024' \
    "worker_processes 0: the range is the table's"
refused 'listen 8080, umask: 0o1000' \
    'invalid value \\?"1000\\?" for listen_umask in .*/c\.rb: expected an octal number from 0 to 0777' \
    "listen's umask: 0o1000 is out of range"
refused 'client_body_buffer_size 2**31' \
    'invalid value \\?"2147483648\\?" for client_body_buffer_size in .*/c\.rb' \
    "client_body_buffer_size: at most 1G"

done_testing
