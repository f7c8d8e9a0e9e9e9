# frozen_string_literal: true
#
# A client loop for the process-model tests: GET PATH on ADDR (/path.sock
# or host:port) over and over, one connection per request, until the file
# STOP exists; then writes "OK FAILED" to OUT.  A request fails when it
# cannot connect or gets anything but a 200.  Bounded by the caller's
# timeout(1).  OUT.started appears once the first request is answered,
# so that the caller knows the loop runs before it acts.
# Usage: clientloop.rb ADDR STOP OUT [PATH]
#
# SPDX-License-Identifier: MIT
require_relative "connect"

addr, stop, out, path = ARGV
path ||= "/"
ok = failed = 0
errors = Hash.new(0)
until File.exist?(stop)
  begin
    sock = pf_connect(addr)
    sock.write("GET #{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    res = sock.read.to_s
    sock.close
    if res.start_with?("HTTP/1.1 200 ")
      File.write("#{out}.started", "") if ok.zero?
      ok += 1
    else
      failed += 1
      errors[res[0, 40].inspect] += 1
    end
  rescue SystemCallError, IOError => e
    failed += 1
    errors[e.class.name] += 1
  end
end
File.write(out, "#{ok} #{failed}\n")
errors.each { |k, v| warn "clientloop: #{v} x #{k}" }
