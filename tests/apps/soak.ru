# frozen_string_literal: true
# The soak test's application (tests/soak.sh): one route per request
# type, each with an answer the client can check byte for byte.
# SPDX-License-Identifier: MIT
require "digest"

# An each-body without a length: sent chunked, part by part.
class Parts
  def initialize(parts)
    @parts = parts
  end

  def each(&block)
    @parts.each(&block)
  end
end

STREAMED = Array.new(8) { |i| "part #{i}\n" }.freeze
RACK3 = Rack.release.to_i >= 3

def text(body, status = 200)
  [status, { "content-type" => "text/plain" }, [body]]
end

run lambda { |env|
  case env["PATH_INFO"]
  when "/hello"
    text("hello\n")
  when "/echo"
    # Sized and chunked uploads alike: the length and digest of the body.
    body = env["rack.input"].read
    text("#{body.bytesize} #{Digest::SHA256.hexdigest(body)}\n")
  when "/stream"
    if RACK3
      # A Rack 3 streaming body: the server hands it the connection.
      [200, { "content-type" => "text/plain" },
       lambda { |stream|
         STREAMED.each { |s| stream.write(s) }
         stream.close
       }]
    else
      [200, { "content-type" => "text/plain" }, Parts.new(STREAMED)]
    end
  when "/hijack"
    io = env["rack.hijack"].call
    io.write("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhijack\n")
    io.close
    [200, {}, []]
  when "/raise"
    raise ArgumentError, "soak: an application error"
  else
    text("not found\n", 404)
  end
}
