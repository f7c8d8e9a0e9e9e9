# Send a fixed number of HTTP/1.1 GET requests with "Connection: close",
# CONCURRENCY at a time, and print how many got each status.  Exits 1 when
# any request failed or did not get a 200.  Used by bench/cow-memory.sh to
# warm servers with an exact request count (wrk only has durations).
#
# Usage: ruby bench/load.rb HOST:PORT COUNT [CONCURRENCY] [PATH]
# SPDX-License-Identifier: MIT
require "socket"

hostport, count, concurrency, path = ARGV
abort "usage: load.rb HOST:PORT COUNT [CONCURRENCY] [PATH]" unless count
host, port = hostport.split(":", 2)
count = Integer(count)
concurrency = Integer(concurrency || 4)
path ||= "/"
request = "GET #{path} HTTP/1.1\r\nHost: #{hostport}\r\n" \
          "Connection: close\r\n\r\n".freeze

queue = Queue.new
count.times { |i| queue << i }
queue.close
statuses = Hash.new(0)
lock = Mutex.new
threads = Array.new(concurrency) do
  Thread.new do
    while queue.pop
      status = begin
        Socket.tcp(host, Integer(port), connect_timeout: 10) do |s|
          s.write(request)
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
