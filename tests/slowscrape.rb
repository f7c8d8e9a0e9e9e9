# frozen_string_literal: true
# A scraper that never finishes its request: connects to HOST:PORT (or a
# UNIX socket path), then sends nothing ("silent") or "GET /metrics ..."
# one byte a second ("trickle"), until the server closes the connection.
# Writes "connected" and then "closed" to OUT.
#   ruby slowscrape.rb ADDR silent|trickle OUT
# SPDX-License-Identifier: MIT
require "socket"

addr, mode, out = ARGV
sock = if addr.start_with?("/")
         UNIXSocket.new(addr)
       else
         host, port = addr.split(":")
         TCPSocket.new(host, Integer(port))
       end
File.write(out, "connected\n")
request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".b
i = 0
loop do
  if mode == "trickle" && i < request.bytesize
    begin
      sock.write(request[i])
    rescue SystemCallError
      break
    end
    i += 1
  end
  next unless sock.wait_readable(1)

  begin
    break if sock.read_nonblock(4096, exception: false).nil?
  rescue SystemCallError
    break
  end
end
File.write(out, "connected\nclosed\n")
