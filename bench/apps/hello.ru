# The throughput benchmark's app: examples/hello/config.ru with an explicit
# Content-Length, so that every server sends the same framing (unicorn and
# puma do not add one, and wrk then reads each body until EOF).
# SPDX-License-Identifier: MIT
HELLO = "Hello\n".freeze
HEADERS = { "content-type" => "text/plain",
            "content-length" => HELLO.bytesize.to_s }.freeze
run lambda { |_env| [200, HEADERS.dup, [HELLO]] }
