# frozen_string_literal: true
# rack.input exercises: /sha256 reads with read(n, buf), /all with read,
# /lines with gets and each, /rewind reads twice, /partial reads 5
# bytes, /can_rewind tells whether rewind exists, /size asks the size,
# /upload parses a multipart form, /ignore never reads.
# SPDX-License-Identifier: MIT
require "digest"

def text(s)
  [200, { "content-type" => "text/plain" }, [s]]
end

run lambda { |env|
  input = env["rack.input"]
  case env["PATH_INFO"]
  when "/sha256"
    d = Digest::SHA256.new
    buf = String.new
    n = 0
    while input.read(16_384, buf)
      d << buf
      n += buf.bytesize
    end
    text("#{n} #{d.hexdigest}\n")
  when "/all"
    s = input.read
    text("#{s.bytesize} #{Digest::SHA256.hexdigest(s)} #{s.encoding}\n")
  when "/lines"
    first = input.gets
    rest = []
    input.each { |l| rest << l }
    text("first=#{first.inspect} rest=#{rest.size} last=#{rest.last.inspect}\n")
  when "/rewind"
    a = input.read
    input.rewind
    b = input.read
    text("#{a == b} #{a.bytesize}\n")
  when "/partial"
    text("#{input.read(5).inspect}\n")
  when "/upload"
    # Rack's multipart parser keeps the file in env["rack.tempfiles"];
    # the server close!s it after the response (Rack::TempfileReaper).
    file = Rack::Request.new(env).params["file"]
    text("#{file[:tempfile].size} #{file[:tempfile].path}\n")
  when "/can_rewind"
    text("#{input.respond_to?(:rewind)} #{input.class}\n")
  when "/size"
    text("#{input.size}\n")
  when "/eof"
    begin
      input.read
      text("no error\n")
    rescue EOFError => e
      File.write(env["QUERY_STRING"], "#{e.class}: #{e.message}") unless env["QUERY_STRING"].empty?
      raise
    end
  else
    text("ignored\n")
  end
}
