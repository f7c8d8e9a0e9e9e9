# frozen_string_literal: true
# Hijacking, early hints, after-reply callbacks and the timeout object.
# SPDX-License-Identifier: MIT

# Write path whole: the test waits for the file to exist, so it must
# never see it created but still empty.
def publish(path, content)
  File.write("#{path}.tmp", content)
  File.rename("#{path}.tmp", path)
end

def text(body)
  [200, { "content-type" => "text/plain" }, [body]]
end

run lambda { |env|
  q = env["QUERY_STRING"]
  case env["PATH_INFO"]
  when "/full"
    io = env["rack.hijack"].call
    io.write("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nhijack\n")
    io.close
    [200, {}, []]
  when "/partial"
    hijack = lambda do |io|
      io.write("partial hijack\n")
      io.close
    end
    [200, { "content-type" => "text/plain", "rack.hijack" => hijack }, []]
  when "/upgrade"
    # 101 is a valid final status: the head, then the new protocol.
    hijack = lambda do |io|
      io.write("new protocol\n")
      io.close
    end
    head = { "upgrade" => "example", "rack.hijack" => hijack }
    head["connection"] = "Upgrade" if env["QUERY_STRING"] == "conn"
    [101, head, []]
  when "/hints"
    env["rack.early_hints"]&.call({ "link" => "</style.css>; rel=preload; as=style" })
    text("after hints\n")
  when "/after_reply"
    env["rack.after_reply"] << -> { publish(q, "after_reply ran") }
    text("replied\n")
  when "/finished"
    env["rack.response_finished"] << lambda do |e, status, _headers, error|
      publish(q, "#{status} #{error.class} #{e['PATH_INFO']}")
    end
    raise "failing request" if env["HTTP_X_FAIL"]

    text("finished\n")
  when "/timeout"
    t = env["pitchfork.timeout"]
    d1 = t.deadline
    t.extend_deadline(5)
    text("#{(t.deadline - d1).round}\n")
  else
    text("hijack app\n")
  end
}
