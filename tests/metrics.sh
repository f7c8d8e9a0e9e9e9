#!/bin/sh
# The monitor's Prometheus endpoint (metrics_listen): GET /metrics in the
# text format that promtool accepts, the request counters and the
# duration histogram matching the requests sent and kept when a worker
# is replaced, 404 and 405 elsewhere, slow or silent scrapers cut off
# without stopping the monitor from answering the next scrape or from
# replacing a killed worker, a non-loopback address refused, a UNIX
# socket, workers replaced over worker_memory_max counted, a socket
# passed by systemd as "metrics", and a real Prometheus
# server scraping it.
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"

command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 ||
    skip_all "prometheus and promtool not installed (Debian package prometheus)"
plan 33

APP="$top_srcdir/examples/hello/config.ru"
MPORT=$(free_port)
MADDR=127.0.0.1:$MPORT

scrape() {
    curl -sS --max-time 10 "http://$MADDR/metrics"
}

# The sum of a family's samples ($1: a regex of the sample names).
total() {
    scrape | awk -v re="^$1[{ ]" '$0 ~ re { s += $NF } END { print s + 0 }'
}

start_server "127.0.0.1:$(free_port)" -w 2 --metrics-listen "$MADDR" "$APP"
log_has "metrics on http://$MADDR/metrics"
ok $? "the monitor says where the metrics are"

head=$(curl -sS --max-time 10 -D - -o "$TMPD/m0" "http://$MADDR/metrics" | tr -d '\r')
printf '%s\n' "$head" | grep -qx 'Content-Type: text/plain; version=0.0.4; charset=utf-8'
ok $? "GET /metrics is text/plain; version=0.0.4"
promtool check metrics <"$TMPD/m0" >"$TMPD/promtool.out" 2>&1
st=$?
ok $st "promtool check metrics accepts the exposition"
[ "$st" = 0 ] || diag "$(cat "$TMPD/promtool.out")"
for f in requests_total request_duration_seconds workers generation \
    reforks_total reloads_total worker_timeouts_total worker_memory_bytes \
    worker_memory_replacements_total spawn_errors_total listen_queue \
    log_lines_dropped_total build_info; do
    grep -q "^# TYPE pitchfork_$f " "$TMPD/m0" || missing="$missing $f"
done
is "${missing:-}" "" "every family has its TYPE line"
grep -q "^pitchfork_build_info{version=\"$PACKAGE_VERSION\",ruby_version=\"$(ruby -e 'print RUBY_VERSION')\"} 1$" "$TMPD/m0"
ok $? "pitchfork_build_info names the version and the embedded Ruby's"

before=$(total pitchfork_requests_total)
hbefore=$(total pitchfork_request_duration_seconds_count)
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
    hcurl -o /dev/null "$(url /)"
done
is "$(($(total pitchfork_requests_total) - before))" 12 \
    "the per-worker request counters add up to the 12 requests sent"
is "$(($(total pitchfork_request_duration_seconds_count) - hbefore))" 12 \
    "so does the histogram's count"
is "$(scrape | grep -c '^pitchfork_request_duration_seconds_bucket{le=')" 16 \
    "the histogram has 16 buckets, 1 ms to +Inf"
is "$(scrape | grep -c '^pitchfork_workers{state="idle"} 2$')" 1 \
    "pitchfork_workers shows the 2 idle workers"

is "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$MADDR/other")" 404 \
    "another path is 404"
is "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "http://$MADDR/metrics")" 405 \
    "another method is 405"

# Slow scrapers: one silent, one sending a byte a second.
timeout "$TIMEOUT" ruby "$top_srcdir/tests/slowscrape.rb" "$MADDR" silent "$TMPD/silent" &
KNOWN_PIDS="$KNOWN_PIDS $!"
timeout "$TIMEOUT" ruby "$top_srcdir/tests/slowscrape.rb" "$MADDR" trickle "$TMPD/trickle" &
KNOWN_PIDS="$KNOWN_PIDS $!"
wait_for grep -q connected "$TMPD/silent" && wait_for grep -q connected "$TMPD/trickle"
ok $? "two slow scrapers are connected"
scrape >"$TMPD/m1" && grep -q '^pitchfork_generation ' "$TMPD/m1"
ok $? "the next scrape is answered while they hang"
sent=$(total pitchfork_requests_total)
hsent=$(total pitchfork_request_duration_seconds_count)
victim=$(worker_pids | head -1)
kill -KILL "$victim"
replaced() {
    n=$(worker_pids | grep -vx "$victim" | grep -c .)
    [ "$n" = 2 ] && log_has 'event=ready msg="worker [01] pid [0-9]+ ready' &&
        scrape | grep -q '^pitchfork_workers{state="idle"} 2$'
}
wait_for replaced
ok $? "a killed worker is reaped and replaced meanwhile"
is "$(total pitchfork_requests_total)" "$sent" \
    "the requests of the killed worker are still counted"
is "$(total pitchfork_request_duration_seconds_count)" "$hsent" \
    "and so are its durations"
wait_for grep -q closed "$TMPD/silent"
ok $? "the silent scraper is cut off"
wait_for grep -q closed "$TMPD/trickle"
ok $? "the trickling scraper is cut off"

# More connections at once than are answered: the rest are closed, and
# a scrape is answered again once they are gone.
for i in 1 2 3 4 5 6; do
    timeout "$TIMEOUT" ruby "$top_srcdir/tests/slowscrape.rb" "$MADDR" silent "$TMPD/many$i" &
    KNOWN_PIDS="$KNOWN_PIDS $!"
done
wait_for sh -c "grep -l closed $TMPD/many* | wc -l | grep -qx 6"
ok $? "six silent connections are all closed"
scrape | grep -q '^pitchfork_generation '
ok $? "and the next scrape is answered"

# A real Prometheus server scrapes it every second.
PPORT=$(free_port)
cat >"$TMPD/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pitchfork-test
    static_configs:
      - targets: ["$MADDR"]
EOC
prometheus --config.file="$TMPD/prometheus.yml" \
    --storage.tsdb.path="$TMPD/prometheus-data" \
    --web.listen-address="127.0.0.1:$PPORT" >"$TMPD/prometheus.log" 2>&1 &
PROM_PID=$!
KNOWN_PIDS="$KNOWN_PIDS $PROM_PID"
query() {
    curl -sS --max-time 5 \
        "http://127.0.0.1:$PPORT/api/v1/query?query=pitchfork_requests_total" \
        >"$TMPD/query.json" &&
        grep -q '"job":"pitchfork-test"' "$TMPD/query.json"
}
TIMEOUT=120 wait_for query
st=$?
ok $st "Prometheus scraped pitchfork_requests_total for the job"
[ "$st" = 0 ] || diag "$(tail -5 "$TMPD/prometheus.log"; cat "$TMPD/query.json")"
kill -TERM "$PROM_PID" 2>/dev/null
wait "$PROM_PID" 2>/dev/null
stop_server

# A non-loopback address is refused with the setting and the value.
"$PITCHFORK" -l "127.0.0.1:$(free_port)" --metrics-listen 0.0.0.0:9394 "$APP" \
    >"$TMPD/refused.log" 2>&1
ok $((!$?)) "a non-loopback metrics_listen stops the start"
grep -q 'metrics_listen: \\"0.0.0.0:9394\\" is not a loopback address (allowed: 127.0.0.0/8, \[::1\], localhost, or a UNIX socket path)' "$TMPD/refused.log"
st=$?
ok $st "with an error naming the setting and the value"
[ "$st" = 0 ] || diag "$(cat "$TMPD/refused.log")"

# A UNIX socket, and an address bound twice (listen_queues).
PITCHFORK_LISTEN_QUEUES=2
export PITCHFORK_LISTEN_QUEUES
start_server "127.0.0.1:$(free_port)" -w 1 --metrics-listen "$TMPD/metrics.sock" "$APP"
unset PITCHFORK_LISTEN_QUEUES
curl -sS --max-time 10 --unix-socket "$TMPD/metrics.sock" http://localhost/metrics \
    >"$TMPD/m2"
grep -q '^pitchfork_workers{state="idle"} 1$' "$TMPD/m2" &&
    log_has "metrics on the UNIX socket $TMPD/metrics.sock, GET /metrics"
ok $? "metrics_listen takes a UNIX socket path"
is "$(grep '^pitchfork_listen_queue{.*kind="queued"}' "$TMPD/m2" | cut -d, -f1 | sort -u | wc -l)" 2 \
    "each queue of an address bound twice has a listener label of its own"
promtool check metrics <"$TMPD/m2" >"$TMPD/promtool2.out" 2>&1
st=$?
ok $st "promtool accepts that exposition too"
[ "$st" = 0 ] || diag "$(cat "$TMPD/promtool2.out")"
stop_server

# Workers above worker_memory_max are replaced, and counted.
PITCHFORK_WORKER_MEMORY_MAX=1K
export PITCHFORK_WORKER_MEMORY_MAX
start_server "127.0.0.1:$(free_port)" -w 1 --metrics-listen "$TMPD/m3.sock" "$APP"
unset PITCHFORK_WORKER_MEMORY_MAX
replacements() {
    curl -sS --max-time 5 --unix-socket "$TMPD/m3.sock" http://localhost/metrics |
        grep -Eq '^pitchfork_worker_memory_replacements_total [1-9][0-9]*$'
}
wait_for replacements
ok $? "pitchfork_worker_memory_replacements_total counts workers over worker_memory_max"
stop_server

# A socket systemd passes as "metrics" is the endpoint, not HTTP.
if command -v systemd-socket-activate >/dev/null 2>&1; then
    HPORT=$(free_port)
    MPORT=$(free_port)
    MADDR=127.0.0.1:$MPORT
    systemd-socket-activate -l "127.0.0.1:$HPORT" -l "$MADDR" \
        --fdname=http:metrics "$PITCHFORK" -w 2 "$APP" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
    SERVER_LISTEN=127.0.0.1:$HPORT
    wait_for log_has "^Listening on $MADDR as"
    # The first connection, to the metrics socket, starts the server.
    wait_for sh -c "curl -sS --max-time 5 http://$MADDR/metrics | grep -q '^pitchfork_workers{state=\"idle\"} 2\$'"
    ok $? "the passed metrics socket answers /metrics"
    is "$(hcurl "$(url /)")" Hello "the http socket serves the application"
    is "$(grep -c "metrics on fd [0-9]* (metrics, from systemd)" "$SERVER_LOG")" 1 \
        "the metrics socket is taken as such"
    log_has "listening on $MADDR"
    ok $((!$?)) "and is not served as HTTP"
    KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"
    stop_server

    # The metrics socket alone: pitchfork binds -l for HTTP itself.
    HPORT=$(free_port)
    MPORT=$(free_port)
    MADDR=127.0.0.1:$MPORT
    systemd-socket-activate -l "$MADDR" --fdname=metrics \
        "$PITCHFORK" -w 1 -l "127.0.0.1:$HPORT" "$APP" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    KNOWN_PIDS="$KNOWN_PIDS $SERVER_PID"
    SERVER_LISTEN=127.0.0.1:$HPORT
    wait_for log_has "^Listening on $MADDR as"
    wait_for sh -c "curl -sS --max-time 5 http://$MADDR/metrics | grep -q '^pitchfork_workers{state=\"idle\"} 1\$'"
    ok $? "a metrics socket passed alone answers /metrics"
    is "$(hcurl "$(url /)")" Hello "and -l is bound for the application"
    KNOWN_PIDS="$KNOWN_PIDS $(server_children | tr '\n' ' ')"
    stop_server
else
    for i in 1 2 3 4 5 6; do skip "systemd-socket-activate not found"; done
fi
done_testing
