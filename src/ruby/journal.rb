# frozen_string_literal: true
#
# The application's output as journal entries of their own.  Compiled
# into the binary and evaluated in the mold right after pitchfork.rb,
# only when the process logs to the journal (under systemd, or
# PITCHFORK_LOG=journal); off the journal nothing here runs.  The C
# methods of Pitchfork::Journal (enabled?, stream_fd?, write, flush, log)
# are in src/ruby/journal.c.
#
# - A write to STDOUT, STDERR or $stderr (rack.errors is $stderr) is one
#   entry per call, up to its last newline: info for standard output,
#   warning for standard error.  A partial line waits for the rest.
# - A Logger whose device is the standard output or error sends each
#   message as one entry with the priority of its severity.  With
#   Ruby's default formatter the entry is "progname: message" alone (the
#   journal has the time, the pid and the priority); a formatter the
#   application set is kept, less its trailing newline.
# - A stream reopened elsewhere, and a Logger on a file, are untouched.
#
# SPDX-License-Identifier: MIT

module Pitchfork
  module Journal
    # Logger#format_severity labels to syslog priorities, as Ruby's own
    # Syslog::Logger maps them.
    PRIORITIES = {
      "DEBUG" => 7, "INFO" => 6, "WARN" => 4, "ERROR" => 3, "FATAL" => 2,
      "ANY" => 1, "UNKNOWN" => 1
    }.freeze

    MODULE_NAME = Module.instance_method(:name)
    private_constant :MODULE_NAME

    # Prepended to the singleton classes of STDOUT, STDERR and $stderr.
    # Every IO#write variant (puts, print, <<, printf, p) ends here.
    module Output
      def write(*args)
        fd = fileno
        Journal.stream_fd?(fd) ? Journal.write(fd, args) : super
      end

      def flush
        Journal.flush(fileno) unless closed?
        super
      end
    end

    # Prepended to ::Logger.  Every Logger, ActiveSupport's included,
    # formats through format_message(severity_label, ...) right before
    # its LogDevice#write: the label gives the entry its priority.
    module LoggerFormat
      private

      def format_message(severity, datetime, progname, msg)
        dev = @logdev.respond_to?(:dev) ? @logdev.dev : nil
        return super unless Journal.device_fd(dev)

        text = @formatter ? super : Journal.plain_message(progname, msg)
        priority = PRIORITIES[severity]
        return text unless text.is_a?(String) && priority

        text = text.dup
        text.instance_variable_set(:@pitchfork_priority, priority)
        text
      end
    end

    # Prepended to ::Logger::LogDevice: a message formatted above is one
    # entry; anything else (Logger#<<) is a plain write.
    module LogDeviceWrite
      def write(message)
        if message.is_a?(String)
          priority = message.instance_variable_get(:@pitchfork_priority)
          fd = priority && Journal.device_fd(@dev)
          return true if fd && Journal.log(priority, message, fd)
        end
        super
      end
    end

    # Prepended to Process's singleton class: a partial line must not be
    # sent twice, by the parent and by the child.
    module ForkFlush
      def _fork
        Journal.flush
        super
      end
    end

    class << self
      # The descriptor (1 or 2) of dev when writes to it go to the
      # journal, else nil.
      def device_fd(dev)
        return nil unless dev.is_a?(IO) && !dev.closed?

        fd = dev.fileno
        stream_fd?(fd) ? fd : nil
      end

      # What Ruby's default Logger formatter says, without the time, the
      # pid and the severity that the entry already has.
      def plain_message(progname, msg)
        @msg2str ||= Class.new(::Logger::Formatter) { public :msg2str }.new
        text = @msg2str.msg2str(msg)
        progname ? "#{progname}: #{text}" : text
      end

      def hook_streams
        [STDOUT, STDERR].each { |io| io.singleton_class.prepend(Output) }
        Process.singleton_class.prepend(ForkFlush)
        at_exit { Journal.flush }
        return unless $stderr.equal?(STDERR) && stream_fd?(2)

        # Kernel#warn and Ruby's reports (a thread's exception) bypass
        # every Ruby method while $stderr is STDERR: a second IO on fd 2
        # as $stderr brings them through Output.
        err = IO.new(2, "w", autoclose: false)
        err.sync = true
        err.singleton_class.prepend(Output)
        $stderr = err
      end

      # Prepend to Logger and Logger::LogDevice now if they are loaded,
      # else when their class bodies open ("require 'logger'" by the
      # application, whenever it comes).
      def hook_logger
        hook_logger_class("Logger")
        hook_logger_class("Logger::LogDevice")
        return if @logger_hooked && @logdev_hooked

        @trace = TracePoint.new(:class) { |tp| hook_logger_class(tp.self) }
        @trace.enable
      end

      private

      # name_or_class: a class or module whose body opens, or the name of
      # one; names, not constants, are compared so that no autoload fires
      # from here, and with Module#name itself, which a class may redefine.
      def hook_logger_class(name_or_class)
        name = if name_or_class.is_a?(String)
                 name_or_class
               else
                 MODULE_NAME.bind_call(name_or_class)
               end
        if name == "Logger" && !@logger_hooked && logger_class?("Logger")
          ::Logger.prepend(LoggerFormat)
          @logger_hooked = true
        elsif name == "Logger::LogDevice" && !@logdev_hooked &&
              logger_class?("Logger::LogDevice")
          ::Logger::LogDevice.prepend(LogDeviceWrite)
          @logdev_hooked = true
        end
        @trace&.disable if @logger_hooked && @logdev_hooked
      end

      def logger_class?(path)
        Object.const_defined?(path, false) &&
          Object.const_get(path, false).is_a?(Class)
      rescue NameError
        false
      end
    end

    hook_streams
    hook_logger
  end
end
