# frozen_string_literal: true
# The other test apps mounted side by side, for a request mix that goes
# through Rack::Lint (the server adds it when RACK_ENV is development) and
# Rack::URLMap (SCRIPT_NAME and PATH_INFO rewritten).
# SPDX-License-Identifier: MIT

dir = __dir__
load_app = lambda do |name|
  app = Rack::Builder.parse_file(File.join(dir, name))
  app.is_a?(Array) ? app.first : app
end

map("/env") { run load_app.call("env.ru") }
map("/input") { run load_app.call("input.ru") }
map("/response") { run load_app.call("response.ru") }
map("/hijack") { run load_app.call("hijack.ru") }
run ->(_env) { [404, { "content-type" => "text/plain" }, ["no such app\n"]] }
