# frozen_string_literal: true
#
# Shared by the Ruby test clients: open a connection to ADDR, a UNIX
# socket path ("/...") or "host:port".
#
# SPDX-License-Identifier: MIT
require "socket"

def pf_connect(addr)
  return UNIXSocket.new(addr) if addr.start_with?("/")

  host, port = addr.split(":")
  TCPSocket.new(host, Integer(port))
end
