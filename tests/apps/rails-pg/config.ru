# A small Rails application on PostgreSQL (Debian's ruby-rails and
# ruby-pg: Rails 6.1 on Debian 12, 7.2 on Debian 13): one model, Row,
# whose table tests/rails-pg.sh creates, an action that writes a row and
# two that read rows, one of them from the replica (the reading role of
# config/database.yml).  At boot the app counts the rows on both roles,
# as applications that read a setting or load the schema at boot do: so
# the mold has connections open before it forks.
# SPDX-License-Identifier: MIT
require "rails"
require "active_record/railtie"
require "action_controller/railtie"

class PfPgApp < Rails::Application
  config.root = __dir__
  config.eager_load = true
  config.logger = Logger.new($stderr, level: :warn)
  # Without load_defaults, Rails 6.1 and 7.0 keep the legacy connection
  # handling: a connection handler of its own for each role.
  config.load_defaults Rails::VERSION::STRING.to_f unless ENV["PF_LEGACY_HANDLING"]
  config.secret_key_base = "x" * 64
  config.hosts.clear
  config.api_only = true
  routes.append do
    post "/rows" => "rows#create"
    get "/rows/:key" => "rows#show"
    get "/rows" => "rows#index"
  end
end

class RowsController < ActionController::API
  # 201 once the row is committed.
  def create
    row = Row.create!(key: params.require(:key), pid: Process.pid)
    render(json: { key: row.key, id: row.id }, status: :created)
  end

  def show
    row = ActiveRecord::Base.connected_to(role: :reading) { Row.find_by(key: params[:key]) }
    return head(:not_found) unless row

    render(json: { key: row.key, pid: row.pid })
  end

  # The count and the last keys written.
  def index
    render(json: { count: Row.count, last: Row.order(id: :desc).limit(5).pluck(:key) })
  end
end

PfPgApp.initialize!

class ApplicationRecord < ActiveRecord::Base
  self.abstract_class = true
  connects_to database: { writing: :primary, reading: :primary_replica }
end

class Row < ApplicationRecord
end

Row.count
ActiveRecord::Base.connected_to(role: :reading) { Row.count }
run PfPgApp
