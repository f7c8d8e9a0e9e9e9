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
      begin
        sock = pf_connect(addr)
        sock.write("GET #{PATHS[i % PATHS.size]} HTTP/1.1\r\nHost: x\r\n" \
                   "Connection: close\r\n\r\n")
        good = sock.read.to_s.start_with?("HTTP/1.1 200")
        sock.close
      rescue SystemCallError, IOError
        good = false
      end
      lock.synchronize { good ? ok += 1 : failed += 1 }
    end
  end
end.each(&:join)
puts "#{ok} #{failed}"
