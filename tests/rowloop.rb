# frozen_string_literal: true
#
# The client loop of tests/rails-pg.sh: over and over, one connection per
# request, POST /rows a new key, then GET /rows/KEY, and every tenth time
# GET /rows, until the file STOP exists; then writes "OK FAILED" to OUT.
# Every key whose POST got a 201 is a line of KEYS, written as soon as
# the answer came.  A request fails when it cannot connect, gets another
# status, or a read does not show the key just written.  Bounded by the
# caller's timeout(1).  Usage: rowloop.rb ADDR STOP OUT KEYS
#
# SPDX-License-Identifier: MIT
require_relative "connect"

addr, stop, out, keys_path = ARGV
ok = failed = 0
errors = Hash.new(0)
keys = File.open(keys_path, "a")
keys.sync = true

# One request; the status and the body.
def request(addr, head, body = "")
  sock = pf_connect(addr)
  sock.write("#{head}Host: x\r\nConnection: close\r\n" \
             "Content-Length: #{body.bytesize}\r\n\r\n#{body}")
  res = sock.read.to_s
  sock.close
  status = res[/\AHTTP\/1\.1 (\d{3}) /, 1].to_i
  [status, res.split("\r\n\r\n", 2)[1].to_s]
end

n = 0
until File.exist?(stop)
  n += 1
  key = "k#{Process.pid}-#{n}"
  begin
    status, body = request(addr, "POST /rows HTTP/1.1\r\n" \
      "Content-Type: application/x-www-form-urlencoded\r\n", "key=#{key}")
    if status == 201
      keys.puts(key)
      status, body = request(addr, "GET /rows/#{key} HTTP/1.1\r\n")
      if status == 200 && body.include?(%("#{key}"))
        ok += 2
      else
        ok += 1
        failed += 1
        errors["GET /rows/KEY: #{status} #{body[0, 60].inspect}"] += 1
      end
    else
      failed += 1
      errors["POST /rows: #{status} #{body[0, 60].inspect}"] += 1
    end
    next unless (n % 10).zero?

    status, body = request(addr, "GET /rows HTTP/1.1\r\n")
    if status == 200 && body.include?('"count":')
      ok += 1
    else
      failed += 1
      errors["GET /rows: #{status} #{body[0, 60].inspect}"] += 1
    end
  rescue SystemCallError, IOError => e
    failed += 1
    errors[e.class.name] += 1
  end
end
keys.close
File.write(out, "#{ok} #{failed}\n")
errors.each { |k, v| warn "rowloop: #{v} x #{k}" }
