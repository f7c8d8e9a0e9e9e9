#!/bin/bash
# Throughput benchmark: the hello-world Rack app behind pitchfork, unicorn
# and puma (and nginx "return 200" as a floor), 2 workers each, all started
# by this script on 127.0.0.1, each warmed up and then loaded with
#   wrk -t2 -c8 -d10s -H 'Connection: close'
# For every server it prints req/s (from wrk) and the server's CPU time per
# request: utime+stime (+cutime+cstime, for children reaped meanwhile) of
# every process of the server's tree, after minus before, over the number
# of requests wrk completed.  On a small machine wrk competes with the
# server for the CPU, so req/s alone hides the server's own cost.
#
# Usage: bench/throughput.sh
# Environment:
#   RUNS=N            repeat the measurement N times (default 1) and report
#                     min/median/max
#   SERVERS="..."     which servers, in order (default
#                     "nginx unicorn puma pitchfork"); missing ones are
#                     skipped.  Also: pitchfork-metrics (pitchfork with
#                     metrics_listen, scraped every SCRAPE_INTERVAL
#                     seconds, default 1, by curl, whose CPU is not
#                     counted) and pitchfork-base (PITCHFORK_BASE, another
#                     build, e.g. one without the metrics), each compared
#                     to pitchfork within each run
#   DURATION=10s      wrk -d; WARMUP=3s wrk -d of the warm-up
#   THREADS=2 CONNECTIONS=8 WORKERS=2
#   APP=path.ru       default bench/apps/hello.ru (examples/hello/config.ru
#                     with an explicit Content-Length)
#   PITCHFORK=path    default build/src/pitchfork or src/pitchfork
#   BENCH_KEEP_TMP=1  keep the servers' logs
# SPDX-License-Identifier: MIT
set -u

. "$(dirname "$0")/lib-bench.sh"

RUNS=${RUNS:-1}
SERVERS=${SERVERS:-"nginx unicorn puma pitchfork"}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}
WORKERS=${WORKERS:-2}
APP=${APP:-$BENCH_TOP/bench/apps/hello.ru}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-1}
PITCHFORK_BASE=${PITCHFORK_BASE:-}

command -v wrk >/dev/null || { echo "wrk not found (apt install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }

# start_server NAME: starts it, sets PID_<name> and URL_<name>, or says
# why it was skipped.
start_server() {
    local name=$1 port url mport pid
    port=$(free_port)
    url="http://127.0.0.1:$port/"
    case $name in
    pitchfork)
        [ -n "$PITCHFORK" ] && [ -x "$PITCHFORK" ] || { echo "skip pitchfork: not built"; return 1; }
        bench_start pitchfork "$BENCH_TMP/pitchfork.log" \
            "$PITCHFORK" -E production -w "$WORKERS" -l "127.0.0.1:$port" "$APP"
        ;;
    pitchfork-metrics)
        [ -n "$PITCHFORK" ] && [ -x "$PITCHFORK" ] || { echo "skip $name: not built"; return 1; }
        mport=$(free_port)
        bench_start "$name" "$BENCH_TMP/$name.log" \
            "$PITCHFORK" -E production -w "$WORKERS" -l "127.0.0.1:$port" \
            --metrics-listen "127.0.0.1:$mport" "$APP"
        pid=$BENCH_PID
        # The scraper: its own CPU is outside the server's tree.
        bench_start "$name-scraper" "$BENCH_TMP/$name-scraper.log" \
            bash -c "while :; do curl -s -o /dev/null --max-time 2 \
                http://127.0.0.1:$mport/metrics; sleep $SCRAPE_INTERVAL; done"
        BENCH_PID=$pid
        ;;
    pitchfork-base)
        [ -n "$PITCHFORK_BASE" ] && [ -x "$PITCHFORK_BASE" ] || { echo "skip $name: PITCHFORK_BASE not set"; return 1; }
        bench_start "$name" "$BENCH_TMP/$name.log" \
            "$PITCHFORK_BASE" -E production -w "$WORKERS" -l "127.0.0.1:$port" "$APP"
        ;;
    unicorn)
        command -v unicorn >/dev/null || { echo "skip unicorn: not installed"; return 1; }
        unicorn_conf "$WORKERS" "127.0.0.1:$port" >"$BENCH_TMP/unicorn.conf.rb"
        bench_start unicorn "$BENCH_TMP/unicorn.log" \
            unicorn -E production -c "$BENCH_TMP/unicorn.conf.rb" "$APP"
        ;;
    puma)
        command -v puma >/dev/null || { echo "skip puma: not installed"; return 1; }
        bench_start puma "$BENCH_TMP/puma.log" \
            puma -e production -w "$WORKERS" -t 1:1 -b "tcp://127.0.0.1:$port" "$APP"
        ;;
    nginx)
        [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { echo "skip nginx: not installed"; return 1; }
        mkdir -p "$BENCH_TMP/nginx"
        cat >"$BENCH_TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $WORKERS;
pid $BENCH_TMP/nginx/nginx.pid;
error_log $BENCH_TMP/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $BENCH_TMP/nginx/body;
    proxy_temp_path $BENCH_TMP/nginx/proxy;
    fastcgi_temp_path $BENCH_TMP/nginx/fastcgi;
    uwsgi_temp_path $BENCH_TMP/nginx/uwsgi;
    scgi_temp_path $BENCH_TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        location / { default_type text/plain; return 200 "Hello\n"; }
    }
}
EOF
        bench_start nginx "$BENCH_TMP/nginx.log" \
            "$(command -v nginx || echo /usr/sbin/nginx)" -e "$BENCH_TMP/nginx/error.log" \
            -p "$BENCH_TMP/nginx" -c "$BENCH_TMP/nginx/nginx.conf"
        ;;
    *)
        echo "skip $name: unknown server"
        return 1
        ;;
    esac
    if ! wait_200 "$url" 60; then
        echo "skip $name: no 200 from $url within 60 s; log:"
        tail -n 20 "$BENCH_TMP/$name.log" | sed 's/^/    /'
        bench_stop "$BENCH_PID"
        return 1
    fi
    printf -v "PID_${name//-/_}" '%s' "$BENCH_PID"
    printf -v "URL_${name//-/_}" '%s' "$url"
    return 0
}

# measure NAME RUN: warm-up, then one measured wrk run; appends
# "name run reqs rps ticks" to $BENCH_TMP/results.
measure() {
    local name=$1 run=$2 pid url before after out reqs rps errs load
    pid=$(eval echo "\$PID_${name//-/_}")
    url=$(eval echo "\$URL_${name//-/_}")
    timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" \
        -H 'Connection: close' "$url" >/dev/null 2>&1
    load=$(cut -d' ' -f1 /proc/loadavg)
    before=$(tree_ticks "$pid")
    out=$(timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
        -H 'Connection: close' "$url" 2>&1)
    after=$(tree_ticks "$pid")
    echo "$out" >"$BENCH_TMP/wrk-$name-$run.txt"
    reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    errs=$(echo "$out" | grep -E 'Socket errors|Non-2xx' | tr -s ' ' | tr '\n' ';')
    if [ -z "$reqs" ] || [ "$reqs" -eq 0 ]; then
        echo "run $run $name: wrk failed: $out"
        return 1
    fi
    echo "$name $run $reqs $rps $((after - before))" >>"$BENCH_TMP/results"
    awk -v n="$name" -v r="$run" -v q="$reqs" -v s="$rps" -v t="$((after - before))" \
        -v hz="$CLK_TCK" -v e="$errs" -v l="$load" 'BEGIN {
            printf "run %d %-17s %9d requests %10.1f req/s  cpu %6.2f s  %7.1f us/req  (load %s) %s\n",
                r, n, q, s, t / hz, t / hz / q * 1e6, l, e }'
}

echo "throughput: $(nproc) CPUs, $WORKERS workers per server, wrk -t$THREADS -c$CONNECTIONS -d$DURATION -H 'Connection: close', $RUNS run(s)"
echo "app: $APP"
echo "pitchfork: ${PITCHFORK:-none}"
echo "versions: $(unicorn -v 2>/dev/null | head -1); $(puma -V 2>/dev/null | head -1); $(nginx -v 2>&1 | head -1); $(ruby -v)"
echo

ACTIVE=""
for s in $SERVERS; do
    if start_server "$s"; then
        ACTIVE="$ACTIVE $s"
        echo "$s: pid $(eval echo "\$PID_${s//-/_}") on $(eval echo "\$URL_${s//-/_}")"
    fi
done
echo
[ -n "$ACTIVE" ] || { echo "no server started" >&2; exit 1; }
: >"$BENCH_TMP/results"

for run in $(seq "$RUNS"); do
    for s in $ACTIVE; do
        measure "$s" "$run"
    done
done

echo
echo "summary over $RUNS run(s): min / median / max"
printf '%-17s %28s %28s\n' server "req/s" "CPU us/request"
for s in $ACTIVE; do
    rps=$(awk -v n="$s" '$1 == n { print $4 }' "$BENCH_TMP/results")
    us=$(awk -v n="$s" -v hz="$CLK_TCK" '$1 == n { printf "%.2f\n", $5 / hz / $3 * 1e6 }' "$BENCH_TMP/results")
    printf '%-17s %28s %28s\n' "$s" "$(stats "$rps" | awk '{ printf "%.0f / %.0f / %.0f", $1, $2, $3 }')" \
        "$(stats "$us" | awk '{ printf "%.1f / %.1f / %.1f", $1, $2, $3 }')"
done

case " $ACTIVE " in
*" unicorn "*)
    echo
    echo "ratios to unicorn, per run (same run), min / median / max"
    printf '%-17s %28s %28s\n' server "req/s ratio" "CPU/request ratio"
    for s in $ACTIVE; do
        [ "$s" = unicorn ] && continue
        rr=$(awk -v n="$s" '
            $1 == "unicorn" { u[$2] = $4 } $1 == n { v[$2] = $4 }
            END { for (r in v) if (r in u) printf "%.4f\n", v[r] / u[r] }' "$BENCH_TMP/results")
        cr=$(awk -v n="$s" '
            $1 == "unicorn" { u[$2] = $5 / $3 } $1 == n { v[$2] = $5 / $3 }
            END { for (r in v) if ((r in u) && u[r] > 0) printf "%.4f\n", v[r] / u[r] }' "$BENCH_TMP/results")
        printf '%-17s %28s %28s\n' "$s" "$(stats "$rr" | awk '{ printf "%.2f / %.2f / %.2f", $1, $2, $3 }')" \
            "$(stats "$cr" | awk '{ printf "%.2f / %.2f / %.2f", $1, $2, $3 }')"
    done
    ;;
esac

case " $ACTIVE " in
*" pitchfork "*)
    for s in $ACTIVE; do
        case $s in pitchfork-*) ;; *) continue ;; esac
        cr=$(awk -v n="$s" '
            $1 == "pitchfork" { u[$2] = $5 / $3 } $1 == n { v[$2] = $5 / $3 }
            END { for (r in v) if ((r in u) && u[r] > 0) printf "%.4f\n", v[r] / u[r] }' "$BENCH_TMP/results")
        [ -n "$cr" ] || continue
        echo
        echo "$s CPU/request ratio to pitchfork, per run, min / median / max:" \
            "$(stats "$cr" | awk '{ printf "%.3f / %.3f / %.3f", $1, $2, $3 }')"
    done
    ;;
esac
