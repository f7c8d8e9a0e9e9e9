# frozen_string_literal: true
#
# A raw HTTP client for the tests: sends stdin as is to ADDR (/path.sock
# or host:port), half-closes unless --keep-open, and prints every byte the
# server answers until it closes; with --body only the body of the final
# response, de-chunked.  Bounded by the caller's timeout(1).
#
# SPDX-License-Identifier: MIT
require_relative "connect"

addr = ARGV.shift
keep_open = ARGV.delete("--keep-open")
body_only = ARGV.delete("--body")
sock = pf_connect(addr)
sock.write($stdin.binmode.read)
sock.close_write unless keep_open
out = +""
begin
  while (chunk = sock.readpartial(65_536))
    out << chunk
  end
rescue EOFError, Errno::ECONNRESET
  nil
end

def dechunk(s)
  body = +""
  until s.empty?
    size, s = s.split("\r\n", 2)
    n = size.to_i(16)
    break if n.zero? || s.nil?

    body << s.byteslice(0, n)
    s = s.byteslice(n + 2..) || ""
  end
  body
end

if body_only
  # Skip interim 1xx responses, then split the head from the body.
  head, body = out.split("\r\n\r\n", 2)
  while head&.match?(%r{\AHTTP/1\.1 1\d\d }) && body
    head, body = body.split("\r\n\r\n", 2)
  end
  body = dechunk(body || "") if head =~ /^transfer-encoding:\s*chunked/i
  out = body || ""
end
$stdout.binmode
$stdout.write(out)
