# The application of tests/journal.sh: it writes to every output that
# becomes journal entries under PITCHFORK_LOG=journal.
#   /logger   Logger messages to $stdout and STDERR (one below the
#             logger's level), a custom formatter, a file logger, <<
#   /streams  $stdout, $stderr, STDERR, print in two calls, a two-line
#             puts, warn, rack.errors; and a forked child that reopens
#             $stdout onto JOURNAL_TEST_FILE
#   /raise    an exception (a 500 and its backtrace in the log)
#   /thread   a thread that dies of an exception (Ruby reports it)
#   /io       what apps ask of the standard streams
# Logger is required here, after the server's boot (unless RUBYOPT
# loaded it first).
# SPDX-License-Identifier: MIT
require "logger"

FILE = ENV.fetch("JOURNAL_TEST_FILE")
LOG = Logger.new($stdout, level: Logger::INFO)
PROG = Logger.new(STDERR, progname: "prog")
CUSTOM = Logger.new($stdout, formatter: proc { |sev, _t, _p, msg| "custom #{sev} #{msg}\n" })
FILE_LOG = Logger.new(FILE)

def streams(env)
  $stdout.puts "stdout-marker"
  $stderr.puts "stderr-marker"
  STDERR.write "const-marker\n"
  print "part1-marker "
  print "part2\n"
  $stderr.puts "two-marker\nlines"
  warn "warn-marker"
  env["rack.errors"].puts "rack-errors-marker"
  pid = fork do
    $stdout.reopen(FILE, "a")
    $stdout.puts "reopened-marker"
    $stdout.flush # reopen took "a" for the mode, without sync
    exit!(0)
  end
  Process.wait(pid)
end

run lambda { |env|
  case env["PATH_INFO"]
  when "/logger"
    LOG.debug("debug-marker")
    LOG.info("info-marker")
    LOG.error("error-marker")
    LOG.warn("multi-marker line 1\nline 2")
    PROG.fatal("fatal-marker")
    CUSTOM.warn("custom-marker")
    FILE_LOG.error("file-marker")
    LOG << "raw-marker\n"
  when "/streams" then streams(env)
  when "/raise" then raise ArgumentError, "boom-marker"
  when "/thread"
    t = Thread.new { raise ArgumentError, "thread-marker" }
    begin
      t.join
    rescue ArgumentError
      nil # reported on $stderr by Ruby already
    end
  when "/io"
    body = [STDOUT.fileno, $stderr.fileno, STDERR.fileno, $stdout.sync,
            $stderr.sync, $stdout.tty?].join(" ")
    return [200, { "content-type" => "text/plain" }, [body]]
  end
  [200, { "content-type" => "text/plain" }, ["ok\n"]]
}
