# frozen_string_literal: true
# Answers with the Rack env as JSON: strings as they are, other objects as
# their class name, plus what the app can ask the server.
# SPDX-License-Identifier: MIT
require "json"

run lambda { |env|
  out = {}
  env.each do |k, v|
    out[k] = case v
             when String then v
             when true, false, nil, Integer then v
             when Array then v.map { |e| e.is_a?(String) || e.is_a?(Integer) ? e : e.class.name }
             else v.class.name
             end
  end
  out["_encoding.PATH_INFO"] = env["PATH_INFO"]&.encoding&.name
  out["_worker_nr"] = Pitchfork::Info.worker_nr
  w = env["pitchfork.worker"]
  out["_worker"] = [w.nr, w.generation, w.requests_count]
  out["_input"] = env["rack.input"].read
  out["_errors_is_stderr"] = env["rack.errors"].equal?($stderr) || env["rack.errors"].class.name
  body = JSON.generate(out)
  [200, { "content-type" => "application/json" }, [body]]
}
