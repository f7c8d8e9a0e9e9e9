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
    get "/boom" => "pages#boom"
  end
end

class PagesController < ActionController::API
  def index = render(plain: "hello from rails #{Rails.version}")
  def show = render(json: { id: params[:id].to_i, worker: request.env["pitchfork.worker"].nr })
  def create = render(json: { name: params[:name] }, status: :created)
  def boom = raise("boom")
end

PfTestApp.initialize!
run PfTestApp
