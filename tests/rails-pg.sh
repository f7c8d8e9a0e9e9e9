#!/bin/sh
# A Rails application with Active Record on a real PostgreSQL, served
# with examples/rails/config/pitchfork.rb across three reforks and a
# reload (HUP) while a client loop writes and reads rows: no request
# fails, every row a 201 answered for is in the table exactly once, and
# every database connection belongs to one live worker: none is shared
# by two processes, none is kept by the mold, none outlives its worker;
# on Rails 6.1 and 7.0, with the legacy connection handling too.
# The test runs its own cluster (initdb in its directory, as the
# postgres user when it runs as root, on 127.0.0.1 and a free port, so
# that the client port of each backend names the process holding it).
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

ruby -e 'require "rails"; require "active_record/railtie"' 2>/dev/null ||
    skip_all "rails not installed (ruby-rails)"
ruby -e 'require "pg"' 2>/dev/null || skip_all "ruby-pg not installed"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/postgres" ] && [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/psql" ] ||
    skip_all "postgresql not installed"
command -v ss >/dev/null 2>&1 || skip_all "ss not found (iproute2)"
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: the package's system user runs it.
    id postgres >/dev/null 2>&1 || skip_all "running as root, and no postgres user"
    command -v setpriv >/dev/null 2>&1 || skip_all "setpriv not found (util-linux)"
    as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
    # A root directory closed to other users (mode 700: a container made
    # from a private directory) lets no unprivileged user run a program.
    as_pg /bin/true 2>/dev/null ||
        skip_all "the postgres user cannot run a program here (/ is $(stat -c %A /))"
else
    as_pg() { "$@"; }
fi
plan 17
PITCHFORK_SPAWN_TIMEOUT=120 # Rails boots slowly on a loaded machine
export PITCHFORK_SPAWN_TIMEOUT
SLOW=$((TIMEOUT * 4)) # the bound of a refork or a reload under load

# ---- the cluster: its own directory, a free port, stopped by PID -------
PG="$TMPD/pg"
PGPORT=$(free_port)
PG_PID=""
chmod 711 "$TMPD" && mkdir "$PG" || exit 1
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$PG/pw"
if [ "$(id -u)" = 0 ]; then chown -R postgres: "$PG" || exit 1; fi
psql_q() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG" -p "$PGPORT" \
        -U postgres -d "${2:-postgres}" -c "$1"
}
pg_gone() { ! kill -0 "$PG_PID" 2>/dev/null; }
stop_pg() {
    [ -n "$PG_PID" ] || return 0
    kill -INT "$PG_PID" 2>/dev/null # fast shutdown: ends every backend
    TIMEOUT=20 wait_for pg_gone || kill -KILL "$PG_PID" 2>/dev/null
    wait "$PG_PID" 2>/dev/null
    PG_PID=""
}
trap 'stop_server; stop_pg; cleanup' EXIT

as_pg "$PGBIN/initdb" -D "$PG/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --pwfile="$PG/pw" --no-locale -E UTF8 \
    --no-sync >"$TMPD/initdb.log" 2>&1 || {
    diag "$(cat "$TMPD/initdb.log")"
    echo "Bail out! initdb failed"
    exit 1
}
as_pg "$PGBIN/postgres" -D "$PG/data" -c listen_addresses=127.0.0.1 \
    -c port="$PGPORT" -c unix_socket_directories="$PG" -c fsync=off \
    -c max_connections=40 -c shared_buffers=16MB -c log_connections=on \
    -c log_disconnections=on >"$TMPD/postgres.log" 2>&1 &
PG_PID=$!
PW=$(cat "$PG/pw")
if ! wait_for psql_q 'SELECT 1' ||
    ! psql_q "CREATE ROLE pfapp LOGIN PASSWORD '$PW'" >/dev/null ||
    ! psql_q 'CREATE DATABASE app OWNER pfapp' >/dev/null ||
    ! psql_q 'CREATE TABLE rows (id bigserial PRIMARY KEY, key text NOT NULL,
        pid integer NOT NULL, created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL); ALTER TABLE rows OWNER TO pfapp' app >/dev/null; then
    diag "$(cat "$TMPD/postgres.log")"
    echo "Bail out! the PostgreSQL cluster did not start"
    exit 1
fi
# No unique index on key: a row written twice must show up as twice.
# The replica of config/database.yml is the same database.
PF_DATABASE_URL="postgres://pfapp:$PW@127.0.0.1:$PGPORT/app?application_name=pf-primary"
PF_REPLICA_URL="postgres://pfapp:$PW@127.0.0.1:$PGPORT/app?application_name=pf-replica"
export PF_DATABASE_URL PF_REPLICA_URL

# owners_ok: every backend of the app is held by one live worker, at most
# two (writing and reading) a worker (see tests/pg-owners.rb); its last
# report is in $TMPD/owners.out.
owners_ok() {
    ruby "$top_srcdir/tests/pg-owners.rb" "$PG" "$PGPORT" pfapp "$SERVER_PID" 2 \
        >"$TMPD/owners.out" 2>&1
}
owners_check() {
    if wait_for owners_ok; then
        ok 0 "$1: every connection is held by one live worker ($(head -1 "$TMPD/owners.out"))"
    else
        ok 1 "$1: every connection is held by one live worker"
        diag "$(cat "$TMPD/owners.out")"
    fi
}

# ---- the client loop: rows written, their keys in $TMPD/keys -----------
LOOP_OK=0
LOOP_FAILED=0
start_rows() {
    rm -f "$TMPD/loop.stop" "$TMPD/loop.out"
    timeout "$((TIMEOUT * 8))" ruby "$top_srcdir/tests/rowloop.rb" "$SERVER_LISTEN" \
        "$TMPD/loop.stop" "$TMPD/loop.out" "$TMPD/keys" 2>>"$TMPD/loop.err" &
    LOOP_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $LOOP_PID"
}
stop_rows() {
    touch "$TMPD/loop.stop"
    wait "$LOOP_PID"
    read -r o f <"$TMPD/loop.out" || { o=0 f=1; }
    LOOP_OK=$((LOOP_OK + o))
    LOOP_FAILED=$((LOOP_FAILED + f))
}

# settled_from GEN: three children (a mold and 2 workers), all of one
# generation, GEN or later, none booting; its generation in $TMPD/gen.
settled_from() {
    t=$(titles)
    [ "$(printf '%s\n' "$t" | grep -c .)" = 3 ] || return 1
    printf '%s\n' "$t" | grep -q booting && return 1
    g=$(printf '%s\n' "$t" | sed -n 's/.*(gen:\([0-9]*\)).*/\1/p' | sort -u)
    [ "$(printf '%s\n' "$g" | grep -c .)" = 1 ] && [ "$g" -ge "$1" ] &&
        echo "$g" >"$TMPD/gen"
}

# ---- the server: the example's hooks, small refork_after values --------
mkdir -p "$TMPD/app/config"
cp "$APPS/rails-pg/config.ru" "$TMPD/app/config.ru"
cp "$APPS/rails-pg/config/database.yml" "$TMPD/app/config/database.yml"
: >"$TMPD/keys"
# Three reforks (gen 1, 2, 3), then none: the reload makes gen 4.
PITCHFORK_REFORK_AFTER=30,30,30,false
export PITCHFORK_REFORK_AFTER
start_server "$TMPD/s.sock" -c "$top_srcdir/examples/rails/config/pitchfork.rb" \
    -w 2 -E production "$TMPD/app/config.ru"
wait_for all_gen 0 3
ok $? "the Rails app boots on PostgreSQL: a mold and 2 workers, gen 0"
owners_check "gen 0, the mold read rows at boot"

for target in 1 2 3; do
    start_rows
    TIMEOUT=$SLOW wait_for settled_from "$target"
    ok $? "refork under the client loop: the workers of gen $(cat "$TMPD/gen" 2>/dev/null) are ready"
    stop_rows
    TIMEOUT=$SLOW wait_for settled_from "$target"
    owners_check "after the refork to gen $(cat "$TMPD/gen" 2>/dev/null)"
done

start_rows
kill -HUP "$SERVER_PID"
TIMEOUT=$SLOW wait_for all_gen 4 3
ok $? "HUP under the client loop: a new mold and 2 workers, all gen 4"
stop_rows
owners_check "after the reload"
stop_server
cat "$SERVER_LOG" >>"$TMPD/servers.log"

# Rails 6.1 and 7.0 without load_defaults: one connection handler a role.
if ruby -e 'require "rails"; exit(Rails.gem_version < Gem::Version.new("7.1"))'; then
    PF_LEGACY_HANDLING=1 start_server "$TMPD/s2.sock" \
        -c "$top_srcdir/examples/rails/config/pitchfork.rb" \
        -w 2 -E production "$TMPD/app/config.ru"
    wait_for all_gen 0 3
    ok $? "the legacy connection handling: a mold and 2 workers, gen 0"
    start_rows
    TIMEOUT=$SLOW wait_for settled_from 1
    stop_rows
    TIMEOUT=$SLOW wait_for settled_from 1
    owners_check "the legacy connection handling, after the refork to gen $(cat "$TMPD/gen" 2>/dev/null)"
    stop_server
    cat "$SERVER_LOG" >>"$TMPD/servers.log"
else
    skip "Rails $(ruby -e 'require "rails"; print Rails.version') has no legacy connection handling"
    skip "Rails $(ruby -e 'require "rails"; print Rails.version') has no legacy connection handling"
fi

is "$LOOP_FAILED" 0 "no request failed ($LOOP_OK served)"
[ "$LOOP_FAILED" = 0 ] || diag "$(head -20 "$TMPD/loop.err")"
[ -n "$(sed -n 5p "$TMPD/keys")" ]
ok $? "rows were written: $(grep -c . "$TMPD/keys")"
psql_q 'SELECT key FROM rows ORDER BY key' app >"$TMPD/table" 2>&1
LC_ALL=C sort "$TMPD/keys" >"$TMPD/keys.sorted"
rows_ok="every row a 201 answered for is in the table exactly once, and no other"
if cmp -s "$TMPD/keys.sorted" "$TMPD/table"; then
    ok 0 "$rows_ok"
else
    ok 1 "$rows_ok"
    diag "$(diff "$TMPD/keys.sorted" "$TMPD/table" | head -20)"
fi
if grep -E -q 'ActiveRecord::|PG::' "$TMPD/servers.log"; then
    ok 1 "no database error in the servers' logs"
    diag "$(grep -E -m5 'ActiveRecord::|PG::' "$TMPD/servers.log")"
else
    ok 0 "no database error in the servers' logs"
fi

backends() { psql_q "SELECT count(*) FROM pg_stat_activity WHERE usename = 'pfapp'"; }
no_backends() { [ "$(backends)" = 0 ]; }
wait_for no_backends
ok $? "once the server has stopped, no connection is left ($(backends))"

done_testing
