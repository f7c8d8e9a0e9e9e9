# frozen_string_literal: true
#
# continue.rb ADDR PATH BODY: a client that sends "Expect: 100-continue"
# and waits for the interim response before the body, as RFC 9110
# section 10.1.1 lets it.  Prints "interim:<status line or none>" then
# the final response.  Without an interim response within 5 s it prints
# "interim:none" and does not send the body.
#
# SPDX-License-Identifier: MIT
require "socket"

addr, path, body = ARGV
sock = if addr.start_with?("/")
         UNIXSocket.new(addr)
       else
         TCPSocket.new(*addr.split(":"))
       end
sock.write("POST #{path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n" \
           "Content-Length: #{body.bytesize}\r\n\r\n")
got = +""
interim = "none"
if sock.wait_readable(5)
  got << sock.readpartial(65_536)
  if got.start_with?("HTTP/1.1 100 ")
    interim, got = got.split("\r\n\r\n", 2)
    interim = interim.lines.first.chomp
    sock.write(body)
  end
end
sock.close_write
begin
  loop { got << sock.readpartial(65_536) }
rescue EOFError, Errno::ECONNRESET
  nil
end
puts "interim:#{interim}"
print got
