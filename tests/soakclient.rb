# frozen_string_literal: true
#
# The soak test's client (tests/soak.sh): COUNT requests to ADDR
# (/path.sock or host:port) over THREADS parallel connections, the
# request types in turn: GET, POST with a length, chunked upload,
# streaming response, full hijack, 404, and an application exception
# (500).  A request passes when its status and body are the expected
# ones.  Prints "OK FAILED SECONDS" and, on stderr, a count of each kind
# of failure.  Bounded by the caller's timeout(1).
# Usage: soakclient.rb ADDR COUNT THREADS
#
# SPDX-License-Identifier: MIT
require "digest"
require_relative "connect"

addr, count, threads = ARGV
count = Integer(count)
threads = Integer(threads)

UPLOAD = Array.new(4096) { |i| (i * 7 % 256).chr }.join.b.freeze
ECHOED = "#{UPLOAD.bytesize} #{Digest::SHA256.hexdigest(UPLOAD)}\n"
STREAMED = Array.new(8) { |i| "part #{i}\n" }.join.freeze

# The request of each type, and the status and body it must get.
def chunked(data, size)
  data.bytes.each_slice(size).map { |s| format("%x\r\n%s\r\n", s.size, s.pack("C*")) }.join + "0\r\n\r\n"
end

HEAD = "Host: soak\r\nConnection: close\r\n"
REQUESTS = [
  ["GET /hello HTTP/1.1\r\n#{HEAD}\r\n", 200, "hello\n"],
  ["POST /echo HTTP/1.1\r\n#{HEAD}Content-Length: #{UPLOAD.bytesize}\r\n\r\n#{UPLOAD}", 200, ECHOED],
  ["POST /echo HTTP/1.1\r\n#{HEAD}Transfer-Encoding: chunked\r\n\r\n#{chunked(UPLOAD, 1000)}", 200, ECHOED],
  ["GET /stream HTTP/1.1\r\n#{HEAD}\r\n", 200, STREAMED],
  ["GET /hijack HTTP/1.1\r\n#{HEAD}\r\n", 200, "hijack\n"],
  ["GET /missing HTTP/1.1\r\n#{HEAD}\r\n", 404, "not found\n"],
  ["GET /raise HTTP/1.1\r\n#{HEAD}\r\n", 500, "Internal Server Error\n"],
].map { |req, status, body| [req.b.freeze, status, body.b.freeze] }.freeze

# The body of a response read to its end: de-chunked when it says so.
def body_of(head, rest)
  return rest unless head =~ /^transfer-encoding:\s*chunked\s*$/i

  out = +""
  loop do
    line, rest = rest.split("\r\n", 2)
    size = Integer(line.to_s.split(";").first, 16)
    return out if size.zero?

    out << rest.byteslice(0, size)
    rest = rest.byteslice(size + 2..)
  end
end

# One request; nil when it passed, else what went wrong.
def one(addr, kind)
  req, status, body = REQUESTS[kind]
  sock = pf_connect(addr)
  sock.write(req)
  res = sock.read.b
  sock.close
  head, rest = res.split("\r\n\r\n", 2)
  got = head.to_s[/\AHTTP\/1\.1 (\d{3}) /, 1].to_i
  return "kind #{kind}: status #{got}" if got != status
  return "kind #{kind}: body #{body_of(head, rest.to_s)[0, 40].inspect}" if body_of(head, rest.to_s) != body

  nil
rescue SystemCallError, IOError, ArgumentError, TypeError => e
  "kind #{kind}: #{e.class}"
end

next_i = 0
lock = Mutex.new
errors = Hash.new(0)
ok = failed = 0
start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
Array.new(threads) do
  Thread.new do
    loop do
      i = lock.synchronize { next_i += 1 }
      break if i > count

      why = one(addr, i % REQUESTS.size)
      lock.synchronize { why ? (failed += 1; errors[why] += 1) : ok += 1 }
    end
  end
end.each(&:join)
secs = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
puts "#{ok} #{failed} #{secs.round(1)}"
errors.each { |k, v| warn "soakclient: #{v} x #{k}" }
