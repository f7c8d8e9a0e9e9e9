# frozen_string_literal: true
#
# A stand-in for journald's native socket, for tests/journal.sh: bind a
# datagram socket at PATH and append every entry received to OUT as one
# JSON object per line ({"MESSAGE": ..., "PRIORITY": ..., ...}).  Entries
# too large for a datagram arrive as a memfd passed with SCM_RIGHTS.
# Exits after SECONDS (default 120) so that it never outlives its test.
#   ruby journal-listen.rb PATH OUT [SECONDS]
# SPDX-License-Identifier: MIT

require "json"
require "socket"

path, out, seconds = ARGV
deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + Float(seconds || 120)

# The native protocol: "NAME=value\n", or "NAME\n" + 64-bit LE length +
# value + "\n" for a value that holds a newline.
def parse(data)
  entry = {}
  pos = 0
  while pos < data.bytesize
    nl = data.index("\n", pos) or break
    line = data.byteslice(pos, nl - pos)
    if (eq = line.index("="))
      entry[line[0, eq]] = line[(eq + 1)..]
      pos = nl + 1
    else
      len = data.byteslice(nl + 1, 8).unpack1("Q<")
      entry[line] = data.byteslice(nl + 9, len)
      pos = nl + 9 + len + 1
    end
  end
  entry.transform_values { |v| v.force_encoding(Encoding::UTF_8).scrub }
end

sock = Socket.new(:UNIX, :DGRAM)
sock.bind(Socket.sockaddr_un(path))
File.open(out, "a") do |f|
  f.sync = true
  loop do
    left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
    break if left <= 0
    next unless IO.select([sock], nil, nil, left)

    data, _addr, _flags, *controls = sock.recvmsg(1 << 20, 0, nil, scm_rights: true)
    controls.each do |c|
      next unless c.cmsg_is?(:SOCKET, :RIGHTS)

      c.unix_rights.each do |io|
        io.rewind
        data = io.read
        io.close
      end
    end
    f.puts(JSON.generate(parse(data.b)))
  end
end
