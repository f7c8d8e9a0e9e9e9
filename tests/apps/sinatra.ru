# frozen_string_literal: true
# A Sinatra app (Debian's ruby-sinatra) with a few routes.
# SPDX-License-Identifier: MIT
require "sinatra/base"
require "json"

class SinatraTest < Sinatra::Base
  set :show_exceptions, false

  get("/") { "hello from sinatra\n" }
  get("/hello/:name") { "hello #{params[:name]}\n" }
  get("/query") { "q=#{params['q']}\n" }
  post("/echo") { "#{request.body.read.bytesize} #{params['a']}\n" }
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
  get("/boom") { raise "sinatra boom" }
  not_found { "nothing here\n" }
end

run SinatraTest
