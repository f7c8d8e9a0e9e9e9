# Send a fixed number of HTTP/1.1 GET requests with "Connection: close",
# CONCURRENCY at a time, and print how many got each status.  Exits 1 when
# any request failed or did not get a 200.  Used by bench/cow-memory.sh to
# warm servers with an exact request count (wrk only has durations).
#
# Usage: ruby bench/load.rb HOST:PORT COUNT [CONCURRENCY] [PATH] [N]
# With N, "%d" in PATH is replaced by the request's number modulo N, so
# that the requests go round the endpoints /e/0 .. /e/N-1 of
# bench/apps/warmup.ru.
# SPDX-License-Identifier: MIT
require "socket"

hostport, count, concurrency, path, endpoints = ARGV
abort "usage: load.rb HOST:PORT COUNT [CONCURRENCY] [PATH] [N]" unless count
host, port = hostport.split(":", 2)
count = Integer(count)
concurrency = Integer(concurrency || 4)
path ||= "/"
endpoints = endpoints && Integer(endpoints)
request = lambda do |i|
  p = endpoints ? format(path, i % endpoints) : path
  "GET #{p} HTTP/1.1\r\nHost: #{hostport}\r\nConnection: close\r\n\r\n"
end

queue = Queue.new
count.times { |i| queue << i }
queue.close
statuses = Hash.new(0)
lock = Mutex.new
threads = Array.new(concurrency) do
  Thread.new do
    while (i = queue.pop)
      status = begin
        Socket.tcp(host, Integer(port), connect_timeout: 10) do |s|
          s.write(request.call(i))
          response = +""
          response << s.readpartial(65_536) while true
        rescue EOFError
          response[/\AHTTP\/1\.[01] (\d{3})/, 1] || "bad-response"
        end
      rescue SystemCallError, IOError => e
        e.class.name
      end
      lock.synchronize { statuses[status] += 1 }
    end
  end
end
threads.each(&:join)
puts statuses.sort.map { |k, v| "#{k}:#{v}" }.join(" ")
exit(statuses.keys == ["200"] ? 0 : 1)
