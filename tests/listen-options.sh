#!/bin/sh
# The listen options, as settings and as the DSL options of listen: the
# UNIX socket mode follows listen_umask, listen_reuseport sets
# SO_REUSEPORT (another socket can bind the port only when both set it),
# listen_queues binds several sockets per TCP address whose connections
# reach different workers, and listen_queues_per_worker says how many of
# them each worker waits on (default: queues - 1).
# SPDX-License-Identifier: MIT
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib-server.sh"
[ -r /proc/net/tcp ] || skip_all "no /proc/net/tcp"

plan 24

# Listening TCP sockets (state 0A) on 127.0.0.1:PORT.
listening() {
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'substr($2, length($2) - 4) == p && $4 == "0A"' \
        /proc/net/tcp | wc -l | tr -d ' '
}

# Bind and listen on 127.0.0.1:PORT with SO_REUSEPORT: succeeds only when
# the server's socket on that port has SO_REUSEPORT too.
probe_reuseport() {
    ruby -rsocket -e 's = Socket.new(:INET, :STREAM)
        s.setsockopt(:SOCKET, :REUSEPORT, true)
        s.bind(Addrinfo.tcp("127.0.0.1", Integer(ARGV[0])))
        s.listen(1)
        s.close' "$1" 2>"$TMPD/probe.err"
}

# The worker numbers that answered 40 sequential requests (new
# connections) on 127.0.0.1:PORT, sorted and unique.
# The descriptors of PORT's listening sockets that worker NR waits on
# (in its epoll set), one a line.
waited() {
    pid=$(ps -o pid=,args= --ppid "$SERVER_PID" |
        awk -v w="worker[$2]" 'index($0, w) { print $1 }')
    fds=$(ss -Hltnp "sport = :$1" | grep -o "pid=$pid,fd=[0-9]*" |
        cut -d= -f3)
    for e in /proc/"$pid"/fd/*; do
        [ "$(readlink "$e")" = "anon_inode:[eventpoll]" ] || continue
        awk '/^tfd:/ { print $2 }' /proc/"$pid"/fdinfo/"${e##*/}"
    done | grep -x -F "$(printf '%s\n' $fds)" | sort -n
}
# How many of them.
waits_on() { waited "$@" | wc -l | tr -d ' '; }

workers_seen() {
    ruby -rnet/http -rjson -e 'seen = 40.times.map do
            JSON.parse(Net::HTTP.get(URI("http://127.0.0.1:#{ARGV[0]}/")))["_worker_nr"]
        end
        puts seen.uniq.sort.join(" ")' "$1"
}

# Environment: umask 0007 and reuseport.
port=$(free_port)
PITCHFORK_LISTEN_UMASK=0007 PITCHFORK_LISTEN_REUSEPORT=true \
    start_server "$TMPD/a.sock" -l "127.0.0.1:$port" "$APPS/env.ru"
is "$(stat -c %a "$TMPD/a.sock")" 660 "PITCHFORK_LISTEN_UMASK=0007: the socket is 0660"
is "$(listening "$port")" 1 "one socket on the TCP port by default"
probe_reuseport "$port"
ok $? "PITCHFORK_LISTEN_REUSEPORT: a second SO_REUSEPORT socket binds the port"
is "$(hcurl -o /dev/null -w '%{http_code}' "$(url /)")" 200 "and the server serves"
stop_server

# Defaults: mode 0666, no SO_REUSEPORT.
port=$(free_port)
start_server "$TMPD/b.sock" -l "127.0.0.1:$port" "$APPS/env.ru"
is "$(stat -c %a "$TMPD/b.sock")" 666 "by default the socket is 0666"
probe_reuseport "$port"
ok "$([ $? != 0 ] && echo 0 || echo 1)" "by default another socket cannot bind the port"
grep -q 'Address already in use' "$TMPD/probe.err"
ok $? "(EADDRINUSE)"
stop_server

# Environment: two queues, two workers.
port=$(free_port)
PITCHFORK_LISTEN_QUEUES=2 start_server "127.0.0.1:$port" -w 2 "$APPS/env.ru"
is "$(listening "$port")" 2 "PITCHFORK_LISTEN_QUEUES=2: two sockets listen on the port"
is "$(workers_seen "$port")" "0 1" "40 requests reach both workers"
log_has 'listening on 127.0.0.1:[0-9]+ \(queue 2 of 2, SO_REUSEPORT; each worker waits on 1\)'
ok $? "the log names each queue"
stop_server

# The DSL: umask: and reuseport:, then queues: with queues_per_worker: 1.
port=$(free_port)
cat >"$TMPD/a.rb" <<'CONF'
listen "/elsewhere.sock", umask: 0007, reuseport: true
CONF
start_server "$TMPD/c.sock" -l "127.0.0.1:$port" -c "$TMPD/a.rb" "$APPS/env.ru"
is "$(stat -c %a "$TMPD/c.sock")" 660 "DSL umask: 0007: the socket is 0660"
probe_reuseport "$port"
ok $? "DSL reuseport: true sets SO_REUSEPORT"
log_has 'level=warn'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "no warning for umask: and reuseport:"
stop_server

port=$(free_port)
cat >"$TMPD/b.rb" <<'CONF'
worker_processes 2
listen 8080, queues: 2, queues_per_worker: 1
CONF
start_server "127.0.0.1:$port" -c "$TMPD/b.rb" "$APPS/env.ru"
is "$(listening "$port")" 2 "DSL queues: 2: two sockets listen on the port"
is "$(workers_seen "$port")" "0 1" "40 requests reach both workers"
log_has 'level=warn'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "no warning for queues: and queues_per_worker: 1"
is "$(waits_on "$port" 0) $(waits_on "$port" 1)" "1 1" \
    "queues_per_worker: 1: each worker waits on one queue"
stop_server

# Upstream's default: each worker waits on all queues but one.
port=$(free_port)
PITCHFORK_LISTEN_QUEUES=3 start_server "127.0.0.1:$port" -w 3 "$APPS/env.ru"
is "$(waits_on "$port" 0) $(waits_on "$port" 1) $(waits_on "$port" 2)" \
    "2 2 2" "3 queues: by default each worker waits on 2 of them"
log_has 'queue 3 of 3, SO_REUSEPORT; each worker waits on 2'
ok $? "the log says so"
ok "$([ "$(waited "$port" 0)" != "$(waited "$port" 1)" ] && echo 0 || echo 1)" \
    "worker 0 and worker 1 wait on different queues"
is "$(for nr in 0 1 2; do waited "$port" $nr; done | sort -u | wc -l | tr -d ' ')" 3 \
    "every queue has a worker"
stop_server

port=$(free_port)
PITCHFORK_LISTEN_QUEUES=3 start_server "127.0.0.1:$port" -w 1 "$APPS/env.ru"
log_has 'level=warn .*1 of the 3 queues have no worker waiting on them \(1 workers, listen_queues_per_worker 2\)'
ok $? "a queue no worker waits on is a warning"
stop_server

port=$(free_port)
PITCHFORK_LISTEN_QUEUES=3 PITCHFORK_LISTEN_QUEUES_PER_WORKER=5 \
    start_server "127.0.0.1:$port" -w 1 "$APPS/env.ru"
is "$(waits_on "$port" 0)" 3 "queues_per_worker above queues: all of them"
log_has 'level=warn'
ok "$([ $? != 0 ] && echo 0 || echo 1)" "and no queue lacks a worker"
stop_server
done_testing
