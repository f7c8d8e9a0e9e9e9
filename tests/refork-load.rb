# frozen_string_literal: true
#
# Load for tests/refork-timing.sh: TOTAL requests to ADDR (/path.sock or
# host:port) from THREADS concurrent clients, one connection each,
# cycling over fast and slow paths of tests/apps/procs.ru (a slow one
# keeps its worker busy while it is promoted).  Prints "OK FAILED"; a
# request fails when it cannot connect or gets anything but a 200.
# Bounded by the caller's timeout(1).  Usage: refork-load.rb ADDR TOTAL
# THREADS
#
# Each failed request is described on stderr (its number, path, elapsed
# time and the status line or the exception), so a failure can be told
# apart: refused, reset, closed before any byte, or an error status.
#
# SPDX-License-Identifier: MIT
require_relative "connect"

addr, total, threads = ARGV
total = Integer(total)
PATHS = ["/", "/", "/sleep?0.05", "/", "/", "/sleep?0.2", "/"].freeze
lock = Mutex.new
sent = ok = failed = 0
Array.new(Integer(threads)) do
  Thread.new do
    loop do
      i = lock.synchronize { sent += 1 }
      break if i > total
      path = PATHS[i % PATHS.size]
      t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      begin
        sock = pf_connect(addr)
        sock.write("GET #{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = sock.read.to_s
        sock.close
        why = reply.start_with?("HTTP/1.1 200") ? nil : (reply.lines.first || "no byte before EOF").inspect
      rescue SystemCallError, IOError => e
        why = "#{e.class}: #{e.message}"
      end
      elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
      warn format("request %d GET %s failed after %.3f s: %s", i, path, elapsed, why) if why
      lock.synchronize { why ? failed += 1 : ok += 1 }
    end
  end
end.each(&:join)
puts "#{ok} #{failed}"
