# frozen_string_literal: true
#
# The Ruby configuration file DSL, compatible with upstream pitchfork's
# config/pitchfork.rb.  It is evaluated twice: in a short-lived child of
# the monitor, which only reports the settings (the monitor stays free of
# Ruby), and in the mold, which keeps the hooks and the logger.
#
# SPDX-License-Identifier: MIT

module Pitchfork
  # The DSL's words come from the C tables through Pitchfork::ConfigDSL
  # (src/ruby/config_dsl.c): a setter for each row of the settings table
  # with a DSL method (src/core/settings_table.c), the options of listen
  # and timeout, and the hooks (src/ruby/hooks.h).  ConfigDSL.encode
  # checks a value's Ruby type against its row; the monitor checks the
  # value itself, with the parsers flags and variables go through.
  class Configurator
    HOOKS = ConfigDSL.hooks.freeze

    # listen options that set settings for every listener this server
    # binds (the last one given applies).
    LISTEN_OPTIONS = ConfigDSL.options(:listen).freeze

    # listen options upstream has that this server does not implement.
    IGNORED_LISTEN_OPTIONS = %i[
      rcvbuf sndbuf tcp_nopush tcp_nodelay tcp_defer_accept ipv6only
      delay tries
    ].freeze

    attr_reader :path, :settings, :hooks, :warnings
    attr_accessor :logger_object

    class << self
      # The configuration loaded in this process, or nil.
      attr_accessor :current

      # SETTINGS_CHILD: evaluated for the monitor's settings (see
      # working_directory).
      def load(path, settings_child = false)
        config = new(path, settings_child)
        config.instance_eval(File.read(path), path, 1)
        self.current = config
      end
    end

    def initialize(path, settings_child = false)
      @path = path
      @settings_child = settings_child
      @settings = {}
      @hooks = {}
      @warnings = []
      @listen = []
    end

    # "name\tvalue\n" lines for the monitor's settings table.
    def settings_lines
      lines = @settings.map { |name, value| "#{name}\t#{value}\n" }
      lines << "listen\t#{@listen.join(',')}\n" unless @listen.empty?
      lines.join
    end

    def listen(address, options = {})
      @listen << ConfigDSL.encode(:listen, address.to_s).last
      options.each do |key, value|
        if LISTEN_OPTIONS.include?(key)
          set(:listen, value, key)
        elsif IGNORED_LISTEN_OPTIONS.include?(key)
          @warnings << "listen option #{key}: is not supported by this " \
                       "server and is ignored"
        else
          raise ArgumentError, "listen: unknown option #{key.inspect}"
        end
      end
    end

    def timeout(seconds, cleanup: nil)
      set(:timeout, seconds)
      set(:timeout, cleanup, :cleanup) unless cleanup.nil?
    end

    # Like unicorn's, it binds when read: in the child that reports the
    # settings, the rest of the file runs in that directory, and the
    # monitor is told its absolute name (relative to the directory the
    # server was started in, as named, which is $PWD there).  The mold
    # evaluates the file already in it: the monitor has settled it.
    def working_directory(dir)
      set(:working_directory, dir)
      return unless @settings_child

      dir = File.expand_path(dir, ENV.fetch("PWD", Dir.pwd))
      begin
        Dir.chdir(dir)
      rescue SystemCallError => e
        raise ArgumentError, "working_directory #{dir}: chdir: " \
                             "#{SystemCallError.new(nil, e.errno).message}"
      end
      ENV["PWD"] = dir
      @settings[:working_directory] = dir
    end

    # The setters of one value: every other DSL method of the table.
    (ConfigDSL.setters - instance_methods(false)).each do |method|
      define_method(method) { |value| set(method, value) }
    end

    def logger(object)
      %i[debug info warn error fatal].each do |m|
        next if object.respond_to?(m)
        raise ArgumentError, "logger: #{object.inspect} does not respond " \
                             "to #{m}"
      end
      @logger_object = object
    end

    HOOKS.each do |hook|
      define_method(hook) do |callable = nil, &block|
        callable ||= block
        unless callable.respond_to?(:call)
          raise ArgumentError, "#{hook}: expected a block or a callable"
        end
        @hooks[hook] = callable
      end
    end

    private

    # Record the setting of DSL method (or of its option) for the
    # monitor; raises ArgumentError when value has the wrong type.
    def set(method, value, option = nil)
      name, text = ConfigDSL.encode(method, value, option)
      @settings[name] = text
    end
  end
end
