# frozen_string_literal: true
#
# Misbehaving clients for tests/slow-clients.sh, against ADDR (/path.sock
# or host:port):
#
#   silent ADDR N READY DONE   open N connections that send nothing, touch
#                              READY, wait until the server has closed
#                              them all, then write DONE: "closed N"
#   slow ADDR N STOP OUT       open N connections that each send one byte
#                              of a request head a second until STOP
#                              exists, then write to OUT how they ended:
#                              "408 A closed B open C" (answered 408,
#                              closed without an answer, still open)
#   late-body ADDR SECONDS     send a whole POST head at once, its
#                              5-byte body SECONDS later, and print the
#                              answer
#   activate PORT DEFER CMD... bind 127.0.0.1:PORT with TCP_DEFER_ACCEPT
#                              DEFER seconds and exec CMD with it as the
#                              socket systemd would pass (fd 3,
#                              LISTEN_FDS=1, LISTEN_PID)
#
# Bounded by the caller's timeout(1).
#
# SPDX-License-Identifier: MIT
require_relative "connect"

HEAD = "GET /slow HTTP/1.1\r\nHost: slow.example\r\nX-Pad: " \
       "#{'a' * 4000}\r\n\r\n"

# What is there to read on sock without waiting: :eof, or the bytes.
def peek(sock)
  sock.read_nonblock(4096)
rescue IO::WaitReadable
  ""
rescue EOFError, Errno::ECONNRESET, Errno::EPIPE
  :eof
end

def silent(addr, count, ready, done)
  socks = Array.new(count) { pf_connect(addr) }
  File.write(ready, "")
  open = socks.dup
  until open.empty?
    readable, = IO.select(open, nil, nil, 1)
    (readable || []).each { |s| open.delete(s) if peek(s) == :eof }
  end
  File.write(done, "closed #{count}\n")
end

# One slow client: its socket, the bytes sent, what it read.
Slow = Struct.new(:sock, :sent, :got, :ended)

def slow_step(c)
  return if c.ended

  data = peek(c.sock)
  if data == :eof
    c.ended = true
    return
  end
  c.got << data
  return if c.sent >= HEAD.bytesize

  c.sock.write_nonblock(HEAD.byteslice(c.sent, 1))
  c.sent += 1
rescue IO::WaitWritable
  nil
rescue Errno::EPIPE, Errno::ECONNRESET
  c.ended = true
end

def slow(addr, count, stop, out)
  clients = Array.new(count) { Slow.new(pf_connect(addr), 0, +"", false) }
  until File.exist?(stop)
    clients.each { |c| slow_step(c) }
    sleep 1
  end
  clients.each { |c| slow_step(c) }
  answered, rest = clients.partition { |c| c.got.start_with?("HTTP/1.1 408 ") }
  File.write(out, "408 #{answered.size} closed #{rest.count(&:ended)} " \
                  "open #{rest.count { |c| !c.ended }}\n")
  clients.each { |c| c.sock.close }
end

def late_body(addr, seconds)
  sock = pf_connect(addr)
  sock.write("POST /all HTTP/1.1\r\nHost: late.example\r\n" \
             "Content-Length: 5\r\n\r\n")
  sleep seconds
  sock.write("hello")
  sock.close_write
  $stdout.write(sock.read)
end

def activate(port, defer, cmd)
  sock = Socket.new(:INET, :STREAM)
  sock.setsockopt(:SOCKET, :REUSEADDR, true)
  sock.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_DEFER_ACCEPT, defer)
  sock.bind(Addrinfo.tcp("127.0.0.1", port))
  sock.listen(128)
  ENV["LISTEN_FDS"] = "1"
  ENV["LISTEN_PID"] = Process.pid.to_s
  exec(*cmd, 3 => sock)
end

if ARGV[0] == "activate"
  activate(Integer(ARGV[1]), Integer(ARGV[2]), ARGV[3..])
end
mode, addr, count, a, b = ARGV
case mode
when "silent" then silent(addr, Integer(count), a, b)
when "slow" then slow(addr, Integer(count), a, b)
when "late-body" then late_body(addr, Float(count))
else abort "usage: slowclients.rb silent|slow|late-body ADDR N [FILE FILE] " \
           "or activate PORT DEFER CMD..."
end
