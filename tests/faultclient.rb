# frozen_string_literal: true
#
# A client loop for the fault tests: CLIENTS threads GET /rec?ID on ADDR
# (/path.sock or host:port), one connection per request and a new ID for
# each, until the file STOP exists.  Then it checks the requests against
# RECORD, where the app appended the ID of every request it served, and
# writes "OK FAILED DUPLICATED LOST" to OUT: DUPLICATED counts IDs the
# app served more than once, LOST the 200s whose ID the app never
# recorded.  A request fails when it cannot connect, gets no answer
# within TIMEOUT seconds, or gets anything but a 200.  Bounded by the
# caller's timeout(1).  Usage: faultclient.rb ADDR STOP OUT RECORD CLIENTS
#
# SPDX-License-Identifier: MIT
require_relative "connect"

addr, stop, out, record, clients = ARGV
limit = Float(ENV.fetch("TIMEOUT", "30"))

def fc_get(addr, id, limit)
  sock = pf_connect(addr)
  sock.write("GET /rec?#{id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
  res = +""
  deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + limit
  loop do
    chunk = sock.read_nonblock(65_536, exception: false)
    break if chunk.nil?
    if chunk == :wait_readable
      left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      raise IOError, "no answer" if left <= 0

      sock.wait_readable(left)
      next
    end
    res << chunk
  end
  res
ensure
  sock&.close
end

ok = []
failed = 0
errors = Hash.new(0)
lock = Mutex.new
threads = Integer(clients).times.map do |t|
  Thread.new do
    n = 0
    until File.exist?(stop)
      id = "c#{t}-#{n += 1}"
      begin
        res = fc_get(addr, id, limit)
        good = res.start_with?("HTTP/1.1 200 ") && res.end_with?("ok #{id}\n")
        lock.synchronize do
          good ? ok << id : failed += 1
          errors[res[0, 40].inspect] += 1 unless good
        end
      rescue SystemCallError, IOError => e
        lock.synchronize do
          failed += 1
          errors[e.class.name] += 1
        end
      end
    end
  end
end
threads.each(&:join)
served = File.exist?(record) ? File.readlines(record, chomp: true) : []
dups = served.tally.count { |_, v| v > 1 }
lost = ok.size - (ok & served).size
File.write(out, "#{ok.size} #{failed} #{dups} #{lost}\n")
errors.each { |k, v| warn "faultclient: #{v} x #{k}" }
