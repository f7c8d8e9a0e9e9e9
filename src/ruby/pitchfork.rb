# frozen_string_literal: true
#
# The Ruby side of pitchfork, compiled into the binary and evaluated once
# in the mold right after the VM starts (before the app loads).  The
# request path itself is C; this file holds what is easier to say in Ruby:
# the app loading, the error classes the app can rescue, and the objects
# the app sees (Pitchfork::Info, env["pitchfork.worker"],
# env["pitchfork.timeout"]), whose live parts are C methods added right
# after this file is evaluated.
#
# SPDX-License-Identifier: MIT

require "rack"
require "socket"
require "stringio"
# Rack::Lint 2.2 calls URI.parse without requiring uri.
require "uri"

$stdout.sync = true
$stderr.sync = true

module Pitchfork
  # Raised by rack.input when the client closes the connection (or stops
  # sending) before the whole body arrived.  Rescue EOFError, not this.
  ClientShutdown = Class.new(EOFError)

  # Raised by rack.input on a malformed chunked request body.
  HttpParserError = Class.new(IOError)

  # Rack before 3.2 wants PATH_INFO to start with "/": an asterisk-form
  # request ("OPTIONS *") gets no PATH_INFO, as upstream pitchfork does.
  PATH_INFO_REQUIRES_LEADING_SLASH =
    Gem::Version.new(Rack.release) < Gem::Version.new("3.2.0")

  # env["rack.version"]
  RACK_VERSION =
    if defined?(Rack::VERSION) && Rack::VERSION.is_a?(Array)
      Rack::VERSION.dup.freeze
    else
      [1, 3].freeze
    end

  # What the process knows about itself.  worker_nr, fork_safe? and
  # no_longer_fork_safe! are C methods.
  module Info
    @workers_count = 0

    class << self
      attr_accessor :workers_count
    end
  end

  # env["pitchfork.worker"]: nr and generation; requests_count is C (it
  # reads the shared worker table).
  class Worker
    attr_reader :nr, :generation

    def initialize(nr, generation)
      @nr = nr
      @generation = generation
    end

    def to_log
      "worker=#{nr} gen=#{generation}"
    end

    def inspect
      "#<Pitchfork::Worker nr=#{nr} gen=#{generation}>"
    end
  end

  # env["pitchfork.timeout"]: extend_deadline(seconds) and deadline are C
  # (they move this worker's deadline in the shared table).
  class TimeoutHandler
    def inspect
      "#<Pitchfork::TimeoutHandler>"
    end
  end

  class << self
    # The Rack app of the rackup file at path, for Rack 2 (parse_file
    # returns [app, options]) and Rack 3 (it returns app).  Upstream
    # pitchfork wraps every app in Rack::ContentLength, its Chunked and
    # Rack::TempfileReaper (the C server does those three itself) and adds
    # Rack::Lint when RACK_ENV is "development".
    def load_app(path)
      app = Rack::Builder.parse_file(path)
      app = app.first if app.is_a?(Array)
      app = Rack::Lint.new(app) if ENV["RACK_ENV"] == "development"
      app
    end
  end
end
