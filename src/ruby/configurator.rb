# frozen_string_literal: true
#
# The Ruby configuration file DSL, compatible with upstream pitchfork's
# config/pitchfork.rb.  It is evaluated twice: in a short-lived child of
# the monitor, which only reports the settings (the monitor stays free of
# Ruby), and in the mold, which keeps the hooks and the logger.
#
# SPDX-License-Identifier: MIT

module Pitchfork
  class Configurator
    HOOKS = %i[
      after_monitor_ready before_fork after_mold_fork after_worker_fork
      after_worker_ready after_worker_timeout after_worker_hard_timeout
      before_worker_exit after_worker_exit after_request_complete
      before_service_worker_ready before_service_worker_exit
    ].freeze

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

      def load(path)
        config = new(path)
        config.instance_eval(File.read(path), path, 1)
        self.current = config
      end
    end

    def initialize(path)
      @path = path
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

    def worker_processes(count)
      set_integer(:worker_processes, count)
    end

    def listen(address, options = {})
      address = address.to_s
      raise ArgumentError, "listen: address must not contain a comma: " \
                           "#{address.inspect}" if address.include?(",")
      @listen << address
      options.each do |key, value|
        if %i[backlog umask reuseport queues queues_per_worker].include?(key)
          send(:"listen_#{key}", value)
        elsif IGNORED_LISTEN_OPTIONS.include?(key)
          @warnings << "listen option #{key}: is not supported by this " \
                       "server and is ignored"
        else
          raise ArgumentError, "listen: unknown option #{key.inspect}"
        end
      end
    end

    def timeout(seconds, cleanup: nil)
      set_number(:timeout, seconds)
      set_number(:cleanup_timeout, cleanup) unless cleanup.nil?
    end

    def spawn_timeout(seconds)
      set_number(:spawn_timeout, seconds)
    end

    def refork_after(limits)
      limits = Array(limits)
      unless limits.each_with_index.all? { |v, i| v.is_a?(Integer) || (v == false && i == limits.size - 1) }
        raise ArgumentError, "refork_after: expected an Array of Integers, " \
                             "optionally ending with false, got " \
                             "#{limits.inspect}"
      end
      @settings[:refork_after] = limits.map { |v| v == false ? "false" : v }.join(",")
    end

    def refork_max_unavailable(count)
      set_integer(:refork_max_unavailable, count)
    end

    def max_consecutive_spawn_errors(count)
      set_integer(:max_consecutive_spawn_errors, count)
    end

    def client_body_buffer_size(bytes)
      set_integer(:client_body_buffer_size, bytes)
    end

    %i[early_hints rewindable_input check_client_connection mold_compact
       setpgid].each do |name|
      define_method(name) do |value|
        unless value == true || value == false
          raise ArgumentError, "#{name}: expected true or false, got " \
                               "#{value.inspect}"
        end
        @settings[name] = value
      end
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

    # listen options that are settings for every listener this server
    # binds (the last one given applies).
    def listen_backlog(value)
      set_integer(:backlog, value)
    end

    def listen_umask(value)
      unless value.is_a?(Integer) && value.between?(0, 0o777)
        raise ArgumentError, "listen: umask: expected an Integer from 0 " \
                             "to 0777, got #{value.inspect}"
      end
      @settings[:listen_umask] = format("%04o", value)
    end

    def listen_reuseport(value)
      unless value == true || value == false
        raise ArgumentError, "listen: reuseport: expected true or false, " \
                             "got #{value.inspect}"
      end
      @settings[:listen_reuseport] = value
    end

    def listen_queues(value)
      set_integer(:listen_queues, value)
    end

    def listen_queues_per_worker(value)
      set_integer(:listen_queues_per_worker, value)
    end

    def set_integer(name, value)
      unless value.is_a?(Integer)
        raise ArgumentError, "#{name}: expected an Integer, got " \
                             "#{value.inspect}"
      end
      @settings[name] = value
    end

    def set_number(name, value)
      unless value.is_a?(Numeric)
        raise ArgumentError, "#{name}: expected a number of seconds, got " \
                             "#{value.inspect}"
      end
      @settings[name] = value
    end
  end
end
