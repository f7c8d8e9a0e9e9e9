# An open-loop client at a fixed rate: request i is scheduled at
# start + i / RATE whatever happened to the earlier ones, and its latency
# is measured from that scheduled time, so that time spent waiting for a
# busy server (or for a free client thread) counts: no coordinated
# omission.  Each request is "GET PATH HTTP/1.1" with "Connection: close"
# on a new connection; PATH is drawn at random (a fixed seed) from the
# paths given, where "%d" in a path is replaced by a random number below
# --endpoints.
#
# Usage: ruby bench/rate.rb --port P --rate R --seconds S --out FILE
#            [--endpoints N] [--threads T] [--timeout SECONDS]
#            [--start MONOTONIC] PATH...
# Writes one line per request to FILE, in the order they completed:
#   scheduled  latency_ms  status  path
# where scheduled is CLOCK_MONOTONIC seconds (system-wide on Linux, so
# the caller can place its own events, such as a signal, on the same
# clock) and status is the HTTP status or the name of the error.
# --start schedules the first request at that CLOCK_MONOTONIC time (by
# default as soon as the client is up), so that the caller can send a
# signal exactly then.  Prints
# "sent N late M" at the end: M requests began more than 10 ms after
# their scheduled time because every client thread was busy.
# SPDX-License-Identifier: MIT
require "socket"
require "optparse"

opts = { endpoints: 1, threads: 64, timeout: 30.0, host: "127.0.0.1" }
OptionParser.new do |o|
  o.on("--port P", Integer) { |v| opts[:port] = v }
  o.on("--rate R", Float) { |v| opts[:rate] = v }
  o.on("--seconds S", Float) { |v| opts[:seconds] = v }
  o.on("--out FILE") { |v| opts[:out] = v }
  o.on("--endpoints N", Integer) { |v| opts[:endpoints] = v }
  o.on("--threads T", Integer) { |v| opts[:threads] = v }
  o.on("--timeout S", Float) { |v| opts[:timeout] = v }
  o.on("--seed N", Integer) { |v| opts[:seed] = v }
  o.on("--start T", Float) { |v| opts[:start] = v }
end.parse!
paths = ARGV.empty? ? ["/"] : ARGV
abort "usage: rate.rb --port P --rate R --seconds S --out FILE [PATH...]" unless
  opts[:port] && opts[:rate] && opts[:seconds] && opts[:out]

def mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)

# The status of one request, or the class name of its error.
def request(host, port, path, timeout)
  Socket.tcp(host, port, connect_timeout: timeout) do |s|
    s.write("GET #{path} HTTP/1.1\r\nHost: #{host}:#{port}\r\nConnection: close\r\n\r\n")
    response = +""
    deadline = mono + timeout
    loop do
      left = deadline - mono
      return "Timeout" if left <= 0 || !s.wait_readable(left)
      response << s.readpartial(65_536)
    rescue EOFError
      break
    end
    response[/\AHTTP\/1\.[01] (\d{3})/, 1] || "BadResponse"
  end
rescue SystemCallError, IOError, SocketError => e
  e.class.name.split("::").last
end

count = (opts[:rate] * opts[:seconds]).floor
rng = Random.new(opts[:seed] || 15)
plan = Array.new(count) do
  path = paths[rng.rand(paths.size)]
  path.include?("%d") ? format(path, rng.rand(opts[:endpoints])) : path
end
start = opts[:start] || mono + 0.05
nexti = 0
late = 0
lock = Mutex.new
out = File.open(opts[:out], "w")
threads = Array.new([opts[:threads], count].min) do
  Thread.new do
    loop do
      i = lock.synchronize { nexti < count ? (nexti += 1) - 1 : nil }
      break unless i
      sched = start + i / opts[:rate]
      wait = sched - mono
      if wait.positive?
        sleep wait
      elsif wait < -0.01
        lock.synchronize { late += 1 }
      end
      status = request(opts[:host], opts[:port], plan[i], opts[:timeout])
      lat = (mono - sched) * 1000
      lock.synchronize { out.printf("%.6f %.3f %s %s\n", sched, lat, status, plan[i]) }
    end
  end
end
threads.each(&:join)
out.close
puts "sent #{count} late #{late}"
