# frozen_string_literal: true
# Response shapes: Array, each and streaming bodies, to_path, no-body
# statuses, repeated headers (Rack 2 and 3 style), refused headers,
# exceptions, and a body that waits for the client to see its first part.
# SPDX-License-Identifier: MIT

# An each-body without a length: yields its parts, one at a time.
class Parts
  def initialize(*parts, &wait)
    @parts = parts
    @wait = wait
  end

  def each
    @parts.each_with_index do |part, i|
      @wait&.call if i == 1
      yield part
    end
  end
end

# A body that must be closed: records that close was called.
class Closing
  def initialize(path)
    @path = path
  end

  def each
    yield "closing body\n"
  end

  def close
    File.write(@path, "closed") unless @path.empty?
  end
end

# A body raising while it is iterated; close still runs.
class Raising < Closing
  def each
    raise ArgumentError, "boom in each"
  end
end

# A file body for sendfile(2); each is the fallback.
class FileBody
  def initialize(path)
    @path = path
  end

  def to_path
    @path
  end

  def each
    File.open(@path, "rb") { |f| while (s = f.read(65_536)) do yield s end }
  end
end

# The same file with each alone: no to_path, so no sendfile(2).
class FileEach < FileBody
  undef_method :to_path
end

def text(body, status = 200, headers = {})
  [status, { "content-type" => "text/plain" }.merge(headers), [body]]
end

run lambda { |env|
  q = env["QUERY_STRING"]
  case env["PATH_INFO"]
  when "/array"
    [200, { "content-type" => "text/plain" }, ["hello ", "world\n"]]
  when "/each"
    [200, { "content-type" => "text/plain" }, Parts.new("one ", "", "two\n")]
  when "/each_length"
    [200, { "content-type" => "text/plain", "content-length" => "8" }, Parts.new("one ", "two\n")]
  when "/wait"
    # The second part waits until the client, having read the first,
    # creates the file named by the query string.
    body = Parts.new("first\n", "second\n") do
      200.times { break if File.exist?(q); sleep 0.05 }
    end
    [200, { "content-type" => "text/plain" }, body]
  when "/stream"
    body = lambda do |stream|
      stream.write("streamed ")
      stream << "body\n"
      stream.flush
      stream.close
    end
    [200, { "content-type" => "text/plain" }, body]
  when "/file"
    [200, { "content-type" => "application/octet-stream" }, FileBody.new(q)]
  when "/file_each"
    [200, { "content-type" => "application/octet-stream" }, FileEach.new(q)]
  when "/status"
    [Integer(q), {}, ["must not be sent"]]
  when "/pad"
    # A 204 whose head is q bytes of x-pad longer: sizes around the head
    # buffer's 1024 bytes make its final CRLF grow the buffer.
    [204, { "x-pad" => "p" * Integer(q) }, []]
  when "/string_status"
    ["201", { "content-type" => "text/plain" }, ["created\n"]]
  when "/rack3_multi"
    text("multi\n", 200, { "set-cookie" => ["a=1", "b=2"], "x-list" => ["x", "y"] })
  when "/rack2_multi"
    text("multi\n", 200, { "set-cookie" => "a=1\nb=2" })
  when "/empty_values"
    text("empty\n", 200, { "x-empty" => "", "x-arr" => ["", "a"], "x-joined" => "\na\n\nb\n" })
  when "/inject"
    text("injected\n", 200, { "x-evil" => "a\r\nset-cookie: evil=1" })
  when "/nul"
    text("nul\n", 200, { "x-nul" => "a\0b" })
  when "/badname"
    text("bad name\n", 200, { "bad name" => "x" })
  when "/symname"
    text("symbol name\n", 200, { "x-sym": "v" })
  when "/date"
    text("date\n", 200, { "date" => "yesterday", "connection" => "keep-alive" })
  when "/raise"
    raise ArgumentError, "boom from the app"
  when "/raise_each"
    [200, { "content-type" => "text/plain" }, Raising.new(q)]
  when "/close"
    [200, { "content-type" => "text/plain" }, Closing.new(q)]
  when "/continue"
    # Status 100 asks for the body of an "Expect: 100-continue" request
    # (the unicorn way); the server deletes HTTP_EXPECT and calls again.
    env["test.calls"] = env.fetch("test.calls", 0) + 1
    if env["HTTP_EXPECT"] =~ /\A100-continue\z/i
      [100, {}, []]
    else
      text("body=#{env['rack.input'].read} calls=#{env['test.calls']}\n")
    end
  when "/always100"
    [100, {}, []]
  when "/notarray"
    "not a response"
  when "/big_each"
    chunk = "x" * 65_536
    [200, { "content-type" => "text/plain" }, Parts.new(*Array.new(400, chunk))]
  else
    text("#{env['REQUEST_METHOD']} #{env['PATH_INFO']}\n")
  end
}
