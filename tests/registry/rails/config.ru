# A minimal Rails 8 API application in one file, served with the Rails
# of its Gemfile (see tests/registry-gems.sh).
# SPDX-License-Identifier: MIT
require "rails"
require "action_controller/railtie"

class RegistryApp < Rails::Application
  config.load_defaults 8.0
  config.root = __dir__
  config.eager_load = true
  config.logger = Logger.new($stderr)
  config.log_level = :warn
  config.secret_key_base = "x" * 64
  config.hosts.clear
  config.api_only = true
  routes.append do
    get "/" => "pages#index"
    post "/items" => "pages#create"
  end
end

class PagesController < ActionController::API
  # The Rails and the Rack the application sees, and where Rails is from.
  def index
    render(plain: "#{Rails.version} #{Rack.release} " \
                  "#{Gem.loaded_specs.fetch("railties").full_gem_path}")
  end

  def create = render(json: { name: params[:name] }, status: :created)
end

RegistryApp.initialize!
run RegistryApp
