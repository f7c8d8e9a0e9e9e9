# A small Rails API application (Debian's ruby-rails: 6.1 with Rack 2 on
# Debian 12, 7.2 with Rack 3 on Debian 13): JSON, a form, a file upload,
# a streamed body (ActionController::Live), rack.response_finished.
# SPDX-License-Identifier: MIT
require "rails"
require "action_controller/railtie"

class PfTestApp < Rails::Application
  config.root = __dir__
  config.eager_load = true
  config.logger = Logger.new($stderr, level: :warn)
  config.secret_key_base = "x" * 64
  config.hosts.clear
  config.api_only = true
  routes.append do
    get "/" => "pages#index"
    get "/items/:id" => "pages#show"
    post "/items" => "pages#create"
    post "/form" => "pages#form"
    post "/upload" => "pages#upload"
    get "/finished" => "pages#finished"
    get "/stream" => "streams#show"
    get "/boom" => "pages#boom"
  end
end

class PagesController < ActionController::API
  def index = render(plain: "hello from rails #{Rails.version}")
  def show = render(json: { id: params[:id].to_i, worker: request.env["pitchfork.worker"].nr })
  def create = render(json: { name: params[:name] }, status: :created)
  def form = render(plain: "a=#{params[:a]} b=#{params[:b]}")
  def boom = raise("boom")

  def upload
    file = params[:file]
    render(plain: "#{file.original_filename} #{file.size} #{file.read(4)}")
  end

  # After the response: its status and error, in the file the query names.
  def finished
    path = request.query_string
    request.env["rack.response_finished"] << lambda do |_env, status, _headers, error|
      File.write(path, "#{status} #{error.inspect}")
    end
    render(plain: "finishing")
  end
end

# Each write goes to the client as it is made.
class StreamsController < ActionController::API
  include ActionController::Live

  def show
    response.headers["content-type"] = "text/plain"
    response.stream.write("part one\n")
    response.stream.write("part two\n")
  ensure
    response.stream.close
  end
end

PfTestApp.initialize!
run PfTestApp
