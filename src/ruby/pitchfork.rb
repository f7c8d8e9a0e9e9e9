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

  # What the process knows about itself, as upstream defines it.
  # worker_nr, live_workers_count, fork_safe?, no_longer_fork_safe! and
  # shutting_down? are C methods (they read the shared worker table or the
  # worker's state).  workers_count is the configured worker_processes.
  module Info
    @workers_count = 0
    @kept_ios = {}

    class << self
      attr_accessor :workers_count

      # Keep io (an IO or anything with to_io) open through close_all_ios!.
      def keep_io(io)
        unless io.respond_to?(:to_io) && io.to_io.is_a?(IO)
          raise ArgumentError, "#{io.inspect} is not an IO"
        end

        @kept_ios[io] = io
      end

      def keep_ios(ios)
        ios.each { |io| keep_io(io) }
      end

      # Close every Ruby IO object but the standard streams and the kept
      # ones: for after_mold_fork and after_worker_fork, so that a child
      # does not share connections opened by its parent.  The server's own
      # descriptors are not Ruby IO objects and are not touched.
      def close_all_ios!
        keep = [$stdin, $stdout, $stderr, STDIN, STDOUT, STDERR]
        @kept_ios.each_value { |io| keep << io.to_io }
        keep = keep.compact.map(&:object_id)
        ObjectSpace.each_object(IO) do |io|
          next if keep.include?(io.object_id)
          next if io.closed?

          begin
            io.close
          rescue IOError, SystemCallError
            nil
          end
        end
      end
    end
  end

  # Memory of a process from /proc/PID/smaps_rollup, in kilobytes, as
  # upstream's Pitchfork::MemInfo (plus uss: private memory).
  class MemInfo
    attr_reader :rss, :pss, :uss, :shared_memory

    def initialize(pid = Process.pid)
      @pid = pid
      update
    end

    # Percent of the parent's resident memory this process still shares.
    def cow_efficiency(parent_meminfo)
      shared_memory.to_f / parent_meminfo.rss * 100.0
    end

    def update
      info = {}
      File.foreach("/proc/#{@pid}/smaps_rollup") do |line|
        key, value = line.split(":", 2)
        info[key.to_sym] = value.to_i if value && value.end_with?(" kB\n")
      end
      @rss = info.fetch(:Rss, 0)
      @pss = info.fetch(:Pss, 0)
      @uss = info.fetch(:Private_Clean, 0) + info.fetch(:Private_Dirty, 0)
      @shared_memory = info.fetch(:Shared_Clean, 0) + info.fetch(:Shared_Dirty, 0)
      self
    end
  end

  # env["pitchfork.worker"] and the worker argument of the hooks: nr (nil
  # for a mold), generation and pid; requests_count is C (it reads the
  # shared worker table).
  class Worker
    attr_reader :nr, :generation, :pid

    def initialize(nr, generation, pid = Process.pid)
      @nr = nr
      @generation = generation
      @pid = pid
    end

    def mold?
      nr.nil?
    end

    def service?
      false
    end

    def to_log
      mold? ? "mold gen=#{generation} pid=#{pid}" : "worker=#{nr} gen=#{generation} pid=#{pid}"
    end

    def inspect
      "#<Pitchfork::Worker nr=#{nr.inspect} gen=#{generation} pid=#{pid}>"
    end
  end

  # The service argument of before_service_worker_ready and
  # before_service_worker_exit, as upstream's: a worker without a number
  # (nr is nil) that serves no requests and is never a mold.
  class Service < Worker
    def initialize(generation, pid = Process.pid)
      super(nil, generation, pid)
    end

    def mold?
      false
    end

    def service?
      true
    end

    def to_log
      "service gen=#{generation} pid=#{pid}"
    end

    def inspect
      "#<Pitchfork::Service gen=#{generation} pid=#{pid}>"
    end
  end

  # The status argument of after_worker_exit: how a worker ended, with
  # the methods of Process::Status (which Ruby cannot build from a wait
  # status received from the monitor).
  class ExitStatus
    attr_reader :pid

    def initialize(pid, status)
      @pid = pid
      @status = status
    end

    def to_i
      @status
    end

    def exited?
      (@status & 0x7f).zero?
    end

    def signaled?
      !exited? && (@status & 0x7f) != 0x7f
    end

    def exitstatus
      exited? ? (@status >> 8) & 0xff : nil
    end

    def termsig
      signaled? ? @status & 0x7f : nil
    end

    def success?
      exited? ? exitstatus.zero? : nil
    end

    def inspect
      how = exited? ? "exit #{exitstatus}" : "signal #{termsig}"
      "#<Pitchfork::ExitStatus pid #{pid} #{how}>"
    end
    alias to_s inspect
  end

  # env["pitchfork.timeout"]: extend_deadline(seconds) and deadline are C
  # (they move this worker's deadline in the shared table).
  class TimeoutHandler
    # The timeout_info argument of after_worker_timeout: the thread that
    # runs the request and its Rack env, as upstream.
    class Info
      attr_reader :thread, :rack_env

      def initialize(thread, rack_env)
        @thread = thread
        @rack_env = rack_env
      end

      def copy_thread_variables!
        current = Thread.current
        @thread.keys.each { |key| current[key] = @thread[key] }
        @thread.thread_variables.each do |var|
          current.thread_variable_set(var, @thread.thread_variable_get(var))
        end
      end
    end

    def inspect
      "#<Pitchfork::TimeoutHandler>"
    end
  end

  # The server argument of the hooks.  The monitor is C and never runs
  # Ruby, so this is a small stand-in: the logger and the worker count.
  class Server
    def logger
      Pitchfork.logger || (@default_logger ||= default_logger)
    end

    def workers_count
      Info.workers_count
    end

    def inspect
      "#<Pitchfork::Server workers=#{workers_count}>"
    end

    private

    def default_logger
      require "logger"
      Logger.new($stderr)
    end
  end

  # Run the configuration file's hooks (called from C, which handles
  # their exceptions: see src/ruby/hooks.c).
  module Hooks
    class << self
      def hooks
        config = defined?(Configurator) ? Configurator.current : nil
        config ? config.hooks : {}
      end

      def defined_names
        hooks.keys.map(&:to_s)
      end

      def run(name, *args)
        hook = hooks[name]
        hook&.call(Pitchfork.server, *args)
      end

      # An exception of a hook, through the configured logger.
      def log_error(context, error)
        lines = ["#{context}: #{error.message} (#{error.class})"]
        lines.concat((error.backtrace || []).map { |l| "\tfrom #{l}" })
        Pitchfork.logger.error(lines.join("\n"))
      end
    end
  end

  # The soft timeout: a thread in each worker that sleeps until the
  # request's deadline (the shared table's, which extend_deadline moves),
  # then runs after_worker_timeout with the request's thread and env and
  # makes the worker exit: SystemExit is raised in the request's thread,
  # as upstream's Process.exit from its timeout thread does.  The worker
  # answers 500 if nothing was sent yet, runs before_worker_exit and
  # exits; the monitor SIGKILLs it at timeout + cleanup if it cannot.
  module SoftTimeout
    class << self
      def start(worker, timeout)
        @thread = Thread.new { watch(worker, timeout) }
        @thread.name = "pitchfork timeout"
        @thread
      end

      def stop
        @thread&.kill
        @thread = nil
      end

      private

      def watch(worker, timeout)
        loop do
          left = Info.__deadline_left
          if left.nil?
            sleep(timeout) # idle: a request starting now ends later
          elsif left.positive?
            # At most timeout: the deadline moves earlier once, when the
            # request head is in (header_timeout + timeout from accept,
            # then timeout from there), never past a sleep of timeout.
            sleep([left, timeout].min)
          else
            return fire(worker, Info.__current_env)
          end
        end
      end

      def fire(worker, env)
        Info.__timed_out!
        begin
          Pitchfork.logger&.error("#{worker.to_log} timed out, exiting")
          Hooks.run(:after_worker_timeout, worker,
                    TimeoutHandler::Info.new(Thread.main, env))
        rescue Exception => e # rubocop:disable Lint/RescueException
          Info.__hook_error("after_worker_timeout", e)
        end
        Thread.main.raise(SystemExit.new(false, "request timed out"))
      end
    end
  end

  class << self
    # The configuration file's logger, or nil.
    def logger
      config = defined?(Configurator) ? Configurator.current : nil
      config&.logger_object
    end

    # The server argument of every hook.
    def server
      @server ||= Server.new
    end

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
