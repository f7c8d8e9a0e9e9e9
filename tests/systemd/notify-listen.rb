# A NOTIFY_SOCKET stand-in: binds an AF_UNIX datagram socket at ARGV[0]
# and appends every message to ARGV[1], one "--" line after each, until
# killed.  Used by tests/systemd/notify.sh.
# SPDX-License-Identifier: MIT
require "socket"

path, out = ARGV
sock = Socket.new(:UNIX, :DGRAM)
sock.bind(Socket.sockaddr_un(path))
File.open(out, "a") do |f|
  f.sync = true
  loop do
    msg, = sock.recvfrom(4096)
    f.write(msg.chomp, "\n--\n")
  end
end
