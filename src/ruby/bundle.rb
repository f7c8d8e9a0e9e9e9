# frozen_string_literal: true
#
# The application's bundle, set up in every Ruby process that pitchfork
# boots (the mold, and the child that evaluates the configuration file)
# before pitchfork's own Ruby side requires rack: what "bundle exec"
# does, so that the Gemfile and its Gemfile.lock decide the version of
# every gem, rack included, and Bundler's settings (BUNDLE_PATH,
# BUNDLE_WITHOUT, BUNDLE_DEPLOYMENT, .bundle/config) apply.  Evaluated
# (by src/ruby/bundle.c) only when the working directory has a Gemfile or
# BUNDLE_GEMFILE names one.
#
# SPDX-License-Identifier: MIT

module Pitchfork
  module Bundle
    class << self
      # Set up the bundle of gemfile, relative to the working directory.
      # Returns [true, what was set up] or [false, why not]: Bundler's
      # own error, which names the Gemfile's problem (the missing gem,
      # the version conflict, the syntax error).  Other exceptions (no
      # Bundler at all) propagate.
      def setup(gemfile)
        path = File.expand_path(gemfile)
        # Absolute, for the app's subprocesses and a later bundler/setup.
        ENV["BUNDLE_GEMFILE"] = path
        require "bundler"
        error = activate
        return [false, "cannot set up the bundle of #{path}: #{error}"] if error

        rack = Gem.loaded_specs["rack"]
        unless rack
          return [false, "the bundle of #{path} has no rack gem: add " \
                         "gem \"rack\" to it (pitchfork loads rack itself)"]
        end

        [true, "bundle #{path} set up: rack #{rack.version}"]
      end

      private

      # Bundler.setup, quiet as bundler/setup keeps it; nil or the error.
      def activate
        Bundler.ui.silence { Bundler.setup }
        nil
      rescue Bundler::BundlerError => e
        hint = e.is_a?(Bundler::GemNotFound) ? "; run bundle install" : ""
        "#{e.message.strip} (#{e.class})#{hint}"
      ensure
        # Let RubyGems talk again in the app (as bundler/setup does).
        Gem::DefaultUserInteraction.ui = nil
      end
    end
  end
end
