# frozen_string_literal: true
# A Sinatra app (Debian's ruby-sinatra: 3 with Rack 2 on Debian 12, 4
# with Rack 3 on Debian 13) with a few routes.
# SPDX-License-Identifier: MIT
require "sinatra/base"
require "json"

class SinatraTest < Sinatra::Base
  set :show_exceptions, false

  get("/") { "hello from sinatra\n" }
  get("/hello/:name") { "hello #{params[:name]}\n" }
  get("/query") { "q=#{params['q']}\n" }
  # Parsing the form reads rack.input to its end; Rack 2 rewinds it
  # afterwards, Rack 3 does not (its rack.input need not be rewindable):
  # with both, the bytes read are in rack.request.form_vars.
  post("/echo") do
    a = params["a"]
    "#{request.env['rack.request.form_vars'].bytesize} #{a}\n"
  end
  post("/json") do
    content_type :json
    data = JSON.parse(request.body.read)
    JSON.generate(name: data["name"], size: request.content_length.to_i)
  end
  post("/upload") do
    file = params[:file]
    "#{file[:filename]} #{file[:tempfile].size} #{file[:tempfile].read(4)}\n"
  end
  get("/json") do
    content_type :json
    JSON.generate(worker: Pitchfork::Info.worker_nr, path: request.path)
  end
  get("/redirect") { redirect to("/") }
  get("/teapot") { halt 418, "short and stout\n" }
  get("/stream") do
    stream do |out|
      out << "part one\n"
      out << "part two\n"
    end
  end
  # After the response: the status and the error, written to the file
  # named by the query string.
  get("/finished") do
    path = request.query_string
    env["rack.response_finished"] << lambda do |_env, status, _headers, error|
      File.write(path, "#{status} #{error.inspect}")
    end
    "finishing\n"
  end
  get("/boom") { raise "sinatra boom" }
  not_found { "nothing here\n" }
end

run SinatraTest
